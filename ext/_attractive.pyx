# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Attractive term of the t-SNE gradient over the sparse affinity matrix P.

    A_i = sum_j p_ij w_ij^(1/dof) (y_i - y_j),   w_ij^(1/dof) = 1 / (1 + d_ij^2 / dof)

(the gradient divided by 4; exaggeration is applied by the caller, never to P itself).
Optionally also returns sum_ij p_ij log w_ij, the only P-dependent part of KL(P || Q)
that changes with the positions.
"""
from cython.parallel cimport prange
from libc.math cimport log

from _common cimport real_t


def attractive_forces(const int[::1] indptr, const int[::1] indices, const real_t[::1] data,
                      const double[:, ::1] Y, double dof, double[:, ::1] out,
                      double[::1] kl_per_point, bint with_kl=False, int n_jobs=1):
    """Write A_i into ``out``; return sum p_ij log w_ij when ``with_kl`` (else 0).

    The whole embedding attracting itself: :func:`attractive_forces_to_reference` with the
    positions as their own reference.

    Parameters
    ----------
    indptr, indices, data : CSR arrays of the (N, N) symmetric P (int32 indices, float32 or
        float64 values).
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


def attractive_forces_to_reference(const int[::1] indptr, const int[::1] indices, const real_t[::1] data,
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
    if m == 0 or Y_ref.shape[0] == 0:
        out[:, :] = 0.0
        kl_per_point[:] = 0.0
        return
    cdef const double *yr = &Y_ref[0, 0]
    cdef const double *yn = &Y_new[0, 0]
    cdef double *f = &out[0, 0]
    # rows are independent and written once, so results do not depend on n_jobs; the 2-D
    # loop keeps the sums in registers (this pass streams all of P every iteration)
    for i in prange(m, nogil=True, num_threads=n_jobs, schedule="guided"):
        if d == 2:
            kl_per_point[i] = _row_2d(&indices[0], &data[0], indptr[i], indptr[i + 1], yn + 2 * i, yr,
                                      dof, with_kl, f + 2 * i)
        else:
            kl_per_point[i] = _row(&indices[0], &data[0], indptr[i], indptr[i + 1], yn + d * i, yr, d,
                                   dof, with_kl, f + d * i)


cdef inline double _row_2d(const int *indices, const real_t *data, Py_ssize_t start, Py_ssize_t stop,
                           const double *yi, const double *yr, double dof, bint with_kl,
                           double *f) noexcept nogil:
    """One 2-D row: writes ``f[0:2]``, returns ``sum_j p_ij log w_ij`` (0 unless with_kl).

    Four entries at a time into four independent sums: the divisions and the random reads of
    ``yr`` then overlap (one sum chained through an add's latency every entry ran 1.3-1.8x
    slower). The forces are the same with and without ``with_kl``.
    """
    cdef Py_ssize_t jj = start, j0, j1, j2, j3
    cdef double x = yi[0], y = yi[1], inv_dof = 1.0 / dof, acc = 0.0
    cdef double fx0 = 0.0, fy0 = 0.0, fx1 = 0.0, fy1 = 0.0, fx2 = 0.0, fy2 = 0.0, fx3 = 0.0, fy3 = 0.0
    cdef double dx0, dy0, dx1, dy1, dx2, dy2, dx3, dy3, b0, b1, b2, b3, q0, q1, q2, q3
    while jj + 4 <= stop:
        j0 = indices[jj]
        j1 = indices[jj + 1]
        j2 = indices[jj + 2]
        j3 = indices[jj + 3]
        dx0 = x - yr[2 * j0]
        dy0 = y - yr[2 * j0 + 1]
        dx1 = x - yr[2 * j1]
        dy1 = y - yr[2 * j1 + 1]
        dx2 = x - yr[2 * j2]
        dy2 = y - yr[2 * j2 + 1]
        dx3 = x - yr[2 * j3]
        dy3 = y - yr[2 * j3 + 1]
        b0 = 1.0 + (dx0 * dx0 + dy0 * dy0) * inv_dof
        b1 = 1.0 + (dx1 * dx1 + dy1 * dy1) * inv_dof
        b2 = 1.0 + (dx2 * dx2 + dy2 * dy2) * inv_dof
        b3 = 1.0 + (dx3 * dx3 + dy3 * dy3) * inv_dof
        q0 = data[jj] / b0
        q1 = data[jj + 1] / b1
        q2 = data[jj + 2] / b2
        q3 = data[jj + 3] / b3
        fx0 = fx0 + q0 * dx0
        fy0 = fy0 + q0 * dy0
        fx1 = fx1 + q1 * dx1
        fy1 = fy1 + q1 * dy1
        fx2 = fx2 + q2 * dx2
        fy2 = fy2 + q2 * dy2
        fx3 = fx3 + q3 * dx3
        fy3 = fy3 + q3 * dy3
        if with_kl:
            acc = acc - dof * (data[jj] * log(b0) + data[jj + 1] * log(b1)
                               + data[jj + 2] * log(b2) + data[jj + 3] * log(b3))
        jj = jj + 4
    while jj < stop:
        j0 = indices[jj]
        dx0 = x - yr[2 * j0]
        dy0 = y - yr[2 * j0 + 1]
        b0 = 1.0 + (dx0 * dx0 + dy0 * dy0) * inv_dof
        q0 = data[jj] / b0
        fx0 = fx0 + q0 * dx0
        fy0 = fy0 + q0 * dy0
        if with_kl:
            acc = acc - dof * data[jj] * log(b0)
        jj = jj + 1
    f[0] = (fx0 + fx1) + (fx2 + fx3)
    f[1] = (fy0 + fy1) + (fy2 + fy3)
    return acc


cdef inline double _row(const int *indices, const real_t *data, Py_ssize_t start, Py_ssize_t stop,
                        const double *yi, const double *yr, Py_ssize_t d, double dof, bint with_kl,
                        double *f) noexcept nogil:
    """One row in any dimension ``d``: writes ``f[0:d]``, returns as :func:`_row_2d`."""
    cdef Py_ssize_t jj, j, k
    cdef double d2, diff, base, pij, q, acc = 0.0
    cdef double inv_dof = 1.0 / dof
    for k in range(d):
        f[k] = 0.0
    for jj in range(start, stop):
        j = indices[jj]
        pij = data[jj]
        d2 = 0.0
        for k in range(d):
            diff = yi[k] - yr[j * d + k]
            d2 = d2 + diff * diff
        base = 1.0 + d2 * inv_dof
        q = pij / base
        for k in range(d):
            f[k] = f[k] + q * (yi[k] - yr[j * d + k])
        if with_kl:
            acc = acc - dof * pij * log(base)
    return acc
