"""Linear algebra shared by the initialisation and the neighbour search's projection."""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds

__all__ = ["principal_axes", "BLOCK_ENTRIES", "COVARIANCE_MAX_FEATURES"]

#: Entries (rows x features) of one float64 block of X while forming the covariance: 16 MiB,
#: so that no centred copy of a large X is made.
BLOCK_ENTRIES = 2 ** 21
#: Up to this many features the axes are the eigenvectors of the D x D covariance; above,
#: its O(D^3) eigen-decomposition (and, for sparse X, the dense covariance itself) would
#: dominate, and a truncated SVD of the implicitly centred X is used instead.
COVARIANCE_MAX_FEATURES = 1000


def principal_axes(X, n_components):
    """Mean and first principal axes of ``X`` (N, D), dense or sparse; X is only read.

    Up to ``COVARIANCE_MAX_FEATURES`` features the covariance (D x D) is formed in blocks of
    at most ``BLOCK_ENTRIES`` float64 entries, so no centred copy of X is made; with more,
    the leading singular vectors of the centred X are found by ARPACK (a fixed start
    vector, so the result is reproducible) through products with X and X.T only, which
    neither densifies a sparse X nor forms the covariance. Each axis's sign is fixed
    (largest-magnitude loading positive) so the result does not depend on the solver.

    Returns
    -------
    mean : (D,) float64
    axes : (D, m) float64, m = min(n_components, D), by decreasing variance
    variances : (m,) float64
    """
    n, D = X.shape
    if D > COVARIANCE_MAX_FEATURES and min(n, D) > n_components + 1:
        return _truncated_axes(X, n_components)
    if sp.issparse(X):
        mean = np.asarray(X.mean(axis=0)).ravel()
        cov = np.asarray((X.T @ X).todense(), dtype=np.float64) / n - np.outer(mean, mean)
    else:
        step = max(1, BLOCK_ENTRIES // max(D, 1))
        mean = X.mean(axis=0, dtype=np.float64)
        cov = np.zeros((D, D))
        for s in range(0, n, step):
            b = np.subtract(X[s:s + step], mean, dtype=np.float64)  # no float64 copy of the block first
            cov += b.T @ b
        cov /= n
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:min(n_components, D)]
    return mean, _fix_signs(evecs[:, order]), evals[order]


def _fix_signs(V):
    """``V`` with each column's largest-magnitude entry made positive."""
    V *= np.sign(V[np.argmax(np.abs(V), axis=0), np.arange(V.shape[1])])
    return V


def _truncated_axes(X, n_components):
    """:func:`principal_axes` from a truncated SVD of the centred X (an operator, never formed)."""
    n, D = X.shape
    mean = np.asarray(X.mean(axis=0), dtype=np.float64).ravel()
    ones = np.ones(n)

    def times(v):  # (X - 1 mean^T) v, v of shape (D,) or (D, j)
        return np.asarray(X @ v, dtype=np.float64) - np.multiply.outer(ones, mean @ v)

    def times_transposed(u):  # (X - 1 mean^T)^T u
        return np.asarray(X.T @ u, dtype=np.float64) - np.multiply.outer(mean, ones @ u)

    centred = LinearOperator((n, D), matvec=times, rmatvec=times_transposed, matmat=times,
                             rmatmat=times_transposed, dtype=np.float64)
    k = min(n_components, min(n, D) - 1)
    v0 = np.full(min(n, D), 1.0 / np.sqrt(min(n, D)))
    _, s, vt = svds(centred, k=k, v0=v0, solver="arpack")
    order = np.argsort(s)[::-1]
    return mean, _fix_signs(np.ascontiguousarray(vt[order].T)), s[order] ** 2 / n
