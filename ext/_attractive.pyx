# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Attractive term of the t-SNE gradient over the sparse affinity matrix P.

    A_i = sum_j p_ij w_ij^(1/dof) (y_i - y_j),   w_ij^(1/dof) = 1 / (1 + d_ij^2 / dof)

(the gradient divided by 4; exaggeration is applied by the caller, never to P itself).
Optionally also returns sum_ij p_ij log w_ij, the only P-dependent part of KL(P || Q)
that changes with the positions.
"""
from cython.parallel cimport prange
from libc.math cimport log


def attractive_forces(const int[::1] indptr, const int[::1] indices, const double[::1] data,
                      const double[:, ::1] Y, double dof, double[:, ::1] out,
                      double[::1] kl_per_point, bint with_kl=False, int n_jobs=1):
    """Write A_i into ``out``; return sum p_ij log w_ij when ``with_kl`` (else 0).

    The whole embedding attracting itself: :func:`attractive_forces_to_reference` with the
    positions as their own reference.

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the (N, N) symmetric P (int32 indices).
    Y : (N, d) float64 positions.
    dof : float
        Kernel degrees of freedom.
    out : (N, d) float64, overwritten.
    kl_per_point : (N,) float64 scratch, summed serially for n_jobs-independent results.
    """
    cdef Py_ssize_t i
    cdef double total = 0.0
    attractive_forces_to_reference(indptr, indices, data, Y, Y, dof, out, kl_per_point, with_kl, n_jobs)
    if with_kl:
        for i in range(Y.shape[0]):
            total += kl_per_point[i]
    return total


def attractive_forces_to_reference(const int[::1] indptr, const int[::1] indices, const double[::1] data,
                                   const double[:, ::1] Y_new, const double[:, ::1] Y_ref, double dof,
                                   double[:, ::1] out, double[::1] kl_per_point, bint with_kl=False,
                                   int n_jobs=1):
    """Attraction of new points to the fixed reference: the transform counterpart of
    :func:`attractive_forces`.

    ``A_i = sum_j p_ij (y_i - r_j) / (1 + |y_i - r_j|^2 / dof)`` for the (M, N) CSR rows of the
    new points. With ``with_kl`` fills ``kl_per_point[i] = sum_j p_ij log w_ij``.
    """
    cdef Py_ssize_t m = Y_new.shape[0], d = Y_new.shape[1]
    cdef Py_ssize_t i, k
    cdef int jj, j
    cdef double d2, diff, base, pij, acc
    for i in prange(m, nogil=True, num_threads=n_jobs, schedule="guided"):
        for k in range(d):
            out[i, k] = 0.0
        acc = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            j = indices[jj]
            pij = data[jj]
            d2 = 0.0
            for k in range(d):
                diff = Y_new[i, k] - Y_ref[j, k]
                d2 = d2 + diff * diff
            base = 1.0 + d2 / dof
            for k in range(d):
                out[i, k] += pij * (Y_new[i, k] - Y_ref[j, k]) / base
            if with_kl:
                acc = acc - dof * pij * log(base)
        kl_per_point[i] = acc
