# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Short-range half of the split 3-D repulsion kernel (``fasttsne.gradients.split3d``).

The kernel ``w(u) = (1 + u / dof)^(-dof)`` of the squared distance ``u`` is written as a
smooth far part plus a short-range part: the far part equals ``w`` for ``u >= a2`` and, inside
the cutoff, the Taylor polynomial of ``w`` about ``u = a2`` (degree ``deg`` in ``u``, so the far
part is ``C^deg`` in space). The force kernel is ``-dw/du`` (``w^(1 + 1/dof)``), split the same
way (far: ``-T'(u)`` inside). The far part is interpolated on a coarse grid
(``ext/_fft3d.pyx``); the short-range part ``w - T`` is zero beyond the cutoff and is summed
here exactly over the pairs closer than it. The points are sorted into cells a fraction of the
cutoff wide (``split3d.NEAR_CELLS_PER_CUTOFF`` per cutoff), and a point reads only the cells
its cutoff sphere reaches: per column of cells, the run of cells its chord spans, contiguous
in memory. With cells one cutoff wide, the 27 boxes around a point hold 6.4 times the
sphere's volume; with cells a third of it, per-point runs cover about 1.6 times.

Every point's sums run over the same cells in the same order whatever the thread count, and
are written to that point's own slots: results do not depend on ``n_jobs``.
"""
from cython.parallel cimport prange
from libc.math cimport floor, sqrt
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


cdef struct Cells:
    # the pair search's cells: equal intervals per axis (any width), z fastest in memory
    Py_ssize_t n[3]
    double lo[3]
    double h[3]


cdef Cells _cells(const double[::1] lo, const double[::1] h, const Py_ssize_t[::1] n_cells) except *:
    cdef Cells g
    cdef int k
    if lo.shape[0] < 3 or h.shape[0] < 3 or n_cells.shape[0] < 3:
        raise ValueError("cells need (3,) lo, h and n_cells.")
    for k in range(3):
        if n_cells[k] < 1 or not h[k] > 0.0:
            raise ValueError("cells need n_cells >= 1 and h > 0 on every axis.")
        g.n[k] = n_cells[k]
        g.lo[k] = lo[k]
        g.h[k] = h[k]
    return g


cdef inline Py_ssize_t _cell_of(double y, const Cells *g, int k) noexcept nogil:
    """Cell of coordinate ``y`` along axis ``k``, clamped to the grid (as the sort assigns it:
    monotone in ``y``, so the points within ``(y0, y1)`` lie in cells ``_cell_of(y0) ..
    _cell_of(y1)``)."""
    cdef Py_ssize_t c = <Py_ssize_t>floor((y - g.lo[k]) / g.h[k])
    if c < 0:
        return 0
    if c >= g.n[k]:
        return g.n[k] - 1
    return c


cdef inline double _gap(double y, const Cells *g, int k, Py_ssize_t c) noexcept nogil:
    """Distance along axis ``k`` from ``y`` to cell ``c``'s interval (0 inside it)."""
    cdef double lower = g.lo[k] + c * g.h[k]
    if y < lower:
        return lower - y
    if y > lower + g.h[k]:
        return y - lower - g.h[k]
    return 0.0


cdef inline PointSums _within(const double *y, const double[:, ::1] Ys, const int[::1] cell_start,
                              const Cells *g, Py_ssize_t skip, double dof, bint cauchy, double a2,
                              const double *coef, int deg) noexcept nogil:
    """Short-range sums on ``y`` (3,) over the points ``Ys`` (sorted by ``g``'s cells) closer
    than ``sqrt(a2)``; the point at sorted position ``skip`` (the point itself, or -1) is left out.

    Only cells the sphere of radius ``sqrt(a2)`` around ``y`` reaches are read: per column of
    cells (x, y), the run of z cells that the sphere's chord through the column spans, which
    is contiguous in ``Ys``. Columns and runs follow in a fixed order. Returned by value: a
    ``prange`` body keeps it private."""
    cdef PointSums r
    cdef Py_ssize_t cx, cy, c0, c1, q
    cdef double dx, dy, dz, u, wq, gx, rest_x, gy, chord, chord_z
    cdef KernelValue kv
    cdef Taylor tv
    r.f[0] = 0.0
    r.f[1] = 0.0
    r.f[2] = 0.0
    r.z = 0.0
    cdef double a = sqrt(a2)
    for cx in range(_cell_of(y[0] - a, g, 0), _cell_of(y[0] + a, g, 0) + 1):
        gx = _gap(y[0], g, 0, cx)
        rest_x = a2 - gx * gx
        if rest_x <= 0.0:
            continue
        chord = sqrt(rest_x)
        for cy in range(_cell_of(y[1] - chord, g, 1), _cell_of(y[1] + chord, g, 1) + 1):
            gy = _gap(y[1], g, 1, cy)
            if rest_x - gy * gy <= 0.0:
                continue
            chord_z = sqrt(rest_x - gy * gy)
            c0 = (cx * g.n[1] + cy) * g.n[2]
            c1 = c0 + _cell_of(y[2] + chord_z, g, 2) + 1
            c0 = c0 + _cell_of(y[2] - chord_z, g, 2)
            for q in range(cell_start[c0], cell_start[c1]):
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


def near_field(const double[:, ::1] Y_sorted, const int[::1] order, const int[::1] cell_start,
               const double[::1] lo, const double[::1] h, const Py_ssize_t[::1] n_cells, double dof,
               double a2, const double[::1] coef, double[:, ::1] out, double[::1] z_near, int n_jobs=1):
    """Add the short-range forces to ``out`` and write each point's short-range ``z``.

    Parameters
    ----------
    Y_sorted, order, cell_start : the points sorted by the search's cells
        (``_fft3d.sort_into_boxes`` with ``lo``, ``h``, ``n_cells``).
    lo, h : (3,) float64
        The cells' lower corner and widths (embedding units; any width, typically a fraction
        of the cutoff).
    n_cells : (3,) intp
        Cells per axis.
    dof, a2, coef : the kernel and its split (see :func:`far_kernel_octant`).
    out : (N, 3) float64
        ``sum_{j != i, |y_i - y_j|^2 < a2} (w^(1+1/dof) + T'(u)) (y_i - y_j)`` is added to row
        ``i`` (original point order).
    z_near : (N,) float64
        Overwritten (original point order) with ``sum_{j != i, u < a2} (w(u) - T(u))``.
    n_jobs : int
    """
    cdef Cells g = _cells(lo, h, n_cells)
    cdef Py_ssize_t n = Y_sorted.shape[0], nb = g.n[0] * g.n[1] * g.n[2], pos, i
    cdef int deg = coef.shape[0] - 1
    cdef bint cauchy = dof == 1.0
    cdef PointSums r
    if Y_sorted.shape[1] != 3 or order.shape[0] < n or cell_start.shape[0] < nb + 1 \
            or out.shape[0] < n or out.shape[1] != 3 or z_near.shape[0] < n or deg < 0:
        raise ValueError("near_field: arrays do not match the points and the cells.")
    # in cell order: consecutive points read the same runs of cells, which stay in cache
    for pos in prange(n, nogil=True, num_threads=max(n_jobs, 1), schedule="dynamic", chunksize=64):
        r = _within(&Y_sorted[pos, 0], Y_sorted, cell_start, &g, pos, dof, cauchy, a2, &coef[0], deg)
        i = order[pos]
        out[i, 0] += r.f[0]
        out[i, 1] += r.f[1]
        out[i, 2] += r.f[2]
        z_near[i] = r.z


def near_reference(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                   const Py_ssize_t[::1] n_cells, const double[:, ::1] Y_ref_sorted,
                   const int[::1] cell_start, double dof, double a2, const double[::1] coef,
                   double[:, ::1] out, double[::1] z_out, int n_jobs=1):
    """Add the short-range repulsion of a fixed reference to new points inside its cells' box.

    Points outside the box are left alone (they are summed exactly elsewhere).

    Parameters
    ----------
    Y : (N, 3) float64
        New points.
    lo, h : (3,) float64
        The reference's cells: lower corner and widths.
    n_cells : (3,) intp
    Y_ref_sorted, cell_start : the reference sorted by those cells.
    dof, a2, coef : the kernel and its split.
    out : (N, 3) float64
        The short-range forces are added.
    z_out : (N,) float64
        The short-range ``z`` is added.
    n_jobs : int
    """
    cdef Cells g = _cells(lo, h, n_cells)
    cdef Py_ssize_t n = Y.shape[0], i
    cdef int deg = coef.shape[0] - 1, k
    cdef bint cauchy = dof == 1.0, outside
    cdef PointSums r
    if Y.shape[1] != 3 or Y_ref_sorted.shape[1] != 3 or cell_start.shape[0] < g.n[0] * g.n[1] * g.n[2] + 1 \
            or out.shape[0] < n or out.shape[1] != 3 or z_out.shape[0] < n or deg < 0:
        raise ValueError("near_reference: arrays do not match the points and the cells.")
    for i in prange(n, nogil=True, num_threads=max(n_jobs, 1), schedule="guided"):
        outside = False
        for k in range(3):
            if not (g.lo[k] <= Y[i, k] <= g.lo[k] + g.n[k] * g.h[k]):
                outside = True
        if outside:
            continue
        r = _within(&Y[i, 0], Y_ref_sorted, cell_start, &g, -1, dof, cauchy, a2, &coef[0], deg)
        out[i, 0] += r.f[0]
        out[i, 1] += r.f[1]
        out[i, 2] += r.f[2]
        z_out[i] += r.z


def pair_checks(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                const Py_ssize_t[::1] n_cells, double a2, Py_ssize_t stride=1):
    """Pair checks :func:`near_field` would make with these cells and cutoff, estimated from
    every ``stride``-th point (as sources and as targets), times ``stride^2``.

    Parameters
    ----------
    Y : (N, 3) float64
    lo, h : (3,) float64
        The cells' lower corner and widths.
    n_cells : (3,) intp
    a2 : float
        Squared cutoff.
    stride : int >= 1

    Returns
    -------
    float
    """
    cdef Cells g = _cells(lo, h, n_cells)
    cdef Py_ssize_t n = Y.shape[0], nb = g.n[0] * g.n[1] * g.n[2], i, c, cx, cy, c0, c1
    cdef int k
    cdef double total = 0.0, a = sqrt(max(a2, 0.0)), gx, gy, rest_x, chord
    if Y.shape[1] != 3 or stride < 1:
        raise ValueError("pair_checks: Y must be (N, 3) and stride >= 1.")
    # before: running counts of the sampled points in the cells before each cell, so a run of
    # cells counts in O(1)
    cdef double *before = <double *>malloc((nb + 1) * sizeof(double))
    if before == NULL:
        raise MemoryError()
    with nogil:
        for c in range(nb + 1):
            before[c] = 0.0
        i = 0
        while i < n:
            c = 0
            for k in range(3):
                c = c * g.n[k] + _cell_of(Y[i, k], &g, k)
            before[c + 1] += 1.0
            i += stride
        for c in range(nb):
            before[c + 1] += before[c]
        # the runs _within reads, from each sampled point
        i = 0
        while i < n:
            for cx in range(_cell_of(Y[i, 0] - a, &g, 0), _cell_of(Y[i, 0] + a, &g, 0) + 1):
                gx = _gap(Y[i, 0], &g, 0, cx)
                rest_x = a2 - gx * gx
                if rest_x <= 0.0:
                    continue
                chord = sqrt(rest_x)
                for cy in range(_cell_of(Y[i, 1] - chord, &g, 1), _cell_of(Y[i, 1] + chord, &g, 1) + 1):
                    gy = _gap(Y[i, 1], &g, 1, cy)
                    if rest_x - gy * gy <= 0.0:
                        continue
                    c0 = (cx * g.n[1] + cy) * g.n[2]
                    c1 = c0 + _cell_of(Y[i, 2] + sqrt(rest_x - gy * gy), &g, 2) + 1
                    c0 = c0 + _cell_of(Y[i, 2] - sqrt(rest_x - gy * gy), &g, 2)
                    total = total + before[c1] - before[c0]
            i += stride
    free(before)
    return total * <double>stride * <double>stride
