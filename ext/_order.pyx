# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Spatial order of the points while a large embedding is optimised.

The attraction reads ``Y[j]`` for every neighbour ``j`` of every point, and the FFT
interpolation scatters every point onto the grid box it lies in; with the points numbered
in the user's (arbitrary) order both are random reads over all of ``Y``. Numbered along a
Morton curve of their positions instead, neighbours in the embedding sit near each other in
memory. These kernels compute the curve's keys and copy the affinity matrix renumbered.
"""
from cython.parallel cimport prange
from libc.math cimport isfinite
from libc.stdint cimport uint64_t

from _common cimport real_t

cdef enum:
    # bits per coordinate of a key (at most 64 // d): 2^21 cells per axis is finer than any
    # cache line of positions needs
    MAX_BITS = 21


def morton_keys(const double[:, ::1] Y, const double[::1] lo, const double[::1] hi, uint64_t[::1] keys):
    """Fill ``keys`` (N,) with the Morton (Z-order) codes of the positions ``Y`` (N, d).

    Each coordinate is quantised to ``min(21, 64 // d)`` bits over the box ``lo``, ``hi`` (d,)
    (from ``_fft.extent``), and the bits are interleaved, most significant first. Non-finite
    coordinates quantise to 0 (the order is then arbitrary, never wrong: it only affects speed).
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1], i, k
    cdef int bits = min(MAX_BITS, 64 // max(d, 1)), b
    cdef double scale[64]
    cdef uint64_t cell[64]
    cdef double v, top = <double>((<uint64_t>1 << bits) - 1)
    cdef uint64_t key
    if d > 64 or lo.shape[0] < d or hi.shape[0] < d:
        raise ValueError("morton_keys needs at most 64 components and (d,) bounds.")
    for k in range(d):
        scale[k] = top / (hi[k] - lo[k]) if hi[k] > lo[k] else 0.0
    for i in range(n):
        for k in range(d):
            v = (Y[i, k] - lo[k]) * scale[k]
            cell[k] = <uint64_t>v if isfinite(v) and v > 0.0 else 0
        key = 0
        for b in range(bits - 1, -1, -1):
            for k in range(d):
                key = (key << 1) | ((cell[k] >> b) & 1)
        keys[i] = key


def permuted_indptr(const int[::1] indptr, const int[::1] rows, int[::1] out):
    """Row pointers (N + 1,) of the CSR whose row ``a`` is row ``rows[a]`` of ``indptr``'s."""
    cdef Py_ssize_t a
    out[0] = 0
    for a in range(rows.shape[0]):
        out[a + 1] = out[a] + (indptr[rows[a] + 1] - indptr[rows[a]])


def gather_rows(const int[::1] indptr, const int[::1] indices, const real_t[::1] data,
                const int[::1] rows, const int[::1] rank, const int[::1] out_indptr,
                int[::1] out_indices, real_t[::1] out_data, int n_jobs=1):
    """Fill the CSR ``(out_indptr, out_indices, out_data)`` with P renumbered: its row ``a`` is
    row ``rows[a]`` of P, with every column ``j`` renamed ``rank[j]``.

    ``out_indptr`` comes from :func:`permuted_indptr`; ``rank`` is the inverse of ``rows``.
    Rows keep their entries' order (columns are no longer sorted within rows).
    """
    cdef Py_ssize_t a, t, r, src, dst, length
    for a in prange(rows.shape[0], nogil=True, num_threads=n_jobs, schedule="static"):
        r = rows[a]
        src = indptr[r]
        dst = out_indptr[a]
        length = indptr[r + 1] - src
        for t in range(length):
            out_indices[dst + t] = rank[indices[src + t]]
            out_data[dst + t] = data[src + t]
