"""Exact nearest neighbours: blocked BLAS for Euclidean-type metrics, scipy for the rest.

Only one block of rows of the distance matrix exists at a time (:data:`BLOCK_ENTRIES`), so
memory stays bounded whatever N is. ``metric="precomputed"`` takes the distances
themselves: a dense square matrix, or a sparse k-NN graph whose explicit entries are the
candidate neighbours.
"""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from scipy.spatial.distance import cdist

from .._ext import _knn
from .base import owned, state_array, NeighborBackend, sort_rows

__all__ = ["Exact"]

#: Entries of one block of the distance matrix: 2**24 float32 keys are 64 MiB.
BLOCK_ENTRIES = 2 ** 24
#: Metrics ranked with one GEMM per block (float32) and re-ranked exactly in float64.
BLAS_METRICS = frozenset({"euclidean", "sqeuclidean", "cosine", "correlation"})
#: Metrics available for scipy sparse (CSR) input: sparse products, no densified copy.
SPARSE_METRICS = frozenset({"euclidean", "sqeuclidean", "cosine"})
#: Metrics computed by ``scipy.spatial.distance.cdist`` (our name -> scipy's name).
SCIPY_METRICS = {
    "manhattan": "cityblock", "chebyshev": "chebyshev", "minkowski": "minkowski",
    "canberra": "canberra", "braycurtis": "braycurtis", "seuclidean": "seuclidean",
    "mahalanobis": "mahalanobis", "hamming": "hamming", "jaccard": "jaccard", "dice": "dice",
    "jensenshannon": "jensenshannon", "rogerstanimoto": "rogerstanimoto",
    "russellrao": "russellrao", "sokalsneath": "sokalsneath", "yule": "yule",
}
#: Extra candidates kept from the float32 ranking before the exact float64 re-ranking: a
#: true neighbour is lost only if more than this many points have float32 keys within
#: rounding error (~1e-7 |q| |r| on centred data) of the k-th neighbour's.
RERANK_MIN_MARGIN = 16
RERANK_MARGIN_FRACTION = 0.25


class Exact(NeighborBackend):
    """Brute-force k-NN, one block of rows at a time (never N x N in memory).

    Euclidean, squared Euclidean, cosine and correlation distances rank candidates with a
    float32 GEMM (``|r|^2 - 2 q.r``), keep ``k`` plus a margin of them, and return exact
    float64 distances recomputed from the differences, so near-duplicates carry no
    cancellation error and the neighbours are those of float64 arithmetic. Other metrics
    (and callables) go through ``scipy.spatial.distance.cdist``, blocks on ``n_jobs`` threads.

    Distances returned: Euclidean; squared Euclidean; cosine ``1 - cos`` (1 for an
    all-zero row); correlation ``1 - Pearson r`` (1 for a constant row); scipy's definition
    for the others.

    With ``metric="precomputed"``, :meth:`build` takes an (N, N) dense distance matrix or
    an (N, N) sparse k-NN graph (each row's explicit entries, diagonal ignored, must number
    at least k), and :meth:`query` the (M, N) distances of new points to the reference.

    Sparse CSR data is accepted for Euclidean, squared Euclidean and cosine distances
    (sparse products ranked in float64, exact distances from sparse differences).
    """

    name = "exact"
    metrics = BLAS_METRICS | frozenset(SCIPY_METRICS) | {"precomputed"}
    supports_callable = True

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None):
        super().__init__(metric, metric_params, n_jobs, random_state)
        # sparse support depends on the metric, so it is an instance attribute here
        self.supports_sparse = self.metric in SPARSE_METRICS or self.metric == "precomputed"

    @classmethod
    def check_state(cls, state):
        super().check_state(state)
        metric, d = state["metric"], state["n_features_"]
        if state.get("supports_sparse", False) is not (metric in SPARSE_METRICS or metric == "precomputed"):
            raise ValueError(f"supports_sparse does not match the metric {metric!r}.")
        if metric != "precomputed" and state.get("_reference") is None:
            raise ValueError("the exact index has no indexed data.")
        if state.get("_center") is not None:
            state_array(state, "_center", (d,), "f", "the indexed data's centre")
        if not isinstance(state.get("_scipy_params") or {}, dict):
            raise ValueError("the exact index's scipy parameters are not a dict.")

    def build(self, X, k):
        given = X  # the caller's data: what the index keeps must not be it (see owned)
        if self.metric == "precomputed":
            D = self._precomputed_input(X, "X")
            if D.shape[0] != D.shape[1]:
                raise ValueError("metric='precomputed' needs a square (N, N) distance matrix, "
                                 f"got {D.shape}.")
            self._check_k(k, D.shape[0] - 1)
            self.n_samples_ = D.shape[0]
            self.n_features_ = D.shape[0]
            return self._precomputed_search(D, k, exclude_self=True)
        if sp.issparse(X):
            self._check_input(X, "X")
            X = self._sparse_normalised(X)
            self._check_k(k, X.shape[0] - 1)
            self.n_samples_, self.n_features_ = X.shape
            self._reference = owned(X, given)
            return self._sparse_search(X, k, exclude_self=True)
        X = self._dense_input(X, "X")
        self._check_k(k, X.shape[0] - 1)
        self.n_samples_, self.n_features_ = X.shape
        if self.metric in BLAS_METRICS:
            self._reference = owned(self._normalised(X), given)
            self._center = self._reference.mean(axis=0)
            return self._blas_search(self._reference, k, exclude_self=True)
        self._reference = owned(X, given)
        self._scipy_params = self._fill_scipy_params(X)
        return self._scipy_search(X, k, exclude_self=True)

    def query(self, X_new, k):
        self._check_fitted()
        self._check_k(k, self.n_samples_)
        if self.metric == "precomputed":
            D = self._precomputed_input(X_new, "X_new")
            self._check_query_width(D, self.n_samples_)
            return self._precomputed_search(D, k, exclude_self=False)
        if sp.issparse(self._reference):
            X_new = self._sparse_normalised(sp.csr_matrix(X_new))
            self._check_query_width(X_new, self.n_features_)
            return self._sparse_search(X_new, k, exclude_self=False)
        if sp.issparse(X_new):
            X_new = X_new.toarray()  # new points are few; the reference is dense anyway
        X_new = self._dense_input(X_new, "X_new")
        self._check_query_width(X_new, self.n_features_)
        if self.metric in BLAS_METRICS:
            return self._blas_search(self._normalised(X_new), k, exclude_self=False)
        return self._scipy_search(X_new, k, exclude_self=False)

    # -- input ------------------------------------------------------------------------------

    def _precomputed_input(self, D, what):
        if sp.issparse(D):
            D = sp.csr_matrix(D)
            values = D.data
        else:
            D = np.asarray(D)
            if D.ndim != 2:
                raise ValueError(f"precomputed distances must be 2-D, got shape {D.shape}.")
            if D.dtype not in (np.float32, np.float64):
                D = D.astype(np.float64)
            D = np.ascontiguousarray(D)
            values = D
        if not np.all(np.isfinite(values)) or (values.size and values.min() < 0):
            raise ValueError(f"precomputed distances ({what}) must be finite and non-negative.")
        return D

    def _normalised(self, X):
        """The representation whose squared Euclidean distances give the metric's distances."""
        if self.metric in ("euclidean", "sqeuclidean"):
            return X
        X = np.array(X, dtype=np.float64)
        if self.metric == "correlation":
            X -= X.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        # all-zero (or constant, for correlation) rows stay zero; _finish gives them distance 1
        X /= np.where(norms > 0, norms, 1.0)
        return X

    # -- BLAS path --------------------------------------------------------------------------

    def _ranking_copy(self, X):
        """Centred float32 copy, built block by block to avoid a float64 temporary of X."""
        out = np.empty(X.shape, dtype=np.float32)
        step = max(1, BLOCK_ENTRIES // max(X.shape[1], 1))
        for start in range(0, X.shape[0], step):
            # differences in float64, rounded into out chunk by chunk: no float64 block exists
            np.subtract(X[start:start + step], self._center, out=out[start:start + step], casting="unsafe")
        return out

    def _candidates(self, n_q, n_r, k, exclude_self, step, products, r_key):
        """(n_q, c) indices of each query's c smallest ranking keys, c = k plus the re-rank margin.

        The key of reference row r for query q is ``|r|^2 - 2 q.r`` (the squared distance less
        ``|q|^2``, which does not change a row's order); ``products(start, stop)`` gives the
        (stop - start, n_r) block of ``q.r``, written over.
        """
        n_avail = n_r - 1 if exclude_self else n_r
        n_cand = min(n_avail, k + max(RERANK_MIN_MARGIN, int(RERANK_MARGIN_FRACTION * k)))
        cand = np.empty((n_q, n_cand), dtype=np.int64)
        for start in range(0, n_q, step):
            stop = min(n_q, start + step)
            keys = products(start, stop)
            keys *= -2.0
            keys += r_key
            _knn.smallest_k(keys, start if exclude_self else -1, cand[start:stop], self.threads)
        return cand

    def _blas_search(self, Q, k, exclude_self):
        R = self._reference
        n_q, n_r = Q.shape[0], R.shape[0]
        R32 = self._ranking_copy(R)
        Q32 = R32 if exclude_self else self._ranking_copy(Q)
        r_key = np.einsum("ij,ij->i", R32, R32, dtype=np.float64)
        if self.metric in ("cosine", "correlation"):
            # a zero row is at distance 1 (|q - r|^2 = 2) from every unit q, not at |q|^2 = 1
            r_key[~np.any(R, axis=1)] += 1.0
        r_key = r_key.astype(np.float32)
        cand = self._candidates(n_q, n_r, k, exclude_self, max(1, BLOCK_ENTRIES // n_r),
                                lambda start, stop: Q32[start:stop] @ R32.T, r_key)
        sq = np.empty(cand.shape, dtype=np.float64)
        if Q.dtype != R.dtype:
            Q = Q.astype(R.dtype)
        _knn.squared_distances(Q, R, cand, sq, self.threads)
        return self._finish(Q, R, cand, sq, k)

    def _finish(self, Q, R, cand, sq, k):
        """Distances in the metric's units from exact squared differences; k best per row."""
        if self.metric == "euclidean":
            dist = np.sqrt(sq)
        elif self.metric == "sqeuclidean":
            dist = sq
        else:
            # unit vectors: 1 - cos(a, b) = |a - b|^2 / 2; zero rows are orthogonal to all
            dist = sq / 2.0
            dist[_zero_rows(Q)] = 1.0
            dist[_zero_rows(R)[cand]] = 1.0
        indices, dist = sort_rows(cand, dist)
        return indices[:, :k], dist[:, :k]

    # -- sparse path ------------------------------------------------------------------------

    def _sparse_normalised(self, X):
        """Float64 CSR with sorted indices and 64-bit indptr (what the kernel takes)."""
        X = sp.csr_matrix(X, dtype=np.float64)
        X.sum_duplicates()
        if self.metric == "cosine":
            norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
            X = sp.csr_matrix(sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ X)
        X.sort_indices()
        X.indices = X.indices.astype(np.int32, copy=False)
        X.indptr = X.indptr.astype(np.int64, copy=False)
        return X

    def _sparse_search(self, Q, k, exclude_self):
        R = self._reference
        n_q, n_r = Q.shape[0], R.shape[0]
        r_sq = np.asarray(R.multiply(R).sum(axis=1)).ravel()
        if self.metric == "cosine":
            r_sq[r_sq == 0] = 1.0  # a zero row is at |q - r|^2 = 2 from unit q (cosine distance 1)
        # a dense block of queries times the sparse reference: one pass over R's non-zeros
        step = max(1, min(BLOCK_ENTRIES // n_r, BLOCK_ENTRIES // max(1, Q.shape[1])))
        cand = self._candidates(n_q, n_r, k, exclude_self, step,
                                lambda start, stop: np.ascontiguousarray((R @ Q[start:stop].toarray().T).T), r_sq)
        sq = np.empty(cand.shape, dtype=np.float64)
        # the kernel's index types, whatever a copy or a loaded file made of the stored ones
        _knn.sparse_squared_distances(*_kernel_csr(Q), *_kernel_csr(R), cand, sq, self.threads)
        return self._finish(Q, R, cand, sq, k)

    # -- scipy path -------------------------------------------------------------------------

    def _fill_scipy_params(self, R):
        """Metric parameters estimated once from the reference data.

        cdist would otherwise estimate them from each block and the queries, giving
        different metrics for different rows.
        """
        params = dict(self.metric_params)
        if self.metric == "seuclidean" and "V" not in params:
            params["V"] = np.var(R, axis=0, ddof=1)
        if self.metric == "mahalanobis" and "V" in params:
            # scikit-learn's spelling: the covariance; scipy takes its inverse, VI
            params["VI"] = np.linalg.pinv(np.atleast_2d(params.pop("V")))
        if self.metric == "mahalanobis" and "VI" not in params:
            params["VI"] = np.linalg.pinv(np.atleast_2d(np.cov(R, rowvar=False)))
        return params

    def _scipy_search(self, Q, k, exclude_self):
        R = self._reference
        metric = self.metric if callable(self.metric) else SCIPY_METRICS[self.metric]
        n_q, n_r = Q.shape[0], R.shape[0]
        indices = np.empty((n_q, k), dtype=np.int64)
        dist = np.empty((n_q, k), dtype=np.float64)
        n_workers = self.threads
        step = max(1, BLOCK_ENTRIES // (n_r * n_workers))

        def one_block(start):
            stop = min(n_q, start + step)
            block = np.ascontiguousarray(cdist(Q[start:stop], R, metric=metric, **self._scipy_params),
                                         dtype=np.float64)
            if not np.all(np.isfinite(block)):
                raise ValueError(f"metric {self.metric!r} gave NaN or infinite distances "
                                 f"(first in rows {start}..{stop - 1}); check the data suits it.")
            _knn.smallest_k(block, start if exclude_self else -1, indices[start:stop], 1)
            dist[start:stop] = np.take_along_axis(block, indices[start:stop], 1)

        # scipy's compiled metrics release the GIL, so blocks run in parallel on threads
        with ThreadPoolExecutor(n_workers) as pool:
            list(pool.map(one_block, range(0, n_q, step)))
        return sort_rows(indices, dist)

    # -- precomputed ------------------------------------------------------------------------

    def _precomputed_search(self, D, k, exclude_self):
        if sp.issparse(D):
            return _graph_neighbors(D, k, exclude_self)
        indices = np.empty((D.shape[0], k), dtype=np.int64)
        _knn.smallest_k(D, 0 if exclude_self else -1, indices, self.threads)
        dist = np.take_along_axis(D, indices, 1).astype(np.float64)
        return sort_rows(indices, dist)


def _zero_rows(X):
    """Boolean mask of the all-zero rows of a dense or CSR matrix."""
    if sp.issparse(X):
        return np.asarray(abs(X).sum(axis=1)).ravel() == 0
    return ~np.any(X, axis=1)


def _graph_neighbors(G, k, exclude_self):
    """The k smallest explicit entries of each row of a CSR distance graph."""
    G = G.tocoo()
    rows, cols, vals = G.row, G.col, G.data
    if exclude_self:
        off_diagonal = rows != cols
        rows, cols, vals = rows[off_diagonal], cols[off_diagonal], vals[off_diagonal]
    counts = np.bincount(rows, minlength=G.shape[0])
    if counts.size and counts.min() < k:
        short = int(np.argmin(counts))
        raise ValueError(f"the precomputed k-NN graph has only {counts[short]} neighbour(s) in row "
                         f"{short} (diagonal not counted); {k} are needed. Store at least k "
                         "distances per row, or lower the perplexity (k = 3 * perplexity).")
    order = np.lexsort((cols, vals, rows))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    take = order[starts[:, None] + np.arange(k)]
    return cols[take].astype(np.int64), vals[take].astype(np.float64)


def _kernel_csr(M):
    """(indptr int64, indices int32, data float64) of a CSR matrix, as the sparse kernel takes them."""
    return (M.indptr.astype(np.int64, copy=False), M.indices.astype(np.int32, copy=False),
            M.data.astype(np.float64, copy=False))
