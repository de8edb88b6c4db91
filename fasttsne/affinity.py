"""Affinity models: the high-dimensional similarities P that t-SNE preserves.

Each model, once fitted on the reference data, holds

- ``P``: the symmetric, non-negative (N, N) CSR matrix whose entries sum to 1;
- ``index``: the fitted neighbour backend, used by :meth:`to_new` to place new points;

and :meth:`to_new` returns the (M, N) CSR affinities of new points to the reference,
each row summing to 1.
"""
import warnings

import numpy as np
import scipy.sparse as sp

from . import neighbors as _neighbors
from ._ext import _affinity
from ._validation import check_data, check_n_jobs, check_positive
from .progress import phase

__all__ = ["AffinityModel", "PerplexityBasedNN", "joint_probabilities", "conditional_probabilities"]

#: Tolerance of the perplexity binary search, in nats of entropy.
PERPLEXITY_TOL = 1e-5
#: Binary-search steps per point.
PERPLEXITY_MAX_ITER = 200


def conditional_probabilities(distances, perplexity, n_jobs=1):
    """Calibrate Gaussian conditionals p_{j|i} on k-NN distances to a target perplexity.

    Parameters
    ----------
    distances : (N, k) array
        Distances (not squared) to each point's neighbours.
    perplexity : float or (N,) array
    n_jobs : int

    Returns
    -------
    P : (N, k) float64
        Rows sum to 1.
    betas : (N,) float64
        The calibrated precisions 1 / (2 sigma_i^2).
    """
    distances = np.ascontiguousarray(distances, dtype=np.float64)
    n = distances.shape[0]
    perplexities = np.ascontiguousarray(np.broadcast_to(np.asarray(perplexity, dtype=np.float64), (n,)))
    P = np.empty_like(distances)
    betas = np.empty(n, dtype=np.float64)
    _affinity.calibrate_perplexity(distances, perplexities, P, betas, PERPLEXITY_TOL,
                                   PERPLEXITY_MAX_ITER, n_jobs)
    return P, betas


def to_csr(indices, values, n_cols):
    """(M, k) neighbour indices and values -> (M, n_cols) CSR with int32 indices."""
    m, k = indices.shape
    indptr = np.arange(0, m * k + 1, k, dtype=np.int64)
    M = sp.csr_matrix((values.ravel(), indices.ravel(), indptr), shape=(m, n_cols))
    M.sum_duplicates()
    return M


def joint_probabilities(P_conditional):
    """Symmetrise conditionals: P = (P_cond + P_cond^T) / (2N), a CSR summing to 1.

    The result has int32 indices (what the Cython kernels take), sorted, no duplicates.
    """
    n = P_conditional.shape[0]
    P = (P_conditional + P_conditional.T).tocsr()
    P.data /= 2.0 * n
    P.eliminate_zeros()
    P.sum_duplicates()
    P.sort_indices()
    if P.nnz >= 2 ** 31:
        raise ValueError("the affinity matrix has more than 2^31 non-zeros; lower the perplexity.")
    P.indices = P.indices.astype(np.int32, copy=False)
    P.indptr = P.indptr.astype(np.int32, copy=False)
    return P


class AffinityModel:
    """Base class: subclasses implement :meth:`fit` and :meth:`to_new`.

    Attributes (after fit)
    ----------------------
    P : scipy.sparse.csr_matrix, (N, N)
    index : NeighborBackend or None
    n_samples : int
    """

    P = None
    index = None
    n_samples = None

    def fit(self, X):
        raise NotImplementedError

    def to_new(self, X_new, **kwargs):
        raise NotImplementedError

    @property
    def sum_p_log_p(self):
        """sum_ij p_ij log p_ij, the constant part of KL(P || Q) (nats)."""
        if getattr(self, "_sum_p_log_p", None) is None:
            data = self.P.data
            self._sum_p_log_p = float(np.sum(data * np.log(data)))
        return self._sum_p_log_p


class PerplexityBasedNN(AffinityModel):
    """Gaussian affinities on the k = min(N - 1, 3 * perplexity) nearest neighbours.

    Parameters
    ----------
    perplexity : float, default 30
        Effective number of neighbours. Lowered, with a warning, to (N - 1) / 3 when the
        data has too few points for it.
    neighbors : str or NeighborBackend, default "auto"
    metric : str, default "euclidean"
    metric_params : dict, optional
    n_jobs : int, default 1
    random_state : None, int or Generator
    """

    def __init__(self, perplexity=30.0, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        self.perplexity = check_positive(perplexity, "perplexity")
        self.neighbors = neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = check_n_jobs(n_jobs)
        self.random_state = random_state

    def effective_perplexity(self, n_samples):
        """The perplexity used for ``n_samples`` points (lowered with a warning if needed)."""
        limit = (n_samples - 1) / 3.0
        if self.perplexity > limit:
            lowered = max(limit, 1.0) if n_samples > 2 else 1.0
            warnings.warn(f"perplexity {self.perplexity:g} is too large for {n_samples} points "
                          f"(at most (N - 1) / 3 = {limit:.3g}); using perplexity {lowered:.3g}.",
                          UserWarning, stacklevel=3)
            return lowered
        return float(self.perplexity)

    def fit(self, X):
        """Find neighbours of ``X`` and compute P; returns self."""
        X = check_data(X, accept_sparse=True)
        n = X.shape[0]
        perplexity = self.effective_perplexity(n)
        k = min(n - 1, int(3 * perplexity))
        self.index = _neighbors.get_backend(
            self.neighbors, n_samples=n, metric=self.metric, metric_params=self.metric_params,
            sparse=sp.issparse(X), n_jobs=self.n_jobs, random_state=self.random_state)
        with phase("neighbours"):
            indices, distances = self.index.build(X, k)
        with phase("affinities"):
            self.P = self.from_neighbors(indices, distances, perplexity)
        self.n_samples = n
        self.perplexity_ = perplexity
        self._sum_p_log_p = None
        return self

    def from_neighbors(self, indices, distances, perplexity=None):
        """Symmetric P from a k-NN graph: (N, k) indices and distances."""
        perplexity = self.perplexity if perplexity is None else perplexity
        cond, _ = conditional_probabilities(distances, perplexity, self.n_jobs)
        return joint_probabilities(to_csr(np.asarray(indices), cond, indices.shape[0]))

    def to_new(self, X_new, k=None, perplexity=5.0):
        """Affinities of new points to the reference, (M, N) CSR with rows summing to 1.

        Parameters
        ----------
        X_new : (M, D) array
        k : int, optional
            Reference neighbours per new point; default 3 * perplexity.
        perplexity : float, default 5
        """
        if self.index is None:
            raise RuntimeError("the affinity model has not been fitted.")
        k = int(3 * perplexity) if k is None else int(k)
        k = max(1, min(k, self.n_samples))
        perplexity = min(perplexity, k / 3.0) if k >= 3 else 1.0
        indices, distances = self.index.query(X_new, k)
        cond, _ = conditional_probabilities(distances, perplexity, self.n_jobs)
        return to_csr(indices, cond, self.n_samples)
