"""Exact O(N^2) repulsion (small N, and the reference for the approximations)."""
import numpy as np

from .._ext import _exact
from .._validation import check_positive
from .base import NegativeGradient, ReferenceRepulsion, reference_positions

__all__ = ["ExactGradient", "ExactReference", "MAX_EXACT_SAMPLES"]

#: Above this many points one exact iteration takes seconds and a run hours: refuse.
MAX_EXACT_SAMPLES = 30_000

#: The reference variant works on blocks of (new points x reference points) pair values;
#: this bounds one block (in pairs, 8 bytes each, a few temporaries at a time).
_REFERENCE_BLOCK_PAIRS = 1 << 21


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

    def reference(self, Y_ref, dof, n_jobs=1):
        """Exact O(M * N_ref) repulsion of ``Y_ref`` on new points (nothing to build: ``n_jobs``
        is not used); see the base class."""
        return ExactReference(Y_ref, dof)


class ExactReference(ReferenceRepulsion):
    """Exact repulsion of a fixed reference on new points (numpy, in blocks of rows).

    Every row is computed with the same operations whatever the block it falls in (sums run
    along a contiguous axis of one row), so a batch equals its points one by one, exactly.

    Parameters
    ----------
    Y_ref : (N_ref, d) array, copied
    dof : float > 0
    """

    def __init__(self, Y_ref, dof):
        self.Y_ref = reference_positions(Y_ref, ExactGradient.max_components)
        self.n_components = self.Y_ref.shape[1]
        self.dof = float(check_positive(dof, "dof"))

    def __call__(self, Y_new, out, z_out, n_jobs=1):
        self._check_call(Y_new, out, z_out)
        n_ref, d = self.Y_ref.shape
        step = max(1, _REFERENCE_BLOCK_PAIRS // n_ref)
        for a in range(0, Y_new.shape[0], step):
            b = min(a + step, Y_new.shape[0])
            diffs = [Y_new[a:b, k, None] - self.Y_ref[None, :, k] for k in range(d)]
            d2 = np.zeros((b - a, n_ref))
            # a square past float64's range is inf, whose kernel is 0: the objective then
            # reports a divergence (every kernel value 0) rather than this warning
            with np.errstate(over="ignore"):
                for diff in diffs:
                    d2 += diff * diff
            if self.dof == 1.0:
                w = 1.0 / (1.0 + d2)
                wq = w * w
            else:
                base = 1.0 + d2 / self.dof
                w = base ** -self.dof
                wq = w / base
            z_out[a:b] = w.sum(axis=1)
            for k, diff in enumerate(diffs):
                out[a:b, k] = (wq * diff).sum(axis=1)
