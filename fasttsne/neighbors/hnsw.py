"""Approximate nearest neighbours with hnswlib (hierarchical navigable small-world graphs).

hnswlib is an optional package, not a dependency of fasttsne: this backend exists for
openTSNE's ``nearest_neighbors.HNSW`` and is not registered under a name, so ``TSNE``'s
"auto" and "approx" never choose it and a map built on it cannot be saved (the index is
hnswlib's own structure, which fasttsne's file format does not hold).
"""
import numbers

import numpy as np

from .base import NeighborBackend, seed_from, sort_rows

__all__ = ["HNSWBackend", "HNSW_SPACES", "INSTALL_ADVICE", "require_hnswlib"]

#: fasttsne's metric name -> hnswlib's space. hnswlib's "l2" is the squared distance (square
#: rooted here, as every backend returns distances in the metric's units); its "cosine" is
#: 1 - cos, as fasttsne's. Its "ip" (1 - x.y) can be negative, which no affinity model takes.
HNSW_SPACES = {"euclidean": "l2", "cosine": "cosine"}

INSTALL_ADVICE = ("nearest_neighbors.HNSW needs the optional hnswlib package: `pip install hnswlib` or "
                  "`conda install -c conda-forge hnswlib`. fasttsne's own approximate search needs "
                  "nothing more: neighbors='approx'.")


def require_hnswlib():
    """The hnswlib module; ImportError with install advice when it is missing."""
    try:
        import hnswlib
    except ImportError:
        raise ImportError(INSTALL_ADVICE) from None
    return hnswlib


def _positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r:.40}.")
    return int(value)


class HNSWBackend(NeighborBackend):
    """hnswlib's graph index; builds and queries on ``n_jobs`` threads.

    Parameters
    ----------
    metric : {"euclidean", "cosine"}
    metric_params : dict, optional
        Not used (hnswlib's spaces take none).
    n_jobs : int
    random_state : None, int or Generator
        Seeds the graph's construction.
    ef_construction : int, default 200
        Candidates kept while linking each point (openTSNE's default).
    M : int, default 16
        Links per point (openTSNE's default).
    """

    name = "hnsw"
    metrics = frozenset(HNSW_SPACES)

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None, ef_construction=200,
                 M=16):
        super().__init__(metric, metric_params, n_jobs, random_state)
        if self.metric_params:
            raise ValueError(f"hnswlib's {self.metric!r} space takes no parameters, got {self.metric_params}.")
        self.ef_construction = _positive_int("ef_construction", ef_construction)
        self.M = _positive_int("M", M)
        self._index = None

    def build(self, X, k):
        hnswlib = require_hnswlib()
        X = self._dense_input(X, "X")
        n, d = X.shape
        self._check_k(k, n - 1)
        index = hnswlib.Index(space=HNSW_SPACES[self.metric], dim=d)
        index.init_index(max_elements=n, ef_construction=self.ef_construction, M=self.M,
                         random_seed=seed_from(self.random_state))
        index.add_items(X, np.arange(n), num_threads=self.threads)
        self._index = index
        self.n_samples_, self.n_features_ = n, d
        indices, distances = self._search(X, k + 1)
        # a point is normally its own nearest hit, but a duplicate may come first: drop the
        # point itself wherever it is, or the farthest hit of a row that missed it
        is_self = indices == np.arange(n)[:, None]
        drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
        keep = np.ones(indices.shape, dtype=bool)
        keep[np.arange(n), drop] = False
        return indices[keep].reshape(n, k), distances[keep].reshape(n, k)

    def query(self, X_new, k):
        self._check_fitted()
        X_new = self._dense_input(X_new, "X_new")
        self._check_query_width(X_new, self.n_features_)
        self._check_k(k, self.n_samples_)
        return self._search(X_new, k)

    def _search(self, X, k):
        """(indices int64, distances float64) of the k hits of each row, sorted."""
        # hnswlib needs ef >= k to return k hits; openTSNE searches with 2k candidates
        self._index.set_ef(2 * k)
        labels, distances = self._index.knn_query(X, k=k, num_threads=self.threads)
        distances = np.asarray(distances, dtype=np.float64)
        if self.metric == "euclidean":
            distances = np.sqrt(np.maximum(distances, 0.0))
        return sort_rows(np.asarray(labels, dtype=np.int64), np.maximum(distances, 0.0))
