"""Approximate nearest neighbours: a random-projection forest refined by NN-descent.

The hot loops are in ``ext/``: ``_rptrees.pyx`` (the trees), ``_nndescent.pyx`` (the k-NN
graph) and ``_rpquery.pyx`` (queries), sharing ``_rpcommon.pxd`` (see their docstrings). A few
random-projection trees with leaves of about k to 2k points give every point a first list of
neighbours (all pairs within its leaves); rounds of NN-descent's local join (neighbours of
neighbours, reverse neighbours included, sampled) then improve the lists until few change.
The join measures each pair once and queues the updates; each heap receives its updates in
an order fixed by the data, so the result depends on ``random_state`` only, not on ``n_jobs``.
The parameters' measurements are in docs/neighbors.md and docs/performance.md.
"""
import numpy as np

from .._ext import _knn, _nndescent, _rpquery, _rptrees
from . import _projection
from .base import owned, check_ids, state_array, NeighborBackend, seed_from

__all__ = ["RPForest"]

#: Trees in the forest. Each tree costs one all-pairs pass over leaves of k + 1 to 2k + 1
#: points; NN-descent repairs what the trees miss. 8 trees save NN-descent a round over 4, for
#: less than the round costs (docs/neighbors.md, "Figures behind the backends' constants").
DEFAULT_TREES = 8
#: New (and, separately, old) candidates sampled per point and round in NN-descent. A round
#: costs ~1.5 S^2 distances per point (each pair once); larger S take fewer but longer rounds,
#: and S = 20 converged in the least time (docs/neighbors.md).
DEFAULT_CANDIDATES = 20
#: NN-descent stops after this many rounds, or after a round that inserts fewer than
#: STOP_FRACTION * N * (heap size) entries. 1% rather than 3% buys recall for a few more
#: rounds, and with it a whole fit's KL below openTSNE's (docs/performance.md).
DEFAULT_MAX_ROUNDS = 10
STOP_FRACTION = 0.01
#: Projected search (wide data): heaps of ceil(PROJECTED_HEAP_FACTOR * (k + 1)) candidates are
#: re-ranked in all features. Annoy's factor 2 finds more of the neighbours but makes heaps and
#: leaves, and so every round, about twice as large (docs/neighbors.md).
PROJECTED_HEAP_FACTOR = 4 / 3
#: Graph edges kept per point for queries (the best-first expansion's out-degree).
QUERY_GRAPH_DEGREE = 15
#: Expansion rounds at most per query (it stops earlier when no new candidate enters).
QUERY_MAX_ROUNDS = 10
#: int32 point ids inside the kernels.
MAX_SAMPLES = 2 ** 31 - 2


class RPForest(NeighborBackend):
    """Random-projection forest + NN-descent, in Cython on ``n_jobs`` threads.

    Parameters
    ----------
    metric : {"euclidean", "sqeuclidean", "cosine"}
        Distances returned: Euclidean, squared Euclidean, or ``1 - cos`` (1 for an all-zero
        row), all recomputed exactly in float64 from the data (cosine: from the normalised rows).
    metric_params : dict, optional
        Not used (these metrics take none).
    n_jobs : int
    random_state : None, int or Generator
        Seeds the trees and the NN-descent sampling; the neighbours found depend on it only.
    n_trees : int, optional
        Random-projection trees; default ``DEFAULT_TREES``.
    n_candidates : int, optional
        Candidates sampled per point and round; default ``DEFAULT_CANDIDATES``.
    max_rounds : int, optional
        NN-descent rounds at most (0: trees only); default ``DEFAULT_MAX_ROUNDS``.
    projection : "auto", int or None, default "auto"
        Search wide data in a projection onto this many principal components and re-rank
        ``PROJECTED_HEAP_FACTOR`` times as many candidates exactly in all features (see
        :mod:`fasttsne.neighbors._projection`); "auto": 100 components above 200 features;
        None: never.
    """

    name = "rpforest"
    metrics = frozenset({"euclidean", "sqeuclidean", "cosine"})
    supports_sparse = False

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None,
                 n_trees=None, n_candidates=None, max_rounds=None, projection="auto"):
        super().__init__(metric, metric_params, n_jobs, random_state)
        if self.metric_params:
            raise ValueError(f"the {self.metric!r} metric takes no parameters, got {self.metric_params}.")
        for name, value, low in (("n_trees", n_trees, 1), ("n_candidates", n_candidates, 1),
                                 ("max_rounds", max_rounds, 0)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                                      or value < low):
                raise ValueError(f"{name} must be an integer >= {low} or None, got {value!r}.")
        self.n_trees = n_trees
        self.n_candidates = n_candidates
        self.max_rounds = max_rounds
        self.projection = _projection.check_projection(projection)
        self.n_rounds_ = None

    # -- build ------------------------------------------------------------------------------

    def build(self, X, k):
        given = X  # the caller's data: what the index keeps must not be it (see owned)
        X = self._dense_input(X, "X")
        n, d = X.shape
        self._check_k(k, n - 1)
        if n > MAX_SAMPLES:
            raise ValueError(f"neighbour backend 'rpforest' indexes at most {MAX_SAMPLES} points, got {n}.")
        self.n_samples_, self.n_features_ = n, d
        R = self._normalised(X)
        self._axes = _projection.principal_axes(R, self.projection, self._euclidean_name())
        search = self._search_coordinates(R)
        # projected: more candidates than asked for, to re-rank in all features
        heap_size = k if self._axes is None else min(n - 1, _projected_candidates(k + 1))
        seed = seed_from(self.random_state)
        search = self._grow_forest(search, heap_size, seed)
        dist, idx, flag = self._forest_graph(search, heap_size)
        self.n_rounds_ = self._descend(search, dist, idx, flag, seed)
        del flag
        _nndescent.sort_heaps(dist, idx, self.threads)
        del dist
        self._graph = np.ascontiguousarray(idx[:, :min(QUERY_GRAPH_DEGREE, heap_size)])
        self._search = search
        # kept for queries' exact re-ranking only when the search is a projection (else the
        # float32 search copy serves); its own copy, so the caller may change X afterwards
        self._reference = owned(R, given) if self._axes is not None else None
        # back from the forest's order to the caller's ids; rows re-ranked in the forest's order
        # (neighbouring rows share candidates, read from cache)
        candidates = self._order[idx[self._rank]]
        del idx
        indices, squared = _projection.rerank(R, R, candidates, k, self.threads, order=self._order)
        dist = self._to_metric_units(squared, R, R, indices)
        if self.metric == "cosine":
            _knn.sort_rows_inplace(indices, dist, self.threads)  # zero rows moved to distance 1
        return indices, dist

    def _grow_forest(self, search, heap_size, seed):
        """Grow the trees; returns ``search`` renumbered in the first tree's leaf order.

        Neighbours mostly share leaves, so in that order the rows the joins read are close in
        memory, which makes NN-descent markedly faster. ``_order[local] = original``
        and ``_rank[original] = local`` convert ids.
        """
        n = search.shape[0]
        # leaves of at least heap_size + 1 points fill every heap from the first tree
        min_leaf = heap_size + 1
        n_trees = self.n_trees or DEFAULT_TREES
        max_nodes = max(1, n // min_leaf)
        self._perm = np.empty((n_trees, n), dtype=np.int32)
        self._normals = np.zeros((n_trees, max_nodes, search.shape[1]), dtype=np.float32)
        self._thresholds = np.zeros((n_trees, max_nodes), dtype=np.float32)
        self._children = np.zeros((n_trees, max_nodes, 2), dtype=np.int32)
        self._leaf_bounds = np.zeros((n_trees, max_nodes + 1, 2), dtype=np.int32)
        self._counts = np.zeros((n_trees, 2), dtype=np.int32)
        _rptrees.build_forest(search, self._perm, self._normals, self._thresholds, self._children,
                               self._leaf_bounds, self._counts, min_leaf, seed, self.threads)
        # trim the preallocated node arrays to the largest tree (they are pickled)
        used = max(1, int(self._counts[:, 0].max()))
        self._normals = np.ascontiguousarray(self._normals[:, :used])
        self._thresholds = np.ascontiguousarray(self._thresholds[:, :used])
        self._children = np.ascontiguousarray(self._children[:, :used])
        self._leaf_bounds = np.ascontiguousarray(self._leaf_bounds[:, :int(self._counts[:, 1].max())])
        self._order = self._perm[0].copy()
        self._rank = np.empty(n, dtype=np.int32)
        self._rank[self._order] = np.arange(n, dtype=np.int32)
        for t in range(n_trees):
            self._perm[t] = self._rank[self._perm[t]]
        return np.ascontiguousarray(search[self._order])

    def _forest_graph(self, search, heap_size):
        n = search.shape[0]
        dist = np.empty((n, heap_size), dtype=np.float32)
        idx = np.empty((n, heap_size), dtype=np.int32)
        flag = np.empty((n, heap_size), dtype=np.uint8)
        _nndescent.init_heaps(dist, idx, flag)
        for t in range(self._perm.shape[0]):
            _nndescent.leaf_join(search, self._perm[t], self._leaf_bounds[t], int(self._counts[t, 1]),
                                dist, idx, flag, t == 0, self.threads)
        return dist, idx, flag

    def _descend(self, search, dist, idx, flag, seed):
        """NN-descent rounds on the heaps; returns the number of rounds run."""
        n, heap_size = idx.shape
        max_rounds = DEFAULT_MAX_ROUNDS if self.max_rounds is None else self.max_rounds
        s = min(self.n_candidates or DEFAULT_CANDIDATES, heap_size)
        new_c, old_c = np.empty((n, s), dtype=np.int32), np.empty((n, s), dtype=np.int32)
        new_n, old_n = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32)
        rng = np.random.default_rng(seed)
        for r in range(max_rounds):
            _nndescent.sample_candidates(idx, flag, new_c, new_n, old_c, old_n,
                                        int(rng.integers(2 ** 63 - 1)), self.threads)
            inserted = _nndescent.descent_round(search, dist, idx, flag, new_c, new_n, old_c, old_n,
                                               self.threads)
            if inserted <= STOP_FRACTION * n * heap_size:
                return r + 1
        return max_rounds

    # -- query ------------------------------------------------------------------------------

    def query(self, X_new, k):
        self._check_fitted()
        self._check_k(k, self.n_samples_)
        X_new = self._dense_input(X_new, "X_new")
        self._check_query_width(X_new, self.n_features_)
        Q = self._normalised(X_new)
        n = self.n_samples_
        c = k if self._axes is None else min(n, _projected_candidates(k))
        local = np.empty((Q.shape[0], c), dtype=np.int32)
        coordinates = self._search_coordinates(Q)
        order = self._query_order(coordinates)
        _rpquery.query(self._search, coordinates, self._perm, self._normals, self._thresholds,
                       self._children, self._leaf_bounds, self._counts, self._graph, QUERY_MAX_ROUNDS,
                       order, local, self.threads)
        # narrow data: distances from the float32 search copy (in the forest's order), ids
        # mapped back afterwards; projected data: candidates re-ranked in all features
        if self._reference is None:
            R, to_reference = self._search, None
        else:
            R, to_reference = self._reference, self._order
            Q = np.ascontiguousarray(Q, dtype=R.dtype)
        short = np.flatnonzero((local == np.iinfo(np.int32).max).any(axis=1))
        local[short] = 0
        cand = local if to_reference is None else to_reference[local]
        if short.size:
            # the forest and graph reached fewer than c points (tiny or disconnected data):
            # those rows take every indexed point as a candidate
            cand = cand.astype(np.int64)
            full = np.broadcast_to(np.arange(n), (short.size, n))
            cand[short] = _projection.rerank(Q[short], R, full, c, self.threads)[0]
        indices, squared = _projection.rerank(Q, R, cand, k, self.threads, order=order)
        dist = self._to_metric_units(squared, Q, R, indices)
        if to_reference is None:
            indices = self._order[indices].astype(np.int64)
        _knn.sort_rows_inplace(indices, dist, self.threads)
        return indices, dist

    def _query_order(self, coordinates):
        """The order to search the queries in: grouped by their leaf in the first tree (stable).

        Queries in one leaf share most candidates, so searched one after the other they read
        the same indexed rows from cache; the answers do not depend on the order.
        """
        leaf = np.empty(coordinates.shape[0], dtype=np.int32)
        _rpquery.leaves(coordinates, self._normals, self._thresholds, self._children, self._counts, leaf,
                        self.threads)
        return np.argsort(leaf, kind="stable").astype(np.int32)

    # -- persistence ------------------------------------------------------------------------

    @classmethod
    def check_state(cls, state):
        """The forest and graph must be what :meth:`build` makes: the query kernel walks them
        without bounds checks."""
        super().check_state(state)
        n, d = state["n_samples_"], state["n_features_"]
        axes = state.get("_axes")
        if axes is not None:
            if not isinstance(axes, (tuple, list)) or len(axes) != 2:
                raise ValueError("the forest's projection is not a (mean, axes) pair.")
            state_array({"mean": axes[0]}, "mean", (d,), "f", "the projection's mean")
            state_array({"axes": axes[1]}, "axes", (d, None), "f", "the projection's axes")
            if state.get("_reference") is None:
                raise ValueError("a projected forest needs the indexed data.")
        search = state_array(state, "_search", (n, None), "f", "the forest's coordinates")
        width = search.shape[1] if axes is None else axes[1].shape[1]
        if search.dtype != np.float32 or search.shape[1] != width or not search.flags.c_contiguous:
            raise ValueError("the forest's coordinates do not match its data.")
        perm = state_array(state, "_perm", (None, n), "i", "the forest's leaf order")
        T = perm.shape[0]
        normals = state_array(state, "_normals", (T, None, width), "f", "the forest's split normals")
        M = normals.shape[1]
        state_array(state, "_thresholds", (T, M), "f", "the forest's split thresholds")
        children = state_array(state, "_children", (T, M, 2), "i", "the forest's children")
        bounds = state_array(state, "_leaf_bounds", (T, None, 2), "i", "the forest's leaves")
        counts = state_array(state, "_counts", (T, 2), "i", "the forest's sizes")
        graph = state_array(state, "_graph", (n, None), "i", "the search graph")
        order = state_array(state, "_order", (n,), "i", "the forest's order")
        rank = state_array(state, "_rank", (n,), "i", "the forest's ranks")
        for key, a in (("_perm", perm), ("_normals", normals), ("_thresholds", state["_thresholds"]),
                       ("_children", children), ("_leaf_bounds", bounds), ("_counts", counts),
                       ("_graph", graph), ("_order", order), ("_rank", rank)):
            want = np.float32 if key in ("_normals", "_thresholds") else np.int32
            if a.dtype != want or not a.flags.c_contiguous:
                raise ValueError(f"the forest's {key} is {a.dtype}, expected C-ordered {np.dtype(want)}.")
        check_ids(perm, n, "the forest's leaf order")
        check_ids(graph, n, "the search graph")
        if T < 1 or graph.shape[1] < 1:
            raise ValueError("the forest has no trees or the graph no edges.")
        if not (np.array_equal(np.sort(order), np.arange(n)) and np.array_equal(rank[order], np.arange(n))):
            raise ValueError("the forest's order and ranks are not inverse permutations.")
        L = bounds.shape[1]
        if np.any(counts[:, 0] < 0) or np.any(counts[:, 0] > M) or np.any(counts[:, 1] < 1) \
                or np.any(counts[:, 1] > L):
            raise ValueError("the forest's node and leaf counts exceed its arrays.")
        for t in range(T):
            nodes, leaves = int(counts[t, 0]), int(counts[t, 1])
            c = children[t, :nodes]
            below = np.arange(nodes)[:, None]
            # a child node comes after its parent (no cycles); a leaf -l-1 is one of the tree's
            if np.any((c >= 0) & ((c <= below) | (c >= nodes))) or np.any((c < 0) & (-c - 1 >= leaves)):
                raise ValueError(f"tree {t} of the forest has children outside it or cycles.")
            b = bounds[t, :leaves]
            if np.any(b[:, 0] < 0) or np.any(b[:, 0] > b[:, 1]) or np.any(b[:, 1] > n):
                raise ValueError(f"tree {t} of the forest has leaves outside its points.")

    # -- helpers ----------------------------------------------------------------------------

    def _euclidean_name(self):
        # every metric here is a Euclidean search, on normalised rows for cosine
        return "euclidean"

    def _normalised(self, X):
        """Rows whose Euclidean distances rank as the metric's: X itself, or unit rows (cosine)."""
        if self.metric != "cosine":
            return X
        norms = np.linalg.norm(X, axis=1, keepdims=True)
        # all-zero rows stay zero; _to_metric_units gives them distance 1
        return X / np.where(norms > 0, norms, 1.0)

    def _search_coordinates(self, X):
        """float32 coordinates the trees and graph search: X, or its principal components."""
        if self._axes is None:
            return np.ascontiguousarray(X, dtype=np.float32)
        return _projection.project(X, self._axes)

    def _to_metric_units(self, squared, Q, R, indices):
        if self.metric == "sqeuclidean":
            return squared
        if self.metric == "euclidean":
            return np.sqrt(squared, out=squared)
        # unit rows: 1 - cos(a, b) = |a - b|^2 / 2; a zero row is orthogonal to every row
        dist = squared / 2.0
        dist[~np.any(Q, axis=1)] = 1.0
        dist[~np.any(R, axis=1)[indices]] = 1.0
        return dist


def _projected_candidates(k):
    """Candidates kept in the projection for k neighbours re-ranked in all features."""
    return int(np.ceil(PROJECTED_HEAP_FACTOR * k))
