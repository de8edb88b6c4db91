# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Kernels of the exact neighbour search: per-row k-smallest selection and exact re-ranking.

The exact backend computes one block of a distance-like matrix at a time (a GEMM, or scipy's
``cdist``) and hands it here. Selecting the k smallest entries of each row with a bounded
max-heap reads the block once (O(n log k) per row, almost always O(n) since most keys are
rejected at the root), where ``numpy.argpartition`` copies and shuffles the whole row.
"""
from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport malloc, free

from _common cimport index_t, real_t
from _distances cimport squared_distance
from _heap cimport heap_build, heap_sift_down, heap_worse

cdef extern from *:
    """
    /* Ask for the cache lines of a row of ``bytes`` bytes ahead of its use. */
    static inline void knn_prefetch_row(const void* p, long bytes) {
        for (long b = 0; b < bytes; b += 64) __builtin_prefetch((const char*) p + b);
    }
    """
    void knn_prefetch_row(const void* p, long bytes) noexcept nogil


def smallest_k(const real_t[:, ::1] keys, Py_ssize_t self_offset, int64_t[:, ::1] out, int n_jobs=1):
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
    The selection is the k smallest (key, column) pairs: ties go to the smaller column
    index, exactly as a stable sort would choose, whatever ``n_jobs``.
    """
    cdef Py_ssize_t b = keys.shape[0], n = keys.shape[1], k = out.shape[1]
    cdef Py_ssize_t i, j, filled, skip
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
            heap_build(heap_keys, &out[i, 0], NULL, k)
            while j < n:
                key = keys[i, j]
                if key < heap_keys[0] and j != skip:
                    heap_keys[0] = key
                    out[i, 0] = j
                    heap_sift_down(heap_keys, &out[i, 0], NULL, k, 0)
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
    cdef Py_ssize_t m = Q.shape[0], d = Q.shape[1], c = cand.shape[1], i, a
    if m == 0 or c == 0 or d == 0:
        out[:, :] = 0.0
        return
    for i in prange(m, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        for a in range(c):
            # candidates are scattered over R (wide rows of which little is cached): the next
            # one's row is requested while this one's distance is computed
            if a + 1 < c:
                knn_prefetch_row(&R[cand[i, a + 1], 0], d * sizeof(real_t))
            out[i, a] = squared_distance(&Q[i, 0], &R[cand[i, a], 0], d)


def sparse_squared_distances(const int64_t[::1] q_indptr, const int32_t[::1] q_indices,
                             const double[::1] q_data, const int64_t[::1] r_indptr,
                             const int32_t[::1] r_indices, const double[::1] r_data,
                             const int64_t[:, ::1] cand, double[:, ::1] out, int n_jobs=1):
    """Exact squared Euclidean distances between CSR rows and their candidate CSR rows.

    Parameters
    ----------
    q_indptr, q_indices, q_data : CSR arrays of the (M, D) queries; indices sorted per row.
    r_indptr, r_indices, r_data : CSR arrays of the (N, D) reference; indices sorted per row.
    cand : (M, c) int64
    out : (M, c) float64
        |q_i - r_j|^2 summed over the union of the two rows' features (a merge of the
        sorted index lists), so duplicates give exactly 0.
    n_jobs : int
    """
    cdef Py_ssize_t m = cand.shape[0], c = cand.shape[1]
    cdef Py_ssize_t i, a, j, p, p_end, q, q_end
    cdef double s, t
    for i in prange(m, nogil=True, num_threads=max(1, n_jobs), schedule="guided"):
        for a in range(c):
            j = cand[i, a]
            p = q_indptr[i]
            p_end = q_indptr[i + 1]
            q = r_indptr[j]
            q_end = r_indptr[j + 1]
            s = 0.0
            while p < p_end and q < q_end:
                if q_indices[p] == r_indices[q]:
                    t = q_data[p] - r_data[q]
                    p = p + 1
                    q = q + 1
                elif q_indices[p] < r_indices[q]:
                    t = q_data[p]
                    p = p + 1
                else:
                    t = r_data[q]
                    q = q + 1
                s = s + t * t
            while p < p_end:
                s = s + q_data[p] * q_data[p]
                p = p + 1
            while q < q_end:
                s = s + r_data[q] * r_data[q]
                q = q + 1
            out[i, a] = s


def sort_rows_inplace(int64_t[:, ::1] indices, double[:, ::1] distances, int n_jobs=1):
    """Sort every row by (distance, index), in place.

    Insertion sort: the rows come from searches that return them sorted or nearly so
    (Annoy, pynndescent), where it is linear; no temporaries of the (M, k) arrays.
    """
    cdef Py_ssize_t m = indices.shape[0], k = indices.shape[1], i, a, b
    cdef double dv
    cdef int64_t iv
    for i in prange(m, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        for a in range(1, k):
            dv = distances[i, a]
            iv = indices[i, a]
            b = a
            while b > 0 and heap_worse(distances[i, b - 1], indices[i, b - 1], dv, iv):
                distances[i, b] = distances[i, b - 1]
                indices[i, b] = indices[i, b - 1]
                b = b - 1
            distances[i, b] = dv
            indices[i, b] = iv


def drop_self(const index_t[:, ::1] indices, const real_t[:, ::1] distances, int64_t[:, ::1] out_indices,
              double[:, ::1] out_distances, int n_jobs=1):
    """Copy the k + 1 answers of each point's own query minus the point itself.

    Row i of the (N, k + 1) input holds the answers for point i, usually with i among them
    (first, unless duplicates tie with it at distance 0); it is left out, or the last answer
    when i is missing. Order is otherwise kept. Inputs int32 or int64 and float32 or float64;
    outputs (N, k) int64 and float64.
    """
    cdef Py_ssize_t n = indices.shape[0], k1 = indices.shape[1], i, a, c, skip
    for i in prange(n, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        skip = k1 - 1
        for a in range(k1):
            if indices[i, a] == i:
                skip = a
                break
        c = 0
        for a in range(k1):
            if a != skip:
                out_indices[i, c] = indices[i, a]
                out_distances[i, c] = distances[i, a]
                c = c + 1
