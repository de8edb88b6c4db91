# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Typed helpers shared by the random-projection forest kernels (``_rptrees``, ``_nndescent``,
``_rpquery``): hashing, row prefetching, and the bounded k-NN heaps.

A heap holds (squared distance, index, new-flag) triples, the worst at the root (``_heap.pxd``);
ties rank by index. Empty slots are (+inf, INT32_MAX).
"""
from libc.stdint cimport int32_t, uint8_t, uint64_t

from _heap cimport heap_sift_down, heap_worse

cdef extern from *:
    """
    #include <stdint.h>
    /* Ask for a row's cache lines ahead of use: the searches read rows in an order the
       hardware prefetcher cannot guess. */
    static inline void rpf_prefetch(const float* p, long d) {
        for (long f = 0; f < d; f += 16) __builtin_prefetch(p + f);
    }
    /* Whether j is among the k ids; no early exit, so the compiler vectorises the scan. */
    static inline int rpf_holds(const int32_t* ids, long k, int32_t j) {
        int found = 0;
        for (long a = 0; a < k; a++) found |= (ids[a] == j);
        return found;
    }
    """
    void rpf_prefetch(const float* p, long d) noexcept nogil
    bint rpf_holds(const int32_t* ids, long k, int32_t j) noexcept nogil


cdef inline uint64_t mix64(uint64_t x) noexcept nogil:
    """SplitMix64's finaliser: a bijective scramble of 64 bits."""
    x = (x ^ (x >> 30)) * <uint64_t> 0xBF58476D1CE4E5B9
    x = (x ^ (x >> 27)) * <uint64_t> 0x94D049BB133111EB
    return x ^ (x >> 31)


cdef inline int knn_push(float* hd, int32_t* hi, uint8_t* hf, Py_ssize_t size, float d, int32_t j,
                         bint check=True) noexcept nogil:
    """Insert j at squared distance d (flagged new) unless it is no better than the worst or
    (when ``check``) already present; 1 when inserted."""
    if not heap_worse(hd[0], hi[0], d, j):
        return 0
    if check and rpf_holds(hi, size, j):
        return 0
    hd[0] = d
    hi[0] = j
    hf[0] = 1
    heap_sift_down(hd, hi, hf, size, 0)
    return 1
