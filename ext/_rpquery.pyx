# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Queries of the rpforest k-NN backend (fasttsne.neighbors.rpforest): new points searched in
the forest (``_rptrees``) and the k-NN graph (``_nndescent``), on float32 coordinates.

Each query gathers the members of its leaf in every tree into a bounded heap
(``_rpcommon.pxd``), then expands best-first through the graph until no new candidate enters.
Queries are independent: each thread owns its heap and its visited stamps.
"""
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY
from libc.stdint cimport int32_t, uint8_t, INT32_MAX
from libc.stdlib cimport malloc, free

from _distances cimport dot_f32, squared_distance_f32
from _heap cimport heap_sort
from _rpcommon cimport knn_push


def query(const float[:, ::1] X, const float[:, ::1] Q, const int32_t[:, ::1] perm,
          const float[:, :, ::1] normals, const float[:, ::1] thresholds,
          const int32_t[:, :, ::1] children, const int32_t[:, :, ::1] leaf_bounds,
          const int32_t[:, ::1] counts, const int32_t[:, ::1] graph, Py_ssize_t max_rounds,
          int32_t[:, ::1] out, int n_jobs=1):
    """Approximate nearest indexed points of each query: the members of its leaf in every tree,
    then best-first expansion through the k-NN graph until no new candidate enters.

    Parameters
    ----------
    X : (N, d) float32 indexed points; Q : (M, d) float32 queries.
    perm, normals, thresholds, children, leaf_bounds, counts : the forest (``_rptrees.build_forest``).
    graph : (N, G) int32
        Each indexed point's nearest indexed points (the expansion's edges).
    max_rounds : int
        Expansion rounds at most.
    out : (M, c) int32
        Output: the c best candidates by increasing (distance, index); INT32_MAX where fewer
        than c were found (only when the forest and graph reach fewer than c points).
    """
    cdef Py_ssize_t m = Q.shape[0], n = X.shape[0], d = X.shape[1], c = out.shape[1]
    cdef Py_ssize_t n_trees = perm.shape[0], G = graph.shape[1], qi, t, a, b, r, lo, hi
    cdef int n_threads = max(1, n_jobs)
    cdef int32_t node, w, changed
    cdef float* hd_all = <float*> malloc(n_threads * max(1, c) * sizeof(float))
    cdef int32_t* hi_all = <int32_t*> malloc(n_threads * max(1, c) * sizeof(int32_t))
    cdef uint8_t* hf_all = <uint8_t*> malloc(n_threads * max(1, c))
    cdef int32_t* stamps = <int32_t*> malloc(n_threads * max(1, n) * sizeof(int32_t))
    cdef int32_t* expand = <int32_t*> malloc(n_threads * max(1, c) * sizeof(int32_t))
    cdef float* hd
    cdef int32_t* hid
    cdef uint8_t* hf
    cdef int32_t* stamp
    cdef int32_t* todo
    cdef Py_ssize_t n_todo
    cdef const float* x0 = &X[0, 0]
    cdef const float* xq
    if hd_all == NULL or hi_all == NULL or hf_all == NULL or stamps == NULL or expand == NULL:
        free(hd_all)
        free(hi_all)
        free(hf_all)
        free(stamps)
        free(expand)
        raise MemoryError()
    try:
        with nogil:
            for a in range(n_threads * n):
                stamps[a] = -1
        for qi in prange(m, nogil=True, num_threads=n_threads, schedule="guided"):
            hd = hd_all + threadid() * c
            hid = hi_all + threadid() * c
            hf = hf_all + threadid() * c
            stamp = stamps + threadid() * n
            todo = expand + threadid() * c
            xq = &Q[qi, 0]
            for a in range(c):
                hd[a] = INFINITY
                hid[a] = INT32_MAX
                hf[a] = 0
            for t in range(n_trees):
                node = 0 if counts[t, 0] > 0 else -1
                while node >= 0:
                    if dot_f32(&normals[t, node, 0], xq, d) >= thresholds[t, node]:
                        node = children[t, node, 1]
                    else:
                        node = children[t, node, 0]
                lo = leaf_bounds[t, -node - 1, 0]
                hi = leaf_bounds[t, -node - 1, 1]
                for a in range(lo, hi):
                    w = perm[t, a]
                    if stamp[w] != qi:
                        stamp[w] = <int32_t> qi
                        knn_push(hd, hid, hf, c, squared_distance_f32(xq, x0 + w * d, d), w)
            for r in range(max_rounds):
                n_todo = 0
                for a in range(c):
                    if hf[a] and hid[a] != INT32_MAX:
                        hf[a] = 0
                        todo[n_todo] = hid[a]
                        n_todo = n_todo + 1
                if n_todo == 0:
                    break
                for a in range(n_todo):
                    for b in range(G):
                        w = graph[todo[a], b]
                        if stamp[w] != qi:
                            stamp[w] = <int32_t> qi
                            knn_push(hd, hid, hf, c, squared_distance_f32(xq, x0 + w * d, d), w)
            heap_sort(hd, hid, NULL, c)
            for a in range(c):
                out[qi, a] = hid[a]
    finally:
        free(hd_all)
        free(hi_all)
        free(hf_all)
        free(stamps)
        free(expand)
