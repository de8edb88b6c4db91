# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The c smallest GEMM keys of each query among all points, without the query-by-points matrix.

A key is ``|r_j|^2 - 2 q.r_j`` (the squared distance minus ``|q|^2``), one entry of ``Q @ R.T``
when the points ``R`` carry ``|r|^2`` as their last column and the queries ``-2 q`` and a 1.
Each thread takes a block of queries and walks the points tile by tile: one single-threaded
float32 GEMM per tile into a buffer that stays in cache, then a bounded max-heap per query
reads the tile (most keys are rejected at the root). Memory is a few tiles per thread, so the
search of N queries against N points never holds N x N of anything.
"""
from cython.parallel cimport prange, threadid
from libc.math cimport INFINITY
from libc.stdint cimport int64_t

import numpy as np
from scipy.linalg.cython_blas cimport sgemm

from _heap cimport heap_sift_down, heap_worse

#: Queries per GEMM (one block per task) and points per tile: the tile of keys (QUERY_BLOCK x
#: POINT_TILE float32) and the tile of points fit in a core's L2 cache.
DEF QUERY_BLOCK = 64
DEF POINT_TILE = 512


cdef void _block(const float* R, Py_ssize_t n, int dim1, const float* Q, const int64_t* rows,
                 Py_ssize_t nq, float* tile, float* heap_keys, int64_t* heap_idx, Py_ssize_t c) noexcept nogil:
    """Fill heaps ``heap_keys/heap_idx`` (nq x c) with the c smallest keys of queries ``Q``
    (nq x dim1, row-major) among the n points ``R`` (n x dim1), skipping ``rows[i]`` for query i."""
    cdef Py_ssize_t i, j, start, width
    cdef int m_, n_ = <int> nq, k_ = dim1, lda = dim1, ldb = dim1, ldc
    cdef float one = 1.0, zero = 0.0, key
    cdef char trans_a = b'T', trans_b = b'N'
    cdef float* keys_i
    cdef int64_t* idx_i
    cdef int64_t self_j
    for i in range(nq * c):
        heap_keys[i] = INFINITY
        heap_idx[i] = n + i  # placeholders: worse than any real point, whatever its key
    start = 0
    while start < n:
        width = min(POINT_TILE, n - start)
        m_ = <int> width
        ldc = m_
        # column-major: tile (width x nq) = R[start:start+width] (dim1 x width)^T . Q^T (dim1 x nq),
        # i.e. row-major tile[i, j] = Q[i] . R[start + j]
        sgemm(&trans_a, &trans_b, &m_, &n_, &k_, &one, <float*> &R[start * dim1], &lda, <float*> Q, &ldb,
              &zero, tile, &ldc)
        for i in range(nq):
            keys_i = heap_keys + i * c
            idx_i = heap_idx + i * c
            self_j = rows[i]
            for j in range(width):
                key = tile[i * width + j]
                if heap_worse(keys_i[0], idx_i[0], key, start + j) and start + j != self_j:
                    keys_i[0] = key
                    idx_i[0] = start + j
                    heap_sift_down(keys_i, idx_i, NULL, c, 0)
        start = start + width


def smallest_keys(const float[:, ::1] R, const int64_t[::1] rows, int64_t[:, ::1] out, int n_jobs=1):
    """Indices of the c smallest keys ``Q[i] . R[j]`` (j != rows[i]) of each query, in no order.

    Parameters
    ----------
    R : (N, D + 1) float32
        The points, centred, with their squared norms as the last column.
    rows : (B,) int64
        The queries, as rows of R: query i is ``[-2 R[rows[i], :D], 1]``.
    out : (B, c) int64
        Output; c must be at most N - 1. Ties go to the smaller index, whatever ``n_jobs``.
    n_jobs : int
        Threads, each with its own block of queries (each GEMM runs on one thread).
    """
    cdef Py_ssize_t n = R.shape[0], b = rows.shape[0], c = out.shape[1]
    cdef int dim1 = <int> R.shape[1]
    cdef int n_threads = max(1, n_jobs)
    cdef Py_ssize_t n_blocks = (b + QUERY_BLOCK - 1) // QUERY_BLOCK
    cdef Py_ssize_t per_thread = QUERY_BLOCK * dim1 + QUERY_BLOCK * POINT_TILE + QUERY_BLOCK * c
    cdef Py_ssize_t blk, first, nq, i, d, t
    if c > n - 1 or c < 1:
        raise ValueError(f"cannot select {c} of {n - 1} points")
    if out.shape[0] != b:
        raise ValueError(f"out has {out.shape[0]} rows for {b} queries")
    for i in range(b):
        if rows[i] < 0 or rows[i] >= n:
            raise IndexError(f"query row {rows[i]} is not a point of R ({n} points)")
    # per thread: its queries, one tile of keys and its heaps
    cdef float[:, ::1] scratch = np.empty((n_threads, per_thread), dtype=np.float32)
    cdef int64_t[:, ::1] idx_scratch = np.empty((n_threads, QUERY_BLOCK * c), dtype=np.int64)
    cdef float* Q
    cdef float* tile
    cdef float* heap_keys
    cdef int64_t* heap_idx
    for blk in prange(n_blocks, nogil=True, num_threads=n_threads, schedule="dynamic"):
        t = threadid()
        Q = &scratch[t, 0]
        tile = Q + QUERY_BLOCK * dim1
        heap_keys = tile + QUERY_BLOCK * POINT_TILE
        heap_idx = &idx_scratch[t, 0]
        first = blk * QUERY_BLOCK
        nq = min(QUERY_BLOCK, b - first)
        for i in range(nq):
            for d in range(dim1 - 1):
                Q[i * dim1 + d] = -2.0 * R[rows[first + i], d]  # exact: a power of two
            Q[i * dim1 + dim1 - 1] = 1.0
        _block(&R[0, 0], n, dim1, Q, &rows[first], nq, tile, heap_keys, heap_idx, c)
        for i in range(nq * c):
            out[first + i // c, i % c] = heap_idx[i]
