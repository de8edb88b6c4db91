"""Initial positions: PCA (default), random, or a user array.

Following Kobak & Berens (2019), PCA and random initialisations are scaled so the first
coordinate has standard deviation 1e-4: small enough that early exaggeration, not the
initial scale, decides the layout.
"""
import numpy as np

from ._linalg import BLOCK_ENTRIES, principal_axes
from ._validation import check_positions, check_random_state

__all__ = ["pca", "principal_axes", "random", "rescale", "initial_positions", "TARGET_STD"]

#: Standard deviation of the first coordinate after rescaling.
TARGET_STD = 1e-4


def rescale(Y, target_std=TARGET_STD):
    """Return ``Y`` scaled so its first column has standard deviation ``target_std``."""
    std = np.std(Y[:, 0])
    if std == 0 or not np.isfinite(std):
        return Y
    return Y * (target_std / std)


def random(n_samples, n_components, random_state=None):
    """Gaussian positions with standard deviation ``TARGET_STD``: (n_samples, n_components) float64."""
    rng = check_random_state(random_state)
    return rng.normal(0.0, TARGET_STD, size=(n_samples, n_components))


def pca(X, n_components, random_state=None):
    """Project ``X`` onto its first principal components and rescale.

    The axes come from :func:`principal_axes` (blockwise covariance, signs fixed); the
    projection is blockwise too. Components the data does not have (D < n_components, or
    constant data) are filled with small Gaussian noise.

    Returns
    -------
    (N, n_components) float64
    """
    n, D = X.shape
    step = max(1, BLOCK_ENTRIES // max(D, 1))  # rows per block
    mean, V, variances = principal_axes(X, n_components)
    m = V.shape[1]
    Y = np.empty((n, n_components))
    for s in range(0, n, step):
        b = X[s:s + step]
        Y[s:s + step, :m] = (b @ V) - mean @ V
    useful = variances > 1e-12 * max(variances.max(initial=0.0), 1e-300)
    rng = check_random_state(random_state)
    if not useful.all() or m < n_components:
        # degenerate directions: small noise keeps points distinct without choosing a layout
        start = int(useful.sum())
        scale = np.std(Y[:, 0]) if start > 0 else 1.0
        Y[:, start:] = rng.normal(0.0, scale if scale > 0 else 1.0, size=(n, n_components - start))
    return rescale(Y)


def initial_positions(initialization, X, n_components, random_state=None):
    """Resolve ``initialization`` ("pca", "random" or an (N, n_components) array) to positions."""
    n = X.shape[0]
    if isinstance(initialization, str):
        if initialization == "pca":
            return pca(X, n_components, random_state)
        if initialization == "random":
            return random(n, n_components, random_state)
        raise ValueError(f"unknown initialization {initialization!r}; use 'pca', 'random' or an array "
                         f"of shape ({n}, {n_components}).")
    return check_positions(initialization, n, n_components)
