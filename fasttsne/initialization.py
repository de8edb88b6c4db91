"""Initial positions: PCA (default), random, or a user array.

Following Kobak & Berens (2019), PCA and random initialisations are scaled so the first
coordinate has standard deviation 1e-4: small enough that early exaggeration, not the
initial scale, decides the layout.
"""
import numpy as np
import scipy.sparse as sp

from ._validation import check_positions, check_random_state

__all__ = ["pca", "principal_axes", "random", "rescale", "initial_positions", "TARGET_STD"]

#: Standard deviation of the first coordinate after rescaling.
TARGET_STD = 1e-4
#: Entries (rows x features) of one float64 block of X while forming the covariance: 16 MiB.
_BLOCK_ENTRIES = 2 ** 21


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
    step = max(1, _BLOCK_ENTRIES // max(D, 1))  # rows per block
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


def principal_axes(X, n_components):
    """Mean and first principal axes of ``X`` (N, D), dense or sparse; X is only read.

    The covariance (D x D) is formed in blocks of at most ``_BLOCK_ENTRIES`` float64 entries,
    so no centred copy of X is made. Each axis's sign is fixed (largest-magnitude loading
    positive) so the result does not depend on the eigen-solver.

    Returns
    -------
    mean : (D,) float64
    axes : (D, m) float64, m = min(n_components, D), by decreasing variance
    variances : (m,) float64
    """
    n, D = X.shape
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        cov = np.asarray((X.T @ X).todense(), dtype=np.float64) / n - np.outer(mean, mean)
    else:
        step = max(1, _BLOCK_ENTRIES // max(D, 1))
        mean = X.mean(axis=0, dtype=np.float64)
        cov = np.zeros((D, D))
        for s in range(0, n, step):
            b = np.asarray(X[s:s + step], dtype=np.float64) - mean
            cov += b.T @ b
        cov /= n
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:min(n_components, D)]
    V = evecs[:, order]
    V *= np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(V.shape[1])])
    return mean, V, evals[order]


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
