# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Random-projection trees of the rpforest k-NN backend (fasttsne.neighbors.rpforest), grown on
a float32 (N, d) copy of the searched coordinates.

Each node splits its points at the median of their projections on the difference of two
random members, so both halves have the same size (within one) and every leaf holds between
``min_leaf`` and ``2 min_leaf - 1`` points. Trees grow in parallel, each from its own random
stream, so the forest does not depend on the thread count.
"""
from cython.parallel cimport prange
from libc.stdint cimport int32_t, uint64_t
from libc.stdlib cimport malloc, free

from _distances cimport dot_f32
from _rpcommon cimport mix64

cdef enum:
    # attempts at drawing two members with distinct coordinates for a split direction
    SPLIT_RETRIES = 4


cdef inline uint64_t _next(uint64_t* state) noexcept nogil:
    """The next draw of a SplitMix64 stream (advances ``state``)."""
    state[0] = state[0] + <uint64_t> 0x9E3779B97F4A7C15
    return mix64(state[0])


cdef struct Tree:
    # one tree's storage, all preallocated by the caller
    int32_t* perm         # (N,) point ids, leaves are contiguous runs
    float* normals        # (max_nodes, d) split directions
    float* thresholds     # (max_nodes,) projections >= threshold go right
    int32_t* children     # (max_nodes, 2): >= 0 an inner node, < 0 leaf -(id + 1)
    int32_t* leaf_bounds  # (max_leaves, 2) [start, stop) into perm
    int32_t n_nodes
    int32_t n_leaves


cdef inline void _swap(float* v, int32_t* p, Py_ssize_t a, Py_ssize_t b) noexcept nogil:
    cdef float tv = v[a]
    cdef int32_t tp = p[a]
    v[a] = v[b]
    p[a] = p[b]
    v[b] = tv
    p[b] = tp


cdef void _select(float* v, int32_t* p, Py_ssize_t lo, Py_ssize_t hi, Py_ssize_t nth) noexcept nogil:
    """Reorder v[lo:hi] (and p alongside) so v[nth] is the value of its rank, smaller or equal
    values before it and greater or equal after (quickselect, median-of-three pivots)."""
    cdef Py_ssize_t i, j, m
    cdef float pivot, a, b, c
    hi = hi - 1
    while hi > lo:
        m = lo + (hi - lo) // 2
        a = v[lo]
        b = v[m]
        c = v[hi]
        if (a <= b and b <= c) or (c <= b and b <= a):
            pivot = b
        elif (b <= a and a <= c) or (c <= a and a <= b):
            pivot = a
        else:
            pivot = c
        i = lo
        j = hi
        while i <= j:
            while v[i] < pivot:
                i = i + 1
            while v[j] > pivot:
                j = j - 1
            if i <= j:
                _swap(v, p, i, j)
                i = i + 1
                j = j - 1
        if nth <= j:
            hi = j
        elif nth >= i:
            lo = i
        else:
            return


cdef int32_t _grow(const float* X, Py_ssize_t d, Tree* tree, float* proj, Py_ssize_t lo,
                   Py_ssize_t hi, Py_ssize_t min_leaf, uint64_t* rng) noexcept nogil:
    """Split perm[lo:hi] recursively; returns the node's code (see Tree.children)."""
    cdef Py_ssize_t n = hi - lo, a, b, i, f, mid, attempt
    cdef int32_t node, left, right
    cdef float* normal
    cdef float norm2, left_max
    if n < 2 * min_leaf:
        tree.leaf_bounds[2 * tree.n_leaves] = <int32_t> lo
        tree.leaf_bounds[2 * tree.n_leaves + 1] = <int32_t> hi
        tree.n_leaves = tree.n_leaves + 1
        return -tree.n_leaves
    node = tree.n_nodes
    tree.n_nodes = tree.n_nodes + 1
    normal = tree.normals + node * d
    # duplicates give a zero direction; a few more draws usually find distinct points, and
    # if all are equal the median split below still halves the node by position
    for attempt in range(SPLIT_RETRIES):
        a = lo + <Py_ssize_t> (_next(rng) % <uint64_t> n)
        b = lo + <Py_ssize_t> (_next(rng) % <uint64_t> (n - 1))
        if b >= a:
            b = b + 1
        norm2 = 0.0
        for f in range(d):
            normal[f] = X[tree.perm[a] * d + f] - X[tree.perm[b] * d + f]
            norm2 = norm2 + normal[f] * normal[f]
        if norm2 > 0:
            break
    for i in range(lo, hi):
        proj[i] = dot_f32(normal, X + tree.perm[i] * d, d)
    mid = lo + n // 2
    _select(proj, tree.perm, lo, hi, mid)
    left_max = proj[lo]
    for i in range(lo + 1, mid):
        if proj[i] > left_max:
            left_max = proj[i]
    tree.thresholds[node] = 0.5 * left_max + 0.5 * proj[mid]
    left = _grow(X, d, tree, proj, lo, mid, min_leaf, rng)
    right = _grow(X, d, tree, proj, mid, hi, min_leaf, rng)
    tree.children[2 * node] = left
    tree.children[2 * node + 1] = right
    return node


cdef void _build_tree(const float* X, Py_ssize_t n, Py_ssize_t d, int32_t* perm, float* normals,
                      float* thresholds, int32_t* children, int32_t* leaf_bounds, int32_t* counts,
                      float* proj, Py_ssize_t min_leaf, uint64_t rng) noexcept nogil:
    """One tree (a function of its own so the Tree struct is private to its thread)."""
    cdef Tree tree
    cdef Py_ssize_t i
    tree.perm = perm
    tree.normals = normals
    tree.thresholds = thresholds
    tree.children = children
    tree.leaf_bounds = leaf_bounds
    tree.n_nodes = 0
    tree.n_leaves = 0
    for i in range(n):
        perm[i] = <int32_t> i
    _grow(X, d, &tree, proj, 0, n, min_leaf, &rng)
    counts[0] = tree.n_nodes
    counts[1] = tree.n_leaves


def build_forest(const float[:, ::1] X, int32_t[:, ::1] perm, float[:, :, ::1] normals,
                 float[:, ::1] thresholds, int32_t[:, :, ::1] children, int32_t[:, :, ::1] leaf_bounds,
                 int32_t[:, ::1] counts, Py_ssize_t min_leaf, uint64_t seed, int n_jobs=1):
    """Grow one random-projection tree per row of ``perm``, trees in parallel.

    Parameters
    ----------
    X : (N, d) float32
        Searched coordinates.
    perm : (T, N) int32
        Output: each tree's point ids, its leaves contiguous.
    normals : (T, max_nodes, d) float32, thresholds : (T, max_nodes) float32,
    children : (T, max_nodes, 2) int32, leaf_bounds : (T, max_leaves, 2) int32
        Outputs; max_nodes >= N // min_leaf and max_leaves >= N // min_leaf + 1 suffice.
    counts : (T, 2) int32
        Output: inner nodes and leaves of each tree. A tree whose root is a leaf has 0 nodes.
    min_leaf : int
        Fewest points in a leaf (nodes of fewer than 2 min_leaf points are not split).
    seed : int
        Tree t draws from a stream seeded by (seed, t), whatever the thread count.
    n_jobs : int
    """
    cdef Py_ssize_t n_trees = perm.shape[0], n = X.shape[0], d = X.shape[1], t
    cdef float* proj = <float*> malloc(max(1, n_trees) * max(1, n) * sizeof(float))
    if proj == NULL:
        raise MemoryError()
    try:
        for t in prange(n_trees, nogil=True, num_threads=max(1, n_jobs), schedule="dynamic"):
            _build_tree(&X[0, 0], n, d, &perm[t, 0], &normals[t, 0, 0], &thresholds[t, 0],
                        &children[t, 0, 0], &leaf_bounds[t, 0, 0], &counts[t, 0], proj + t * n,
                        min_leaf, mix64(seed * <uint64_t> 0x100000001B3 + <uint64_t> t))
    finally:
        free(proj)
