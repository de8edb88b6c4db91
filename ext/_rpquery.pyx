# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Queries of the random-projection forest k-NN backend (fasttsne.neighbors.rpforest).

A query takes the members of its leaf in every tree of the forest (``_rptrees.build_forest``)
as first candidates, then expands the best ones through the indexed points' k-NN graph until
no new candidate enters. Nearly every distance reads an indexed row that is not in cache, so
the search is bound by memory latency, not arithmetic. Two things hide it without changing
any result:

- the candidates of each step (a leaf's members, a round's graph neighbours) are listed first
  and their rows prefetched a few distances ahead of use;
- queries run grouped by their leaf in the first tree (:func:`leaves`; the caller orders them),
  so consecutive queries read many of the same rows, which are then still in cache.

Each query's answer depends on that query and the index only (its own heap; rows seen are
marked with the query's own number), so neither the order nor the thread count changes it.
"""
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY
from libc.stdint cimport int32_t, uint8_t, INT32_MAX
from libc.stdlib cimport malloc, free

from _distances cimport dot_f32, squared_distance_f32
from _heap cimport heap_sort
from _rpcommon cimport knn_push, rpf_prefetch

cdef enum:
    # candidates whose rows are requested before the current one's distance is computed
    PREFETCH_AHEAD = 6


cdef inline Py_ssize_t _leaf(const float* xq, Py_ssize_t d, const float[:, :, ::1] normals,
                             const float[:, ::1] thresholds, const int32_t[:, :, ::1] children,
                             const int32_t[:, ::1] counts, Py_ssize_t t) noexcept nogil:
    """The leaf of tree ``t`` that the point ``xq`` falls into."""
    cdef int32_t node = 0 if counts[t, 0] > 0 else -1
    while node >= 0:
        if dot_f32(&normals[t, node, 0], xq, d) >= thresholds[t, node]:
            node = children[t, node, 1]
        else:
            node = children[t, node, 0]
    return -node - 1


def leaves(const float[:, ::1] Q, const float[:, :, ::1] normals, const float[:, ::1] thresholds,
           const int32_t[:, :, ::1] children, const int32_t[:, ::1] counts, int32_t[::1] out,
           int n_jobs=1):
    """Write into ``out`` (M,) the leaf of the first tree that each query of ``Q`` (M, d) falls
    into (the forest as in :func:`query`)."""
    cdef Py_ssize_t m = Q.shape[0], d = Q.shape[1], qi
    if counts.shape[0] == 0:
        return
    for qi in prange(m, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        out[qi] = <int32_t> _leaf(&Q[qi, 0], d, normals, thresholds, children, counts, 0)


cdef inline void _measure(const float* x0, Py_ssize_t d, const float* xq, const int32_t* cand,
                          Py_ssize_t n_cand, float* hd, int32_t* hid, uint8_t* hf,
                          Py_ssize_t c) noexcept nogil:
    """Offer ``cand[:n_cand]`` to the query's heap in their order, each row prefetched
    ``PREFETCH_AHEAD`` candidates before its distance is computed."""
    cdef Py_ssize_t a
    for a in range(min(n_cand, <Py_ssize_t> PREFETCH_AHEAD)):
        rpf_prefetch(x0 + cand[a] * d, d)
    for a in range(n_cand):
        if a + PREFETCH_AHEAD < n_cand:
            rpf_prefetch(x0 + cand[a + PREFETCH_AHEAD] * d, d)
        knn_push(hd, hid, hf, c, squared_distance_f32(xq, x0 + cand[a] * d, d), cand[a])


def query(const float[:, ::1] X, const float[:, ::1] Q, const int32_t[:, ::1] perm,
          const float[:, :, ::1] normals, const float[:, ::1] thresholds,
          const int32_t[:, :, ::1] children, const int32_t[:, :, ::1] leaf_bounds,
          const int32_t[:, ::1] counts, const int32_t[:, ::1] graph, Py_ssize_t max_rounds,
          const int32_t[::1] order, int32_t[:, ::1] out, int n_jobs=1):
    """Approximate nearest indexed points of each query: the members of its leaf in every tree,
    then best-first expansion through the k-NN graph until no new candidate enters.

    Parameters
    ----------
    X : (N, d) float32 indexed points; Q : (M, d) float32 queries.
    perm, normals, thresholds, children, leaf_bounds, counts : the forest
        (``_rptrees.build_forest``).
    graph : (N, G) int32
        Each indexed point's nearest indexed points (the expansion's edges).
    max_rounds : int
        Expansion rounds at most.
    order : (M,) int32
        A permutation of the queries: the order they are processed in (results do not depend
        on it; queries sharing leaves should be neighbours in it).
    out : (M, c) int32
        Output: the c best candidates by increasing (distance, index); INT32_MAX where fewer
        than c were found (only when the forest and graph reach fewer than c points).
    """
    cdef Py_ssize_t m = Q.shape[0], n = X.shape[0], d = X.shape[1], c = out.shape[1]
    cdef Py_ssize_t n_trees = perm.shape[0], G = graph.shape[1], s, qi, t, a, b, r, lo, hi
    cdef Py_ssize_t widest = c * G, n_cand, leaf
    cdef int n_threads = max(1, n_jobs)
    cdef int32_t w
    if order.shape[0] != m:
        raise ValueError(f"order must hold the {m} queries, got {order.shape[0]} entries.")
    for t in range(n_trees):
        for leaf in range(counts[t, 1]):
            widest = max(widest, leaf_bounds[t, leaf, 1] - leaf_bounds[t, leaf, 0])
    cdef float* hd_all = <float*> malloc(n_threads * max(1, c) * sizeof(float))
    cdef int32_t* hi_all = <int32_t*> malloc(n_threads * max(1, c) * sizeof(int32_t))
    cdef uint8_t* hf_all = <uint8_t*> malloc(n_threads * max(1, c))
    cdef int32_t* stamps = <int32_t*> malloc(n_threads * max(1, n) * sizeof(int32_t))
    cdef int32_t* expand = <int32_t*> malloc(n_threads * max(1, c) * sizeof(int32_t))
    cdef int32_t* cand_all = <int32_t*> malloc(n_threads * max(1, widest) * sizeof(int32_t))
    cdef float* hd
    cdef int32_t* hid
    cdef uint8_t* hf
    cdef int32_t* stamp
    cdef int32_t* todo
    cdef int32_t* cand
    cdef Py_ssize_t n_todo
    cdef const float* x0 = &X[0, 0]
    cdef const float* xq
    try:
        if (hd_all == NULL or hi_all == NULL or hf_all == NULL or stamps == NULL or expand == NULL
                or cand_all == NULL):
            raise MemoryError()
        with nogil:
            for a in range(n_threads * n):
                stamps[a] = -1
        for s in prange(m, nogil=True, num_threads=n_threads, schedule="guided"):
            qi = order[s]
            hd = hd_all + threadid() * c
            hid = hi_all + threadid() * c
            hf = hf_all + threadid() * c
            stamp = stamps + threadid() * n
            todo = expand + threadid() * c
            cand = cand_all + threadid() * widest
            xq = &Q[qi, 0]
            for a in range(c):
                hd[a] = INFINITY
                hid[a] = INT32_MAX
                hf[a] = 0
            for t in range(n_trees):
                leaf = _leaf(xq, d, normals, thresholds, children, counts, t)
                lo = leaf_bounds[t, leaf, 0]
                hi = leaf_bounds[t, leaf, 1]
                n_cand = 0
                for a in range(lo, hi):
                    w = perm[t, a]
                    if stamp[w] != qi:
                        stamp[w] = <int32_t> qi
                        cand[n_cand] = w
                        n_cand = n_cand + 1
                _measure(x0, d, xq, cand, n_cand, hd, hid, hf, c)
            for r in range(max_rounds):
                n_todo = 0
                for a in range(c):
                    if hf[a] and hid[a] != INT32_MAX:
                        hf[a] = 0
                        todo[n_todo] = hid[a]
                        n_todo = n_todo + 1
                if n_todo == 0:
                    break
                n_cand = 0
                for a in range(n_todo):
                    for b in range(G):
                        w = graph[todo[a], b]
                        if stamp[w] != qi:
                            stamp[w] = <int32_t> qi
                            cand[n_cand] = w
                            n_cand = n_cand + 1
                _measure(x0, d, xq, cand, n_cand, hd, hid, hf, c)
            heap_sort(hd, hid, NULL, c)
            for a in range(c):
                out[qi, a] = hid[a]
    finally:
        free(hd_all)
        free(hi_all)
        free(hf_all)
        free(stamps)
        free(expand)
        free(cand_all)
