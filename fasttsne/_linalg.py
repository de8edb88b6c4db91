"""Linear algebra shared by the initialisation and the neighbour search's projection."""
import numpy as np
import scipy.sparse as sp

__all__ = ["principal_axes", "BLOCK_ENTRIES"]

#: Entries (rows x features) of one float64 block of X while forming the covariance: 16 MiB,
#: so that no centred copy of a large X is made.
BLOCK_ENTRIES = 2 ** 21


def principal_axes(X, n_components):
    """Mean and first principal axes of ``X`` (N, D), dense or sparse; X is only read.

    The covariance (D x D) is formed in blocks of at most ``BLOCK_ENTRIES`` float64 entries,
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
        step = max(1, BLOCK_ENTRIES // max(D, 1))
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
