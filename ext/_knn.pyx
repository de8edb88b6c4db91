# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernels of the exact neighbour search: per-row k-smallest selection and exact re-ranking.

The exact backend computes one block of a distance-like matrix at a time (a GEMM, or scipy's
``cdist``) and hands it here. Selecting the k smallest entries of each row with a bounded
max-heap reads the block once (O(n log k) per row, almost always O(n) since most keys are
rejected at the root), where ``numpy.argpartition`` copies and shuffles the whole row.
"""
from cython.parallel cimport prange, threadid
from libc.stdint cimport int64_t
from libc.stdlib cimport malloc, free

ctypedef fused key_t:
    float
    double

ctypedef fused real_t:
    float
    double


cdef inline void _sift_down(double* keys, int64_t* idx, Py_ssize_t size, Py_ssize_t pos) noexcept nogil:
    """Restore the max-heap property below ``pos``."""
    cdef double k0 = keys[pos]
    cdef int64_t i0 = idx[pos]
    cdef Py_ssize_t child
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        if child + 1 < size and keys[child + 1] > keys[child]:
            child = child + 1
        if keys[child] <= k0:
            break
        keys[pos] = keys[child]
        idx[pos] = idx[child]
        pos = child
    keys[pos] = k0
    idx[pos] = i0


def smallest_k(const key_t[:, ::1] keys, Py_ssize_t self_offset, int64_t[:, ::1] out, int n_jobs=1):
    """Column indices of the k smallest keys of each row (in no particular order).

    Parameters
    ----------
    keys : (B, n) float32 or float64
        A block of a distance-like matrix; only the order within a row matters.
    self_offset : int
        When >= 0, row i never selects column ``self_offset + i`` (the point itself, when the
        block holds rows ``self_offset ...`` of a self-distance matrix).
    out : (B, k) int64
        Output; k must not exceed the number of selectable columns.
    n_jobs : int

    Notes
    -----
    Ties are broken towards the smaller column index (a later key replaces the heap root
    only when strictly smaller), so the result does not depend on ``n_jobs``.
    """
    cdef Py_ssize_t b = keys.shape[0], n = keys.shape[1], k = out.shape[1]
    cdef Py_ssize_t i, j, filled, skip, t
    cdef int n_threads = max(1, n_jobs)
    cdef double key
    cdef double* heap_keys
    # one heap of k keys per thread, allocated once for the whole block
    cdef double* scratch = <double*> malloc(n_threads * k * sizeof(double))
    if scratch == NULL:
        raise MemoryError()
    try:
        for i in prange(b, nogil=True, num_threads=n_threads, schedule="static"):
            heap_keys = scratch + threadid() * k
            skip = self_offset + i if self_offset >= 0 else -1
            filled = 0
            j = 0
            while filled < k:
                if j != skip:
                    heap_keys[filled] = keys[i, j]
                    out[i, filled] = j
                    filled = filled + 1
                j = j + 1
            t = k // 2
            while t > 0:
                t = t - 1
                _sift_down(heap_keys, &out[i, 0], k, t)
            while j < n:
                key = keys[i, j]
                if key < heap_keys[0] and j != skip:
                    heap_keys[0] = key
                    out[i, 0] = j
                    _sift_down(heap_keys, &out[i, 0], k, 0)
                j = j + 1
    finally:
        free(scratch)


def squared_distances(const real_t[:, ::1] Q, const real_t[:, ::1] R, const int64_t[:, ::1] cand,
                      double[:, ::1] out, int n_jobs=1):
    """Exact squared Euclidean distances from each row of Q to its candidate rows of R.

    Parameters
    ----------
    Q : (M, D) float32 or float64
    R : (N, D), same dtype as Q
    cand : (M, c) int64
        Indices into R.
    out : (M, c) float64
        Output: |Q[i] - R[cand[i, c]]|^2, accumulated in float64 from the differences (no
        cancellation, so duplicates are exactly 0).
    n_jobs : int
    """
    cdef Py_ssize_t m = Q.shape[0], d = Q.shape[1], c = cand.shape[1]
    cdef Py_ssize_t i, a, j, f, d4 = d - d % 4
    cdef double s0, s1, s2, s3, t0, t1, t2, t3
    for i in prange(m, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        for a in range(c):
            j = cand[i, a]
            # four independent accumulators: the loop is latency-bound otherwise
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            f = 0
            while f < d4:
                t0 = <double> Q[i, f] - <double> R[j, f]
                t1 = <double> Q[i, f + 1] - <double> R[j, f + 1]
                t2 = <double> Q[i, f + 2] - <double> R[j, f + 2]
                t3 = <double> Q[i, f + 3] - <double> R[j, f + 3]
                s0 = s0 + t0 * t0
                s1 = s1 + t1 * t1
                s2 = s2 + t2 * t2
                s3 = s3 + t3 * t3
                f = f + 4
            while f < d:
                t0 = <double> Q[i, f] - <double> R[j, f]
                s0 = s0 + t0 * t0
                f = f + 1
            out[i, a] = (s0 + s1) + (s2 + s3)
