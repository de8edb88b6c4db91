"""Exact O(N^2) repulsion (small N, and the reference for the approximations)."""
import numpy as np

from .._ext import _exact
from .base import NegativeGradient

__all__ = ["ExactGradient", "MAX_EXACT_SAMPLES"]

#: Above this many points one exact iteration takes seconds and a run hours: refuse.
MAX_EXACT_SAMPLES = 30_000


class ExactGradient(NegativeGradient):
    """Sum over all pairs, parallel over points; no parameters."""

    name = "exact"
    max_components = 16

    def __init__(self):
        self._z = None

    def __call__(self, Y, dof, out, n_jobs=1):
        n = Y.shape[0]
        if n > MAX_EXACT_SAMPLES:
            raise ValueError(f"negative_gradient_method='exact' is O(N^2) and would take hours at "
                             f"N={n} (limit {MAX_EXACT_SAMPLES}); use 'fft' or 'bh'.")
        if self._z is None or self._z.shape[0] != n:
            self._z = np.empty(n, dtype=np.float64)
        return _exact.negative_gradient(Y, float(dof), out, self._z, n_jobs)
