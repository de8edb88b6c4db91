"""Approximate nearest neighbours with Annoy (random-projection forests).

The parameters' measurements are in docs/neighbors.md: recall is set mostly by
``search_k`` (candidates inspected per query), which is set per neighbour asked for; trees
are cheap to build and, at a given ``search_k``, make queries both faster and more
accurate, so the forest grows with N up to 50 trees.
"""
import os
import tempfile

import numpy as np

from .._ext import _knn
from . import _projection
# wide data (projection constants and re-ranking) is shared with the rpforest backend
from ._projection import CANDIDATE_FACTOR, PROJECT_ABOVE, PROJECTION_DIM  # noqa: F401
from ._fork import run_split, shared_empty
from .base import owned, state_array, NeighborBackend, seed_from

__all__ = ["Annoy"]

#: Our metric name -> Annoy's.
ANNOY_METRICS = {"euclidean": "euclidean", "cosine": "angular", "manhattan": "manhattan",
                 "hamming": "hamming", "dot": "dot"}
#: Trees: clip(round(sqrt(N) / TREES_SQRT_DIVISOR), MIN_TREES, MAX_TREES): 33 at N = 10,000,
#: 50 from N = 22,500. At a fixed search_k, more trees cost little to build and make queries
#: cheaper (their candidate lists overlap, so fewer distinct points are measured) and more
#: accurate (docs/neighbors.md, "Measurements").
MIN_TREES = 10
MAX_TREES = 50
TREES_SQRT_DIVISOR = 3.0
#: Default search_k = SEARCH_K_PER_NEIGHBOR * neighbours requested. Recall of the 90-NN graph
#: falls with N at a fixed search_k; 60 keeps it above openTSNE's (50 trees, search_k 50 * 91)
#: at MNIST's size for less CPU time (docs/neighbors.md, "Measurements").
SEARCH_K_PER_NEIGHBOR = 60
#: Rows converted to Python lists at a time while adding items to the index.
ADD_CHUNK_ROWS = 4096


class Annoy(NeighborBackend):
    """Annoy forest; builds on ``n_jobs`` threads and queries on ``n_jobs`` processes.

    Parameters
    ----------
    metric : {"euclidean", "cosine", "manhattan", "hamming", "dot"}
        Distances are returned in the same units as :class:`~fasttsne.neighbors.Exact` and
        pynndescent: cosine is ``1 - cos``; hamming the fraction of differing
        coordinates (the data must be 0/1); dot is ``1 - x.y``, or 1 when ``x.y <= 0``.
    metric_params : dict, optional
        Not used (Annoy's metrics take none).
    n_jobs : int
    random_state : None, int or Generator
        Seeds the forest.
    n_trees : int, optional
        Trees in the forest; default sqrt(N) / 3, clipped to [10, 50].
    search_k : int, optional
        Nodes inspected per query; default 60 per neighbour requested (k + 1 in
        :meth:`build`, whose answers include the point itself). Larger is slower and more
        accurate.
    projection : "auto", int or None, default "auto"
        Search wide data in a projection onto this many principal components, then re-rank
        ``CANDIDATE_FACTOR`` times as many candidates as requested by their exact distance in
        all features (distances returned are always exact). "auto": ``PROJECTION_DIM``
        components for Euclidean data with more than ``PROJECT_ABOVE`` features; None: never.
    """

    name = "annoy"
    metrics = frozenset(ANNOY_METRICS)
    supports_sparse = False

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None,
                 n_trees=None, search_k=None, projection="auto"):
        super().__init__(metric, metric_params, n_jobs, random_state)
        if self.metric_params:
            raise ValueError(f"Annoy's {self.metric!r} metric takes no parameters, got {self.metric_params}.")
        for name, value in (("n_trees", n_trees), ("search_k", search_k)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                      or value < 1):
                raise ValueError(f"{name} must be a positive integer or None, got {value!r}.")
        self.n_trees = n_trees
        self.search_k = search_k
        self.projection = _projection.check_projection(projection)
        self._index = None
        self._axes = None

    @staticmethod
    def default_n_trees(n_samples):
        """Trees used for ``n_samples`` points when ``n_trees`` is None."""
        return int(np.clip(round(np.sqrt(n_samples) / TREES_SQRT_DIVISOR), MIN_TREES, MAX_TREES))

    def _search_k(self, n_requested):
        return self.search_k if self.search_k is not None else SEARCH_K_PER_NEIGHBOR * n_requested

    def build(self, X, k):
        given = X  # the caller's data: what the index keeps must not be it (see owned)
        from annoy import AnnoyIndex

        X = self._dense_input(X, "X")
        n, d = X.shape
        self._check_k(k, n - 1)
        self._axes = self._principal_axes(X)
        Xs = self._project(X)
        index = AnnoyIndex(Xs.shape[1], ANNOY_METRICS[self.metric])
        index.set_seed(seed_from(self.random_state))
        # list rows convert to C floats faster than numpy rows (one sequence protocol call);
        # in chunks, since a list of N x D Python floats costs 32 bytes a value
        for start in range(0, n, ADD_CHUNK_ROWS):
            for i, row in enumerate(Xs[start:start + ADD_CHUNK_ROWS].tolist(), start):
                index.add_item(i, row)
        del Xs
        self.n_trees_ = self.n_trees or self.default_n_trees(n)
        index.build(self.n_trees_, n_jobs=self.threads)
        self._index = index
        self.n_samples_, self.n_features_ = n, d
        # with a projection, more candidates than asked for, to re-rank in all features; the
        # search effort stays that of the neighbours asked for, which keeps the projected
        # search both faster and more accurate than the unprojected one (docs/neighbors.md)
        k_ask = k + 1 if self._axes is None else min(n, CANDIDATE_FACTOR * (k + 1))
        search_k = self._search_k(k + 1)

        def neighbours_of_items(indices, distances, start, stop):
            for i in range(start, stop):
                indices[i], distances[i] = index.get_nns_by_item(i, k_ask, search_k, True)

        answers = self._run(neighbours_of_items, n, k_ask, copy=False)
        if self._axes is not None:
            self._reference = owned(X, given)
            answers = self._rerank(X, answers[0], k + 1)
        # drop the point itself: usually first, but duplicates tie with it at distance 0
        indices, distances = np.empty((n, k), dtype=np.int64), np.empty((n, k))
        _knn.drop_self(*answers, indices, distances, self.threads)
        del answers  # the shared mapping goes with it
        distances = self._to_metric_units(distances)
        _knn.sort_rows_inplace(indices, distances, self.threads)
        return indices, distances

    def query(self, X_new, k):
        self._check_fitted()
        self._check_k(k, self.n_samples_)
        X_new = self._dense_input(X_new, "X_new")
        self._check_query_width(X_new, self.n_features_)
        k_ask = k if self._axes is None else min(self.n_samples_, CANDIDATE_FACTOR * k)
        index, search_k, rows = self._index, self._search_k(k), self._project(X_new).tolist()

        def neighbours_of_vectors(indices, distances, start, stop):
            for i in range(start, stop):
                indices[i], distances[i] = index.get_nns_by_vector(rows[i], k_ask, search_k, True)

        indices, distances = self._run(neighbours_of_vectors, len(rows), k_ask)
        if self._axes is not None:
            indices, distances = self._rerank(X_new, indices, k)
        indices, distances = indices.astype(np.int64), self._to_metric_units(distances.astype(np.float64))
        _knn.sort_rows_inplace(indices, distances, self.threads)
        return indices, distances

    def _run(self, fill, n_rows, k, copy=True):
        # Annoy computes in float32 and numbers items with int32: nothing is lost at this width
        indices = shared_empty((n_rows, k), np.int32 if self.n_samples_ < 2 ** 31 else np.int64)
        distances = shared_empty((n_rows, k), np.float32)
        run_split(lambda start, stop: fill(indices, distances, start, stop), n_rows, self.threads)
        if not copy:
            return indices, distances
        # copied out of the shared mapping, which is released with these temporaries
        return np.array(indices), np.array(distances)

    # -- projected search for wide data ----------------------------------------------------

    def _principal_axes(self, X):
        """(mean (D,), axes (D, m)) float64 of X's first principal components, or None."""
        return _projection.principal_axes(X, self.projection, self.metric)

    def _project(self, X):
        """X in the searched coordinates: itself, or its principal components (float32)."""
        return X if self._axes is None else _projection.project(X, self._axes)

    def _rerank(self, Q, candidates, k):
        """The k nearest of each row's candidates by exact distance in all features:
        (M, k) int64 indices and float64 Euclidean distances, rows sorted by (distance, index)."""
        indices, squared = _projection.rerank(Q, self._reference, candidates, k, self.threads)
        return indices, np.sqrt(squared, out=squared)

    def _dense_input(self, X, what):
        X = super()._dense_input(X, what)
        if self.metric == "hamming" and not np.isin(X, (0, 1)).all():
            raise ValueError("Annoy's hamming metric needs 0/1 data (it packs one bit per feature); "
                             "use neighbors='pynndescent' or 'exact' for hamming on other values.")
        return X

    def _to_metric_units(self, d):
        if self.metric == "cosine":
            return d * d / 2.0  # Annoy's angular distance is sqrt(2 - 2 cos)
        if self.metric == "hamming":
            return d / self.n_features_  # Annoy counts differing bits
        if self.metric == "dot":
            return np.where(d > 0, 1.0 - d, 1.0)  # Annoy returns the inner product
        return d

    # -- persistence: the forest travels as bytes, through memory, never through a kept file

    @classmethod
    def check_state(cls, state):
        super().check_state(state)
        n, d = state["n_samples_"], state["n_features_"]
        axes = state.get("_axes")
        width = d
        if axes is not None:
            if not isinstance(axes, (tuple, list)) or len(axes) != 2:
                raise ValueError("the Annoy index's projection is not a (mean, axes) pair.")
            mean = state_array({"mean": axes[0]}, "mean", (d,), "f", "the projection's mean")
            V = state_array({"axes": axes[1]}, "axes", (d, None), "f", "the projection's axes")
            if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(V))) or V.shape[1] < 1:
                raise ValueError("the Annoy index's projection is empty or not finite.")
            width = V.shape[1]
        blob = state.get("_index")
        if not isinstance(blob, bytes):
            raise ValueError("the Annoy index is missing.")
        check_annoy_blob(blob, ANNOY_METRICS[state["metric"]], width, n)

    def __getstate__(self):
        state = dict(self.__dict__)
        if self._index is not None:
            state["_index"] = _save_to_bytes(self._index)
        return state

    def __setstate__(self, state):
        blob = state.get("_index")
        self.__dict__.update(state)
        self.__dict__.setdefault("_axes", None)  # saved before projections existed
        self.__dict__.setdefault("projection", None)
        if blob is not None:
            from annoy import AnnoyIndex
            # the forest indexes the projection when there is one
            width = self.n_features_ if self._axes is None else self._axes[1].shape[1]
            self._index = AnnoyIndex(width, ANNOY_METRICS[self.metric])
            _load_from_bytes(self._index, blob)


def _annoy_layout(metric, width):
    """(node size in bytes, int32 offset of the children) of Annoy's nodes for ``metric``."""
    if metric in ("euclidean", "manhattan"):  # n_descendants, a, children[2], v[f]
        return 16 + 4 * width, 2
    if metric == "angular":  # n_descendants, children[2], v[f]
        return 12 + 4 * width, 1
    if metric == "dot":  # n_descendants, children[2], dot_factor, v[f]
        return 16 + 4 * width, 1
    return 16 + 8 * ((width + 63) // 64), 1  # hamming: v in 64-bit words, 8-byte aligned


def check_annoy_blob(blob, metric, width, n_items):
    """Raise ValueError unless ``blob`` is a well-formed Annoy forest over ``n_items`` items.

    Annoy trusts its file: a node pointing outside the file, or back up its own tree, makes
    it read out of bounds or loop for ever. Annoy writes the items first (one node each),
    then every tree bottom-up, so a split node's children precede it, and last the roots,
    whose descendant count is the number of items. A node with at most K descendants lists
    them (item ids) in place of its two children.
    """
    size, first_child = _annoy_layout(metric, width)
    if len(blob) % size or len(blob) // size <= n_items:
        raise ValueError(f"the Annoy index is {len(blob)} bytes, not a forest of {size}-byte nodes "
                         f"over {n_items} items.")
    words = np.frombuffer(blob, dtype=np.int32).reshape(-1, size // 4)
    count, K = words[:, 0], size // 4 - first_child
    if count[-1] != n_items or np.any(count[:n_items] != 1):
        raise ValueError(f"the Annoy index does not hold {n_items} items.")
    node = np.arange(words.shape[0])
    inner = node >= n_items
    if np.any(count[inner] < 2) or np.any(count[inner] > n_items):
        raise ValueError("the Annoy index has nodes with impossible descendant counts.")
    listing = inner & (count <= K)
    slots = words[:, first_child:]
    listed = np.arange(K)[None, :] < count[:, None]
    ids = slots[listing][listed[listing]]
    if ids.size and (ids.min() < 0 or ids.max() >= n_items):
        raise ValueError("the Annoy index lists items that do not exist.")
    split = inner & (count > K)
    children = slots[split, :2]
    if children.size and (children.min() < 0 or np.any(children >= node[split, None])):
        raise ValueError("the Annoy index has children outside the file or after their parent.")


def _save_to_bytes(index):
    """Annoy's on-disk format as bytes (Annoy only saves to a path)."""
    with _scratch_file() as (fd, path):
        if not index.save(path):
            raise OSError("Annoy could not save the index.")
        # by name, not by descriptor: Annoy unlinks and recreates a regular file on save
        with open(path, "rb") as f:
            return f.read()


def _load_from_bytes(index, blob):
    with _scratch_file() as (fd, path):
        os.write(fd, blob)
        # Annoy mmaps the file; the mapping outlives the file's name and our descriptor
        if not index.load(path):
            raise OSError("Annoy could not load the index.")


class _scratch_file:
    """An anonymous in-memory file (Linux memfd) named by /proc/self/fd, else a temp file
    that is removed on exit whatever happens."""

    def __enter__(self):
        self._path = None
        if hasattr(os, "memfd_create"):
            try:
                self._fd = os.memfd_create("fasttsne-annoy")
                return self._fd, f"/proc/self/fd/{self._fd}"
            except OSError:  # e.g. a sandbox without memfd
                pass
        self._fd, self._path = tempfile.mkstemp(suffix=".ann")
        return self._fd, self._path

    def __exit__(self, *exc):
        os.close(self._fd)
        if self._path is not None and os.path.exists(self._path):
            os.remove(self._path)
        return False
