# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Perplexity calibration: per-point Gaussian precisions found by binary search.

For each point i with neighbour distances d_ij, find beta_i such that the conditional
distribution p_j|i ∝ exp(-beta_i d_ij^2) has entropy log(perplexity) (natural log), to
within ``tol``. Distances are shifted by the row's smallest squared distance before the
exponential; that leaves p_j|i unchanged and keeps duplicates (zero distances) and very
large scales free of underflow, so no row can produce NaN or an infinite precision.
"""
from cython.parallel cimport prange, threadid
from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.stdlib cimport malloc, free

import numpy as np
from libc.math cimport exp, log, INFINITY


def calibrate_perplexity(const double[:, ::1] distances, const double[::1] perplexities,
                         double[:, ::1] P, double[::1] betas, double tol=1e-5,
                         int max_iter=200, int n_jobs=1):
    """Fill ``P`` (N, k) with the calibrated conditional probabilities (rows sum to 1).

    Parameters
    ----------
    distances : (N, k) float64
        Distances (not squared) from each point to its k neighbours.
    perplexities : (N,) float64
        Target perplexity of each row (usually all equal).
    P : (N, k) float64
        Output.
    betas : (N,) float64
        Output: the precision 1 / (2 sigma^2) of each row, in units of 1 / distance^2,
        relative to the row's squared distances shifted by their minimum.
    tol : float
        Tolerance on the entropy, in nats.
    max_iter : int
        Binary-search steps per row.
    """
    cdef Py_ssize_t n = distances.shape[0], k = distances.shape[1]
    cdef Py_ssize_t i, j, it
    cdef double beta, lo, hi, dmin, dmean, s, sd, H, target, w, d2
    for i in prange(n, nogil=True, num_threads=n_jobs, schedule="static"):
        target = log(perplexities[i])
        dmin = INFINITY
        dmean = 0.0
        for j in range(k):
            d2 = distances[i, j] * distances[i, j]
            if d2 < dmin:
                dmin = d2
            dmean = dmean + d2
        dmean = dmean / k - dmin
        # start near the right scale so the search is short for data of any magnitude
        beta = 1.0 / dmean if dmean > 0 else 1.0
        lo = 0.0
        hi = INFINITY
        for it in range(max_iter):
            s = 0.0
            sd = 0.0
            for j in range(k):
                d2 = distances[i, j] * distances[i, j] - dmin
                w = exp(-beta * d2)
                P[i, j] = w
                s = s + w
                sd = sd + d2 * w
            H = log(s) + beta * sd / s
            betas[i] = beta  # the precision P was evaluated at, even if the search runs out
            if H - target < tol and target - H < tol:
                break
            if H > target:
                lo = beta
                if hi == INFINITY:
                    beta = beta * 2.0
                else:
                    beta = (lo + hi) / 2.0
            else:
                hi = beta
                beta = (lo + hi) / 2.0
        s = 0.0
        for j in range(k):
            s = s + P[i, j]
        for j in range(k):
            P[i, j] = P[i, j] / s


cdef inline Py_ssize_t _find(const int32_t *row, Py_ssize_t length, int32_t col) noexcept nogil:
    """Position of ``col`` in the sorted ``row[:length]``, or -1."""
    cdef Py_ssize_t lo = 0, hi = length, mid
    while lo < hi:
        mid = (lo + hi) // 2
        if row[mid] < col:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < length and row[lo] == col else -1


def sorted_forward_rows(const int64_t[:, ::1] indices, const double[:, ::1] values, int n_jobs=1):
    """Each row's (column, value) pairs sorted by column, duplicates summed, zeros dropped.

    Parameters
    ----------
    indices : (N, k) int64, every entry in [0, n_cols)
    values : (N, k) float64, non-negative

    Returns
    -------
    cols : (N, k) int32
        Row i's distinct columns in increasing order in ``cols[i, :lengths[i]]``.
    vals : (N, k) float64
        Their values (duplicates summed in the order they appear, as scipy does).
    lengths : (N,) int32
    """
    cdef Py_ssize_t n = indices.shape[0], k = indices.shape[1], i, a, b, t, m
    cdef int32_t j
    cdef double v
    cols_arr = np.empty((n, k), dtype=np.int32)
    vals_arr = np.empty((n, k), dtype=np.float64)
    lens_arr = np.empty(n, dtype=np.int32)
    cdef int32_t[:, ::1] c = cols_arr
    cdef double[:, ::1] w = vals_arr
    cdef int32_t[::1] lens = lens_arr
    for i in prange(n, nogil=True, num_threads=max(1, n_jobs), schedule="static"):
        m = 0
        for a in range(k):
            v = values[i, a]
            if v == 0.0:
                continue
            j = <int32_t>indices[i, a]
            b = m
            while b > 0 and c[i, b - 1] > j:
                b = b - 1
            if b > 0 and c[i, b - 1] == j:
                w[i, b - 1] = w[i, b - 1] + v
                continue
            t = m
            while t > b:
                c[i, t] = c[i, t - 1]
                w[i, t] = w[i, t - 1]
                t = t - 1
            c[i, b] = j
            w[i, b] = v
            m = m + 1
        lens[i] = <int32_t>m
    return cols_arr, vals_arr, lens_arr


def symmetric_from_rows(const int32_t[:, ::1] cols, const double[:, ::1] vals, const int32_t[::1] lengths,
                        double denominator, int n_jobs=1):
    """CSR arrays of ``(F + F^T) / denominator`` for the square sparse F given by sorted rows.

    Parameters
    ----------
    cols, vals, lengths : from :func:`sorted_forward_rows` (N rows, columns in [0, N))
    denominator : float
        Every entry is divided by it (2N for t-SNE's joint probabilities).

    Returns
    -------
    indptr : (N + 1,) int64
    indices : (nnz,) int32, sorted within each row, no duplicates
    data : (nnz,) float32
        Each entry summed and divided in float64, then rounded once (relative error below
        6e-8: far under what the optimisation resolves, and P is the largest array of a fit).

    Notes
    -----
    Only the output is allocated, plus O(N) and one byte per entry of F: each entry's
    transposed partner is found by binary search in the partner's sorted row, so F^T is never
    built.
    """
    cdef Py_ssize_t n = cols.shape[0], i, a, s, e, p, q, r, longest = 0
    cdef int32_t j
    cdef int nt = max(1, n_jobs)
    cdef double v
    indptr_arr = np.zeros(n + 1, dtype=np.int64)
    cdef int64_t[::1] indptr = indptr_arr
    cursor_arr = np.empty(n, dtype=np.int64)
    cdef int64_t[::1] cursor = cursor_arr
    # whether each entry j -> i has its partner i -> j: one parallel pass of binary searches
    # in random rows (a serial pass per use cost ~9 s each at 1M points x 90 neighbours)
    partnered_arr = np.empty((n, cols.shape[1]), dtype=np.uint8)
    cdef uint8_t[:, ::1] partnered = partnered_arr
    for j in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        for a in range(lengths[j]):
            i = cols[j, a]
            partnered[j, a] = _find(&cols[i, 0], lengths[i], j) >= 0
    with nogil:
        # entries j -> i without a partner add one to row i (serial: counts)
        for j in range(n):
            for a in range(lengths[j]):
                if not partnered[j, a]:
                    indptr[cols[j, a] + 1] += 1
        for i in range(n):
            indptr[i + 1] += indptr[i] + lengths[i]
            longest = max(longest, indptr[i + 1] - indptr[i])
    nnz = int(indptr_arr[n])
    indices_arr = np.empty(nnz, dtype=np.int32)
    data_arr = np.empty(nnz, dtype=np.float32)
    cdef int32_t[::1] out_c = indices_arr
    cdef float[::1] out_v = data_arr
    cdef int32_t *buf_c = <int32_t *>malloc(nt * max(longest, 1) * sizeof(int32_t))
    cdef float *buf_v = <float *>malloc(nt * max(longest, 1) * sizeof(float))
    cdef int32_t *bc
    cdef float *bv
    if buf_c == NULL or buf_v == NULL:
        free(buf_c)
        free(buf_v)
        raise MemoryError()
    try:
        # each row's own entries, with their partners' values added
        for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
            s = indptr[i]
            for a in range(lengths[i]):
                j = cols[i, a]
                # the flags already say which entries have a partner: search only for those
                p = _find(&cols[j, 0], lengths[j], <int32_t>i) if partnered[i, a] else -1
                v = vals[i, a] + vals[j, p] if p >= 0 else vals[i, a]
                out_c[s + a] = j
                out_v[s + a] = <float>(v / denominator)
        # then the partnerless transposed entries, in increasing column order (serial)
        with nogil:
            for i in range(n):
                cursor[i] = indptr[i] + lengths[i]
            for j in range(n):
                for a in range(lengths[j]):
                    i = cols[j, a]
                    if not partnered[j, a]:
                        out_c[cursor[i]] = j
                        out_v[cursor[i]] = <float>(vals[j, a] / denominator)
                        cursor[i] += 1
        # merge each row's two sorted runs
        for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
            s = indptr[i]
            e = indptr[i + 1]
            r = s + lengths[i]
            if r == e or r == s:
                continue
            bc = buf_c + threadid() * longest
            bv = buf_v + threadid() * longest
            p = s
            q = r
            a = 0
            while p < r or q < e:
                if q >= e or (p < r and out_c[p] < out_c[q]):
                    bc[a] = out_c[p]
                    bv[a] = out_v[p]
                    p = p + 1
                else:
                    bc[a] = out_c[q]
                    bv[a] = out_v[q]
                    q = q + 1
                a = a + 1
            for a in range(e - s):
                out_c[s + a] = bc[a]
                out_v[s + a] = bv[a]
    finally:
        free(buf_c)
        free(buf_v)
    return indptr_arr, indices_arr, data_arr
