"""Pieces the rpforest kernels share (``_rpforest.pyx`` builds the index, ``_rpquery.pyx``
answers queries): row prefetching, the id scan and the insertion into a candidate heap."""
from libc.stdint cimport int32_t, uint8_t

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


cdef inline int rp_push(float* hd, int32_t* hi, uint8_t* hf, Py_ssize_t size, float d, int32_t j,
                        bint check=True) noexcept nogil:
    """Insert j at squared distance d (flagged new) into the bounded max-heap of ``size``
    entries unless it is no better than the worst or (when ``check``) already present; 1 when
    inserted."""
    if not heap_worse(hd[0], hi[0], d, j):
        return 0
    if check and rpf_holds(hi, size, j):
        return 0
    hd[0] = d
    hi[0] = j
    hf[0] = 1
    heap_sift_down(hd, hi, hf, size, 0)
    return 1
