"""Approximate nearest neighbours with pynndescent: any of its metrics, numba callables, CSR input.

pynndescent is imported only when a backend is built, or when ``knn_kwargs`` for it are checked
(importing numba takes seconds).
"""
import inspect
import warnings

import numpy as np
import scipy.sparse as sp

from .base import owned, check_ids, state_array, NeighborBackend, seed_from, sort_rows

__all__ = ["NNDescent"]

#: pynndescent's named dense metrics (version 0.7); aliases such as "l2" are resolved first.
PYNNDESCENT_METRICS = frozenset({
    "euclidean", "sqeuclidean", "manhattan", "chebyshev", "linf", "linfinity", "linfty",
    "minkowski", "seuclidean", "standardised_euclidean", "wminkowski", "weighted_minkowski",
    "mahalanobis", "canberra", "braycurtis", "cosine", "direct_cosine", "dot", "inner_product",
    "correlation", "spearmanr", "haversine", "hellinger", "tsss", "true_angular",
    "wasserstein", "wasserstein-1d", "wasserstein_1d", "kantorovich", "kantorovich-1d",
    "kantorovich_1d", "circular_kantorovich", "circular_wasserstein", "sinkhorn",
    "jensen-shannon", "jensen_shannon", "symmetric-kl", "symmetric_kl",
    "symmetric_kullback_liebler", "hamming", "jaccard", "dice", "matching", "kulsinski",
    "rogerstanimoto", "russellrao", "sokalsneath", "sokalmichener", "yule", "bit_hamming",
    "bit_jaccard",
})
#: The index graph is built with this many neighbours and searched for k + 1: much faster than
#: building the k + 1 graph, and 20 gave more recall than 15 for the same time
#: (docs/neighbors.md, "Measurements").
BUILD_NEIGHBORS = 20
#: Candidates per point in each descent step (pynndescent's default is lower for small graphs):
#: 60 converged faster on large data at equal recall (docs/neighbors.md, "Measurements").
MAX_CANDIDATES = 60
#: Search breadth of the query (pynndescent's default 0.1); raised on a retry when some
#: rows come back short of neighbours.
QUERY_EPSILON = 0.1
RETRY_EPSILONS = (0.3, 1.0)


class NNDescent(NeighborBackend):
    """Nearest-neighbour descent (pynndescent), seeded from ``random_state``.

    Parameters
    ----------
    metric : str or numba-compiled callable
        Any metric pynndescent names (dense; for CSR input its sparse metrics).
    metric_params : dict, optional
        Passed to pynndescent as ``metric_kwds``.
    n_jobs : int
        Threads for building and for batch queries.
    random_state : None, int or Generator
    n_neighbors : int, optional
        Degree of the index graph; default ``min(20, N - 1)``. When it is at least k + 1 the
        graph itself is the answer of :meth:`build` (slower to build, recall near 1).
    **nndescent_params
        Other keyword arguments of ``pynndescent.NNDescent`` (n_trees, n_iters, ...).
    """

    name = "pynndescent"
    metrics = PYNNDESCENT_METRICS
    supports_callable = True
    supports_sparse = True

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None,
                 n_neighbors=None, **nndescent_params):
        super().__init__(metric, metric_params, n_jobs, random_state)
        self.n_neighbors = n_neighbors
        self.nndescent_params = nndescent_params
        self._index = None

    @classmethod
    def parameter_names(cls):
        """What ``knn_kwargs`` may set: ``n_neighbors`` and pynndescent.NNDescent's keywords
        other than those this backend sets itself; None (any) when pynndescent is missing,
        which the build reports."""
        try:
            import pynndescent
        except ImportError:
            return None
        own = {"data", "metric", "metric_kwds", "n_neighbors", "random_state", "n_jobs"}
        theirs = [name for name in inspect.signature(pynndescent.NNDescent).parameters if name not in own]
        return ("n_neighbors", *theirs)

    def build(self, X, k):
        given = X  # the caller's data: what the index keeps must not be it (see owned)
        import pynndescent

        X = self._input(X, "X")
        n = X.shape[0]
        self._check_k(k, n - 1)
        if sp.issparse(X) and isinstance(self.metric, str) \
                and self.metric not in pynndescent.sparse.sparse_named_distances:
            raise ValueError(f"pynndescent has no sparse version of metric {self.metric!r}; its sparse "
                             f"metrics are: {', '.join(sorted(pynndescent.sparse.sparse_named_distances))}.")
        self.seed_ = seed_from(self.random_state)
        self._index = self._new_index(X)
        # kept for the safe (pickle-free) state: the data and the index graph rebuild the index
        self._reference = owned(X, given)
        self._graph = tuple(np.array(a) for a in self._index.neighbor_graph)
        self.n_samples_, self.n_features_ = X.shape
        indices, distances = self._self_neighbors(X, k + 1)
        # drop the point itself: usually first, but duplicates tie with it at distance 0
        is_self = indices == np.arange(n)[:, None]
        is_self[~is_self.any(axis=1), -1] = True
        keep = np.argsort(is_self, axis=1, kind="stable")[:, :k]
        return sort_rows(np.take_along_axis(indices, keep, 1), np.take_along_axis(distances, keep, 1))

    def query(self, X_new, k):
        self._check_fitted()
        self._check_k(k, self.n_samples_)
        X_new = self._input(X_new, "X_new")
        self._check_query_width(X_new, self.n_features_)
        return sort_rows(*self._search(X_new, k))

    def _new_index(self, X, **extra):
        import numba
        import pynndescent

        n_build = min(self.n_neighbors or BUILD_NEIGHBORS, X.shape[0] - 1)
        # numba refuses more threads than its pool (the core count); OpenMP kernels take any n_jobs
        threads = min(self.threads, numba.config.NUMBA_NUM_THREADS)
        params = {"parallel_batch_queries": threads > 1, "max_candidates": MAX_CANDIDATES,
                  **self.nndescent_params, **extra}
        return pynndescent.NNDescent(
            X, metric=self.metric, metric_kwds=_pynndescent_kwds(self.metric, self.metric_params),
            n_neighbors=n_build, random_state=self.seed_, n_jobs=threads, **params)

    def _self_neighbors(self, X, k):
        """The k nearest neighbours of the indexed points, themselves included."""
        graph_indices, graph_distances = self._index.neighbor_graph
        if graph_indices.shape[1] >= k and not (graph_indices[:, :k] < 0).any():
            # the index graph already holds them (sorted): no search needed
            return graph_indices[:, :k].astype(np.int64), graph_distances[:, :k].astype(np.float64)
        return self._search(X, k)

    def _search(self, Q, k):
        if self._index is None:  # restored from the safe state: rebuild from the saved graph
            with warnings.catch_warnings():
                # with no descent iterations pynndescent warns that the graph may be incomplete;
                # it is the complete graph of the original build
                warnings.filterwarnings("ignore", message="Failed to correctly find n_neighbors")
                self._index = self._new_index(self._reference, init_graph=self._graph[0].copy(),
                                              init_dist=self._graph[1].copy(), n_iters=0)
        indices, distances = self._index.query(Q, k=k, epsilon=QUERY_EPSILON)
        for epsilon in RETRY_EPSILONS:
            short = np.flatnonzero((indices < 0).any(axis=1))
            if short.size == 0:
                break
            indices[short], distances[short] = self._index.query(Q[short], k=k, epsilon=epsilon)
        if (indices < 0).any():
            raise RuntimeError(f"pynndescent found fewer than {k} neighbours for "
                               f"{int((indices < 0).any(axis=1).sum())} point(s); use neighbors='exact' "
                               "or a smaller perplexity.")
        return indices.astype(np.int64), distances.astype(np.float64)

    # -- persistence ---------------------------------------------------------------------------
    # pickle keeps pynndescent's own index (queries answer identically after loading);
    # __getstate__, which fasttsne.persist's pickle-free format uses, keeps only arrays: the
    # reference data and the index graph, from which the index is rebuilt on the first query
    # (same neighbours graph; the search tree is redrawn, so answers may differ slightly).

    @classmethod
    def check_state(cls, state):
        """The saved graph (from which pynndescent's index is rebuilt) must index the data:
        pynndescent's compiled search does not check it."""
        super().check_state(state)
        n = state["n_samples_"]
        if state.get("_reference") is None or state.get("_index") is not None:
            raise ValueError("the pynndescent index needs the indexed data and no native index.")
        graph = state.get("_graph")
        if not isinstance(graph, (tuple, list)) or len(graph) != 2:
            raise ValueError("the pynndescent graph is not an (indices, distances) pair.")
        ids = state_array({"indices": graph[0]}, "indices", (n, None), "i", "the pynndescent graph")
        dist = state_array({"distances": graph[1]}, "distances", ids.shape, "f", "the pynndescent graph")
        check_ids(ids, n, "the pynndescent graph")
        if ids.shape[1] < 1 or not np.all(np.isfinite(dist)):
            raise ValueError("the pynndescent graph is empty or has non-finite distances.")
        seed = state.get("seed_")
        if type(seed) is not int or not 0 <= seed < 2 ** 32:
            raise ValueError(f"the pynndescent seed {seed!r:.40} is not a 32-bit integer.")
        params = state.get("nndescent_params")
        if params is not None and not isinstance(params, dict):
            raise ValueError("nndescent_params is not a dict.")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_index"] = None
        return state

    def __reduce_ex__(self, protocol):
        return _restore, (type(self), dict(self.__dict__))

    def _input(self, X, what):
        if sp.issparse(X):
            X = sp.csr_matrix(X)
            if X.dtype != np.float32:
                X = X.astype(np.float32)
            X.sort_indices()
            return X
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-D, got shape {X.shape}.")
        return np.ascontiguousarray(X, dtype=np.float32 if X.dtype != np.float64 else np.float64)


def _pynndescent_kwds(metric, metric_params):
    """``metric_params`` in pynndescent's spelling (None when empty).

    Mahalanobis takes the inverse covariance ``vinv`` there; scikit-learn's and scipy's
    spellings (``V``: the covariance, ``VI``: its inverse) are translated.
    """
    params = dict(metric_params or {})
    if metric == "mahalanobis":
        if "V" in params:
            params["vinv"] = np.linalg.pinv(np.atleast_2d(params.pop("V")))
        if "VI" in params:
            params["vinv"] = np.asarray(params.pop("VI"), dtype=np.float64)
    return params or None


def _restore(cls, state):
    backend = cls.__new__(cls)
    backend.__dict__.update(state)
    return backend
