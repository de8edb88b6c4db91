# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Short-range half of the split 3-D repulsion kernel (``fasttsne.gradients.split3d``).

The kernel ``w(u) = (1 + u / dof)^(-dof)`` of the squared distance ``u`` is written as a
smooth far part plus a short-range part: the far part equals ``w`` for ``u >= a2`` and, inside
the cutoff, the Taylor polynomial of ``w`` about ``u = a2`` (degree ``deg`` in ``u``, so the far
part is ``C^deg`` in space). The force kernel is ``-dw/du`` (``w^(1 + 1/dof)``), split the same
way (far: ``-T'(u)`` inside). The far part is interpolated on a coarse grid
(``ext/_fft3d.pyx``); the short-range part ``w - T`` is zero beyond the cutoff and is summed
here exactly over the pairs closer than it, found through the grid's own boxes (the cutoff is
at most one box wide, so a point's partners lie in the 27 boxes around its own).

Every point's sums run over the same boxes in the same order whatever the thread count, and
are written to that point's own slots: results do not depend on ``n_jobs``.
"""
from cython.parallel cimport prange
from libc.math cimport floor
from libc.stdlib cimport free, malloc

from _kernels cimport KernelValue, tsne_kernel


cdef struct Taylor:
    double t     # T(u): the far part of w inside the cutoff
    double dt    # -T'(u): the far part of the force kernel inside the cutoff


cdef inline Taylor _taylor(double u, double a2, const double *coef, int deg) noexcept nogil:
    """The Taylor polynomial ``T(u) = sum_n coef[n] (u - a2)^n`` and ``-T'(u)`` (Horner).
    Returned by value so that a ``prange`` body keeps it thread-private."""
    cdef Taylor r
    cdef double s = u - a2, t = coef[deg], dt = 0.0
    cdef int n
    for n in range(deg - 1, -1, -1):
        dt = dt * s + t
        t = t * s + coef[n]
    r.t = t
    r.dt = -dt
    return r


cdef struct PointSums:
    double f[3]  # short-range force on the point
    double z     # its short-range share of Z


cdef inline PointSums _around(const double *y, const double[:, ::1] Ys, const int[::1] box_start,
                              Py_ssize_t bx, Py_ssize_t by, Py_ssize_t bz, Py_ssize_t n0,
                              Py_ssize_t n1, Py_ssize_t n2, Py_ssize_t skip, double dof, bint cauchy,
                              double a2, const double *coef, int deg) noexcept nogil:
    """Short-range sums on ``y`` (3,) over the points ``Ys`` (sorted by box) in the 27 boxes
    around box ``(bx, by, bz)``, in a fixed order; the point at sorted position ``skip`` (the
    point itself, or -1) is left out. Returned by value: a ``prange`` body keeps it private."""
    cdef PointSums r
    cdef Py_ssize_t cx, cy, cz, c, q
    cdef double dx, dy, dz, u, wq
    cdef KernelValue kv
    cdef Taylor tv
    r.f[0] = 0.0
    r.f[1] = 0.0
    r.f[2] = 0.0
    r.z = 0.0
    for cx in range(max(bx - 1, 0), min(bx + 2, n0)):
        for cy in range(max(by - 1, 0), min(by + 2, n1)):
            for cz in range(max(bz - 1, 0), min(bz + 2, n2)):
                c = (cx * n1 + cy) * n2 + cz
                for q in range(box_start[c], box_start[c + 1]):
                    dx = y[0] - Ys[q, 0]
                    dy = y[1] - Ys[q, 1]
                    dz = y[2] - Ys[q, 2]
                    u = dx * dx + dy * dy + dz * dz
                    if u < a2 and q != skip:
                        kv = tsne_kernel(u, dof, cauchy)
                        tv = _taylor(u, a2, coef, deg)
                        r.z += kv.w - tv.t
                        wq = kv.wq - tv.dt
                        r.f[0] += wq * dx
                        r.f[1] += wq * dy
                        r.f[2] += wq * dz
    return r


def far_kernel_octant(double sx, double sy, double sz, double dof, double a2, const double[::1] coef,
                      double[:, :, ::1] kw, double[:, :, ::1] k2, int n_jobs=1):
    """Far parts of both kernels at the node offsets ``(i sx, j sy, k sz)``, ``i, j, k >= 0``.

    Parameters
    ----------
    sx, sy, sz : float
        Node spacing per axis (embedding units).
    dof : float
    a2 : float
        Squared cutoff (embedding units squared).
    coef : (deg + 1,) float64
        Taylor coefficients of ``w`` about ``u = a2`` (``split3d.taylor_coefficients``).
    kw, k2 : (Q0, Q1, Q2) float64
        Overwritten with the far parts of ``w`` and of ``w^(1 + 1/dof)``.
    n_jobs : int
    """
    cdef Py_ssize_t q0 = kw.shape[0], q1 = kw.shape[1], q2 = kw.shape[2], i, j, k
    cdef int deg = coef.shape[0] - 1
    cdef double ox, oy, oz, u
    cdef bint cauchy = dof == 1.0
    cdef KernelValue kv
    cdef Taylor tv
    if k2.shape[0] != q0 or k2.shape[1] != q1 or k2.shape[2] != q2 or deg < 0:
        raise ValueError("far_kernel_octant: kw and k2 must have the same shape, coef >= 1 entry.")
    for i in prange(q0, nogil=True, num_threads=max(n_jobs, 1), schedule="guided"):
        ox = i * sx
        for j in range(q1):
            oy = j * sy
            for k in range(q2):
                oz = k * sz
                u = ox * ox + oy * oy + oz * oz
                if u >= a2:
                    kv = tsne_kernel(u, dof, cauchy)
                    kw[i, j, k] = kv.w
                    k2[i, j, k] = kv.wq
                else:
                    tv = _taylor(u, a2, &coef[0], deg)
                    kw[i, j, k] = tv.t
                    k2[i, j, k] = tv.dt


def near_field(const double[:, ::1] Y_sorted, const int[::1] order, const int[::1] box_start,
               const Py_ssize_t[::1] n_int, double dof, double a2, const double[::1] coef,
               double[:, ::1] out, double[::1] z_near, int n_jobs=1):
    """Add the short-range forces to ``out`` and write each point's short-range ``z``.

    Parameters
    ----------
    Y_sorted, order, box_start : the points sorted by the grid's boxes
        (``_fft3d.sort_into_boxes``); every box is at least ``sqrt(a2)`` wide on every axis.
    n_int : (3,) intp
        Boxes per axis.
    dof, a2, coef : the kernel and its split (see :func:`far_kernel_octant`).
    out : (N, 3) float64
        ``sum_{j != i, |y_i - y_j|^2 < a2} (w^(1+1/dof) + T'(u)) (y_i - y_j)`` is added to row
        ``i`` (original point order).
    z_near : (N,) float64
        Overwritten (original point order) with ``sum_{j != i, u < a2} (w(u) - T(u))``.
    n_jobs : int
    """
    cdef Py_ssize_t n = Y_sorted.shape[0], n0 = n_int[0], n1 = n_int[1], n2 = n_int[2]
    cdef Py_ssize_t nb = n0 * n1 * n2, b, bx, by, bz, pos, i
    cdef int deg = coef.shape[0] - 1
    cdef bint cauchy = dof == 1.0
    cdef PointSums r
    if Y_sorted.shape[1] != 3 or order.shape[0] < n or box_start.shape[0] < nb + 1 \
            or out.shape[0] < n or out.shape[1] != 3 or z_near.shape[0] < n or deg < 0:
        raise ValueError("near_field: arrays do not match the points and the boxes.")
    for b in prange(nb, nogil=True, num_threads=max(n_jobs, 1), schedule="dynamic"):
        # assigned here, not through a helper's pointers: prange makes assigned variables private
        bx = b // (n1 * n2)
        by = (b // n2) % n1
        bz = b % n2
        for pos in range(box_start[b], box_start[b + 1]):
            r = _around(&Y_sorted[pos, 0], Y_sorted, box_start, bx, by, bz, n0, n1, n2, pos, dof,
                        cauchy, a2, &coef[0], deg)
            i = order[pos]
            out[i, 0] += r.f[0]
            out[i, 1] += r.f[1]
            out[i, 2] += r.f[2]
            z_near[i] = r.z


def near_reference(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                   const Py_ssize_t[::1] n_int, const double[:, ::1] Y_ref_sorted,
                   const int[::1] box_start, double dof, double a2, const double[::1] coef,
                   double[:, ::1] out, double[::1] z_out, int n_jobs=1):
    """Add the short-range repulsion of a fixed reference to new points inside its grid's box.

    Points outside the box are left alone (they are summed exactly elsewhere).

    Parameters
    ----------
    Y : (N, 3) float64
        New points.
    lo, h : (3,) float64
        The reference grid's lower corner and box widths (each at least ``sqrt(a2)``).
    n_int : (3,) intp
    Y_ref_sorted, box_start : the reference sorted by that grid's boxes.
    dof, a2, coef : the kernel and its split.
    out : (N, 3) float64
        The short-range forces are added.
    z_out : (N,) float64
        The short-range ``z`` is added.
    n_jobs : int
    """
    cdef Py_ssize_t n = Y.shape[0], n0 = n_int[0], n1 = n_int[1], n2 = n_int[2], i, k, bx, by, bz
    cdef int deg = coef.shape[0] - 1
    cdef bint cauchy = dof == 1.0, outside
    cdef PointSums r
    if Y.shape[1] != 3 or Y_ref_sorted.shape[1] != 3 or box_start.shape[0] < n0 * n1 * n2 + 1 \
            or out.shape[0] < n or out.shape[1] != 3 or z_out.shape[0] < n or deg < 0:
        raise ValueError("near_reference: arrays do not match the points and the boxes.")
    for i in prange(n, nogil=True, num_threads=max(n_jobs, 1), schedule="guided"):
        outside = False
        for k in range(3):
            if not (lo[k] <= Y[i, k] <= lo[k] + n_int[k] * h[k]):
                outside = True
        if outside:
            continue
        bx = min(<Py_ssize_t>floor((Y[i, 0] - lo[0]) / h[0]), n0 - 1)
        by = min(<Py_ssize_t>floor((Y[i, 1] - lo[1]) / h[1]), n1 - 1)
        bz = min(<Py_ssize_t>floor((Y[i, 2] - lo[2]) / h[2]), n2 - 1)
        r = _around(&Y[i, 0], Y_ref_sorted, box_start, bx, by, bz, n0, n1, n2, -1, dof, cauchy,
                    a2, &coef[0], deg)
        out[i, 0] += r.f[0]
        out[i, 1] += r.f[1]
        out[i, 2] += r.f[2]
        z_out[i] += r.z


def box_work(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
             const Py_ssize_t[::1] n_int, Py_ssize_t stride=1):
    """Pair checks :func:`near_field` would make on these boxes, estimated from every
    ``stride``-th point: ``sum_b n_b * (points in the 27 boxes around b)``, times ``stride^2``.

    Parameters
    ----------
    Y : (N, 3) float64
    lo, h : (3,) float64
        Lower corner and box widths.
    n_int : (3,) intp
    stride : int >= 1

    Returns
    -------
    float
    """
    cdef Py_ssize_t n = Y.shape[0], n0 = n_int[0], n1 = n_int[1], n2 = n_int[2], i, k, b
    cdef Py_ssize_t bx, by, bz, cx, cy, cz
    cdef Py_ssize_t idx[3]
    cdef double total = 0.0, around
    if Y.shape[1] != 3 or stride < 1 or n0 < 1 or n1 < 1 or n2 < 1:
        raise ValueError("box_work: Y must be (N, 3), stride and n_int >= 1.")
    cdef Py_ssize_t nb = n0 * n1 * n2
    cdef double *count = <double *>malloc(nb * sizeof(double))
    if count == NULL:
        raise MemoryError()
    with nogil:
        for b in range(nb):
            count[b] = 0.0
        i = 0
        while i < n:
            for k in range(3):
                idx[k] = <Py_ssize_t>floor((Y[i, k] - lo[k]) / h[k])
                idx[k] = min(max(idx[k], 0), n_int[k] - 1)
            count[(idx[0] * n1 + idx[1]) * n2 + idx[2]] += 1.0
            i += stride
        for b in range(nb):
            if count[b] == 0.0:
                continue
            bx = b // (n1 * n2)
            by = (b // n2) % n1
            bz = b % n2
            around = 0.0
            for cx in range(max(bx - 1, 0), min(bx + 2, n0)):
                for cy in range(max(by - 1, 0), min(by + 2, n1)):
                    for cz in range(max(bz - 1, 0), min(bz + 2, n2)):
                        around = around + count[(cx * n1 + cy) * n2 + cz]
            total = total + count[b] * around
    free(count)
    return total * <double>stride * <double>stride
