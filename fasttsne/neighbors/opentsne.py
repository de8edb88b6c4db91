"""openTSNE's k-NN index classes: the data and k given at construction, ``build()`` without
arguments.

An openTSNE ``KNNIndex`` is made for one data set (``BallTree(x, k=90)``) and searched once
by ``build()``; affinity models take it as ``knn_index=`` and read the graph from it instead
of searching again. Here each index class is a fasttsne neighbour backend
(:class:`~fasttsne.neighbors.NeighborBackend`) that also takes openTSNE's constructor, so it
works wherever a backend does (``TSNE(neighbors=...)``, ``transform``), and ``build()``
searches once and hands the same graph to every later call. Public names are in
:mod:`fasttsne.nearest_neighbors`.
"""
import numbers

import numpy as np

from .._threads import check_n_jobs
from .._validation import check_data
from .annoy import Annoy as _AnnoyBackend
from .base import NeighborBackend, canonical_metric
from .exact import Exact
from .hnsw import HNSWBackend as _HNSWBackend, require_hnswlib
from .nndescent import NNDescent as _NNDescentBackend

__all__ = ["KNNIndex", "Sklearn", "BallTree", "Annoy", "NNDescent", "HNSW", "PrecomputedDistanceMatrix",
           "PrecomputedNeighbors", "check_graph"]


class KNNIndex(NeighborBackend):
    """openTSNE's k-NN index form of a neighbour backend.

    Subclass it, as in openTSNE, to bring another search library: implement ``build(self)``
    (returning the reference graph) and ``query(self, query, k)``; the metric is then the
    subclass's to check. The subclasses here search with a fasttsne backend.

    Parameters
    ----------
    data : (N, D) array or CSR matrix (the backends with sparse support), or None
        The reference data, searched by :meth:`build`. None makes a plain backend, built
        later with ``build(X, k)`` (how ``TSNE(neighbors=...)`` uses it).
    k : int, 1 <= k < N
        Neighbours per point of the graph :meth:`build` returns.
    metric, metric_params, n_jobs, random_state
        As for :class:`~fasttsne.neighbors.NeighborBackend`.
    verbose : bool
        Kept for openTSNE's signature; progress is reported through ``TSNE(verbose=True)``.
    knn_kwargs : dict, optional
        Further keyword arguments of the backend (e.g. Annoy's ``n_trees``).

    Attributes
    ----------
    k : int
    n_samples : int
        N (openTSNE's name; the backend protocol's is ``n_samples_``, set by the search).
    """

    # what a pickled or saved copy holds in place of the data and the graph it does not keep
    data = None
    _graph = None

    def __init__(self, data=None, k=None, metric="euclidean", metric_params=None, n_jobs=1, random_state=None,
                 verbose=False, knn_kwargs=None):
        if self.metrics:
            super().__init__(metric=metric, metric_params=metric_params, n_jobs=n_jobs, random_state=random_state,
                             **dict(knn_kwargs or {}))
        else:  # a user's own index (openTSNE's pattern): its search checks the metric
            self.metric = canonical_metric(metric)
            self.metric_params = dict(metric_params or {})
            self.n_jobs = check_n_jobs(n_jobs)
            self.random_state = random_state
            self.n_samples_ = None
        self.verbose = verbose
        self.data = None if data is None else check_data(data, accept_sparse=True)
        self.n_samples = None if data is None else self.data.shape[0]
        self.k = None if k is None else _checked_k(k, self.n_samples)
        self._graph = None

    def build(self, X=None, k=None):
        """The reference graph: openTSNE's ``build()``, or the backend protocol's ``build(X, k)``.

        Without arguments, searches the data given at construction for ``k`` neighbours the
        first time and returns the same arrays (owned by the index; treat them as read-only)
        every later time, so affinity models built on this index share one search.

        Returns
        -------
        indices : (N, k) int64, distances : (N, k) float64
            Self excluded, each row sorted by increasing distance.
        """
        if X is not None:
            return super().build(X, k)
        if self._graph is None:
            if self.data is None or self.k is None:
                raise ValueError(f"this {type(self).__name__} has no data to search: it was made without data "
                                 "and k, or is a saved or pickled copy (which keeps no graph); construct it as "
                                 f"{type(self).__name__}(data, k, ...), or call build(X, k).")
            # compact arrays (a backend may return views of wider ones): models share them as they are
            self._graph = tuple(np.ascontiguousarray(a) for a in super().build(self.data, self.k))
            self.data = None  # the backend keeps what queries need
        return self._graph

    def _check_fitted(self):
        # a query before build() searches first, as the index is made for its data
        if self.n_samples_ is None and self._graph is None and self.data is not None:
            self.build()
        super()._check_fitted()

    #: The registered backend class a saved map names for this one (see
    #: :func:`fasttsne.registry.name_of`): once built, it behaves as that backend.
    registered_as = None

    def __getstate__(self):
        # the graph and the data are not needed to place new points: saved maps, copies and
        # the pickles sent to Dask workers stay small
        state = dict(super().__getstate__() or {})  # the backend's own state (Annoy's native index, ...)
        state.pop("_graph", None)
        state.pop("data", None)
        return state


def _checked_k(k, n_samples):
    if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)):
        raise TypeError(f"k must be an integer, got {k!r}.")
    if k < 1 or (n_samples is not None and k >= n_samples):
        raise ValueError(f"k must be a positive integer below N = {n_samples}, got {k}.")
    return int(k)


class Sklearn(KNNIndex, Exact):
    """openTSNE's exact index, here fasttsne's exact search (:class:`~fasttsne.neighbors.Exact`).

    openTSNE builds a scikit-learn ball tree; fasttsne compares all pairs in blocks (BLAS for
    Euclidean-type metrics, scipy for the rest): the same neighbours, found faster at the
    sizes exact search is meant for, and also for callable metrics. Saved maps name it
    ``"exact"``.
    """

    registered_as = Exact


#: openTSNE's earlier name of its exact index.
BallTree = Sklearn


class Annoy(KNNIndex, _AnnoyBackend):
    """openTSNE's Annoy index, here fasttsne's Annoy backend
    (:class:`~fasttsne.neighbors.Annoy`: its own tree count and ``search_k`` defaults,
    which ``knn_kwargs`` may set). Saved maps name it ``"annoy"``."""

    registered_as = _AnnoyBackend


class NNDescent(KNNIndex, _NNDescentBackend):
    """openTSNE's pynndescent index, here fasttsne's pynndescent backend
    (:class:`~fasttsne.neighbors.NNDescent`). Saved maps name it ``"pynndescent"``."""

    registered_as = _NNDescentBackend


class HNSW(KNNIndex, _HNSWBackend):
    """openTSNE's HNSW index, on the optional hnswlib package
    (:class:`~fasttsne.neighbors.hnsw.HNSWBackend`).

    Constructing it without hnswlib installed raises ImportError with install advice, as
    openTSNE's does. ``knn_kwargs`` set hnswlib's ``ef_construction`` (default 200) and
    ``M`` (16), openTSNE's defaults. Metrics: "euclidean" (or "l2") and "cosine"; openTSNE's
    "dot" / "ip" give negative distances, which fasttsne's affinity models refuse. hnswlib is
    not a fasttsne backend by name, so a map built on this index cannot be saved.
    """

    def __init__(self, data=None, k=None, metric="euclidean", metric_params=None, n_jobs=1, random_state=None,
                 verbose=False, knn_kwargs=None):
        require_hnswlib()
        super().__init__(data, k, metric, metric_params, n_jobs, random_state, verbose, knn_kwargs)


class PrecomputedDistanceMatrix(KNNIndex, Exact):
    """The k-NN graph of a square distance matrix, as openTSNE's.

    Parameters
    ----------
    distance_matrix : (N, N) array
        Finite, non-negative distances; the diagonal is ignored (a point is not its own
        neighbour). Need not be symmetric: row i gives the distances from point i.
    k : int, 1 <= k < N

    Notes
    -----
    :meth:`query` takes the (M, N) distances of new points to the N reference points and
    returns their k nearest, as openTSNE's does. This is fasttsne's exact search with
    ``metric="precomputed"`` (what ``TSNE(metric="precomputed")`` uses); saved maps name it
    ``"exact"``.
    """

    registered_as = Exact

    def __init__(self, distance_matrix=None, k=None, metric="precomputed", metric_params=None, n_jobs=1,
                 random_state=None, verbose=False, knn_kwargs=None):
        if canonical_metric(metric) != "precomputed":
            raise ValueError(f"PrecomputedDistanceMatrix takes metric='precomputed' only, got {metric!r}.")
        if distance_matrix is not None:
            distance_matrix = self._precomputed_input(distance_matrix, "distance_matrix")
            if distance_matrix.ndim != 2 or distance_matrix.shape[0] != distance_matrix.shape[1]:
                raise ValueError("distance_matrix must be a square (N, N) matrix, got shape "
                                 f"{distance_matrix.shape}.")
        super().__init__(distance_matrix, k, "precomputed", metric_params, n_jobs, random_state, verbose,
                         knn_kwargs)


class PrecomputedNeighbors(KNNIndex):
    """A k-NN graph computed elsewhere, given as index and distance arrays (openTSNE's).

    Pass it to an affinity model as ``knn_index=``: the affinities are computed from this
    graph, with no search. Nothing can be searched for new points, so :meth:`query` (and so
    ``Embedding.transform`` of a map built on it) raises an error that says so. Both arrays
    are validated (:func:`check_graph`) and copied: changing them afterwards changes nothing
    here.

    Parameters
    ----------
    neighbors : (N, k) integer array
        Row i holds the indices of point i's k nearest neighbours, nearest first; each
        index lies in 0 .. N - 1, none equals i, none repeats in a row.
    distances : (N, k) array
        The matching distances: finite, non-negative, non-decreasing along each row.
    """

    name = "precomputed-neighbors"
    metrics = frozenset({"precomputed"})

    def __init__(self, neighbors=None, distances=None, metric="precomputed", metric_params=None, n_jobs=1,
                 random_state=None, verbose=False, knn_kwargs=None):
        super().__init__(None, None, "precomputed", metric_params, n_jobs, random_state, verbose, knn_kwargs)
        if neighbors is None and distances is None:
            return
        if neighbors is None or distances is None:
            raise ValueError("PrecomputedNeighbors needs both neighbors and distances.")
        self._graph = check_graph(neighbors, distances)
        self.n_samples, self.k = self._graph[0].shape
        self.n_samples_ = self.n_samples

    def build(self, X=None, k=None):
        """The graph given at construction, as ``(indices, distances)``."""
        if X is not None:
            raise ValueError("PrecomputedNeighbors does not search data: pass it to an affinity model as "
                             "knn_index= (e.g. affinity.PerplexityBasedNN(knn_index=...)).")
        if self._graph is None:
            raise ValueError("this PrecomputedNeighbors holds no graph: it was made without one, or is a saved "
                             "or pickled copy (which keeps none); make it as "
                             "PrecomputedNeighbors(neighbors, distances).")
        return self._graph

    def query(self, X_new, k):
        raise ValueError("a precomputed k-NN graph (PrecomputedNeighbors) cannot place new points: there is "
                         "no data to search. Compute the new points' neighbours yourself, or build the map "
                         "with a neighbour backend (e.g. nearest_neighbors.Sklearn(x, k)).")

    @classmethod
    def check_state(cls, state):
        for key in ("n_samples", "n_samples_", "k"):
            v = state.get(key)
            if type(v) is not int or not 1 <= v < 2 ** 31:
                raise ValueError(f"the precomputed graph's {key} is {v!r:.40}, not a positive integer.")
        if state.get("metric") != "precomputed":
            raise ValueError("the precomputed graph's metric is not 'precomputed'.")
        if state.get("_graph") is not None or state.get("data") is not None:
            raise ValueError("a saved precomputed graph holds arrays, which fasttsne never saves.")


def check_graph(neighbors, distances):
    """A k-NN graph as new ``(indices int64, distances float64)`` arrays, or a
    ValueError that names what is wrong.

    Parameters
    ----------
    neighbors : (N, k) integer array-like
        Each row's neighbour indices in [0, N), nearest first, without the point itself and
        without repeats.
    distances : (N, k) array-like
        Finite, non-negative, non-decreasing along each row.
    """
    indices = np.asarray(neighbors)
    dist = np.asarray(distances)
    if indices.ndim != 2 or dist.shape != indices.shape:
        raise ValueError(f"neighbors and distances must be 2-D arrays of one shape (N, k), got {indices.shape} "
                         f"and {dist.shape}.")
    n, k = indices.shape
    if not 1 <= k < n:
        raise ValueError(f"a k-NN graph of N points needs 1 <= k < N columns, got {k} for N = {n}.")
    if indices.dtype.kind not in "iu":
        raise ValueError(f"neighbors must hold integer indices, got dtype {indices.dtype}.")
    if dist.dtype.kind not in "iuf":
        raise ValueError(f"distances must be real numbers, got dtype {dist.dtype}.")
    indices = np.array(indices, dtype=np.int64)
    dist = np.array(dist, dtype=np.float64)
    if indices.min() < 0 or indices.max() >= n:
        raise ValueError(f"neighbors must lie in [0, N = {n}), got values in [{indices.min()}, {indices.max()}].")
    own = np.flatnonzero((indices == np.arange(n)[:, None]).any(axis=1))
    if own.size:
        raise ValueError(f"point {own[0]} is listed as its own neighbour ({own.size} such rows); leave each "
                         "point out of its own row (drop the first column if it is the point itself).")
    ordered = np.sort(indices, axis=1)
    repeats = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
    if repeats.size:
        raise ValueError(f"row {repeats[0]} of neighbors lists a neighbour twice ({repeats.size} such rows).")
    if not np.all(np.isfinite(dist)) or dist.min() < 0:
        raise ValueError("distances must be finite and non-negative.")
    unsorted = np.flatnonzero((np.diff(dist, axis=1) < 0).any(axis=1))
    if unsorted.size:
        raise ValueError(f"row {unsorted[0]} of the graph is not sorted by increasing distance ({unsorted.size} "
                         "such rows); sort each row, e.g. with np.argsort(distances, axis=1).")
    return indices, dist
