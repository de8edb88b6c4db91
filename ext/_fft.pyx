# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Hot loops of the FFT-accelerated interpolation repulsion (Linderman et al. 2019).

The embedding's bounding box is cut into ``n1 x n2`` equal intervals ("boxes"), each holding
``p x p`` Lagrange nodes at box-local positions ``(k + 1/2) / p`` of the box width (``p x 1``
in 1-D, where the second axis is a dummy of one box and one node). Nodes are therefore
equispaced over the whole box (node spacing ``h / p``), and every node lies strictly inside
exactly one box. That last fact is what makes the point -> grid step parallel without
races and without per-thread grids: points sorted by box, boxes shared among threads, each
box writes only its own ``p x p`` nodes, in a fixed point order, so the result is the same
for any number of threads.

Grids are indexed ``grid[channel, gx, gy]`` with ``gx = bx * p + kx`` and ``gy = by * p_y + ky``.
Coordinates entering the charges are taken relative to ``center`` (the box centre) so the
force expansion ``F_i = (y_i - c) phi_0 - phi_k`` cancels small numbers, not large ones.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport floor, pow
from libc.stdlib cimport free, malloc


cdef inline Py_ssize_t _box(double y, double lo, double h, Py_ssize_t n, double *s) noexcept nogil:
    """Interval index of coordinate ``y``, clamped to [0, n); ``s`` receives the position
    inside that interval as a fraction of its width (outside [0, 1) only when clamped)."""
    cdef double t = (y - lo) / h
    cdef Py_ssize_t b = <Py_ssize_t>floor(t)
    if b < 0:
        b = 0
    elif b >= n:
        b = n - 1
    s[0] = t - b
    return b


cdef inline void _lagrange(double u, int p, const double *den, double *out) noexcept nogil:
    """Weights of the ``p`` Lagrange basis polynomials at ``u`` (box-local, in node units;
    nodes at k + 1/2)."""
    cdef int k, m
    cdef double prod
    for k in range(p):
        prod = 1.0
        for m in range(p):
            if m != k:
                prod = prod * (u - (m + 0.5))
        out[k] = prod / den[k]


cdef double *_denominators(int p) noexcept nogil:
    """prod_{m != k} (k - m) for each node k (malloc'd; the caller frees)."""
    cdef double *den = <double *>malloc(max(p, 1) * sizeof(double))
    cdef int k, m
    if den == NULL:
        return NULL
    for k in range(p):
        den[k] = 1.0
        for m in range(p):
            if m != k:
                den[k] = den[k] * (k - m)
    return den


def sort_into_boxes(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                    const Py_ssize_t[::1] n_int, int[::1] box_of_point, int[::1] order,
                    int[::1] box_start, int n_jobs=1):
    """Counting sort of the points by box (stable: ascending index within a box).

    Parameters
    ----------
    Y : (N, d) float64, d in {1, 2}
    lo, h : (2,) float64
        Lower corner of the grid and interval widths (embedding units).
    n_int : (2,) intp
        Intervals per axis (``n_int[1] == 1`` in 1-D).
    box_of_point : (N,) int32, scratch
    order : (N,) int32
        Overwritten: point indices grouped by box.
    box_start : (n_int[0] * n_int[1] + 1,) int32
        Overwritten: points of box ``b`` are ``order[box_start[b]:box_start[b + 1]]``.
    n_jobs : int
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1]
    cdef Py_ssize_t n1 = n_int[0], n2 = n_int[1], nb = n1 * n2
    cdef Py_ssize_t i, b, bx, by
    cdef double s
    cdef int *cursor
    for i in prange(n, nogil=True, num_threads=n_jobs, schedule="static"):
        bx = _box(Y[i, 0], lo[0], h[0], n1, &s)
        by = _box(Y[i, 1], lo[1], h[1], n2, &s) if d == 2 else 0
        box_of_point[i] = <int>(bx * n2 + by)
    for b in range(nb + 1):
        box_start[b] = 0
    for i in range(n):
        box_start[box_of_point[i] + 1] += 1
    for b in range(nb):
        box_start[b + 1] += box_start[b]
    cursor = <int *>malloc(max(nb, 1) * sizeof(int))
    if cursor == NULL:
        raise MemoryError()
    for b in range(nb):
        cursor[b] = box_start[b]
    for i in range(n):
        b = box_of_point[i]
        order[cursor[b]] = <int>i
        cursor[b] += 1
    free(cursor)


def charges_to_grid(const double[:, ::1] Y, const double[::1] center, const double[::1] lo,
                    const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                    const int[::1] order, const int[::1] box_start, floating[:, :, ::1] charges,
                    int n_jobs=1):
    """Interpolate the charges ``1`` and ``y_k - c_k`` of every point onto the nodes.

    Parameters
    ----------
    Y : (N, d) float64, d in {1, 2}
    center, lo, h : (2,) float64
        Box centre, lower corner and interval widths.
    n_int : (2,) intp
    p : int
        Lagrange nodes per interval and axis (the dummy axis of 1-D has one).
    order, box_start : from :func:`sort_into_boxes`
    charges : (1 + d, n_int[0] * p, n_int[1] * p_y) float32 or float64
        Overwritten (every node is written, no prior zeroing needed).
    n_jobs : int
    """
    cdef Py_ssize_t d = Y.shape[1]
    cdef Py_ssize_t n1 = n_int[0], n2 = n_int[1], nb = n1 * n2
    cdef int py = p if d == 2 else 1
    cdef int nt = max(n_jobs, 1)
    cdef Py_ssize_t b, bx, by, idx, i, gx, gy, c, nch = 1 + d
    cdef int kx, ky
    cdef double sx, sy, wgt, qx, qy
    cdef double *wx
    cdef double *wy
    cdef double *den = _denominators(p)
    cdef double *scratch = <double *>malloc(nt * 2 * p * sizeof(double))
    if den == NULL or scratch == NULL:
        free(den)
        free(scratch)
        raise MemoryError()
    for b in prange(nb, nogil=True, num_threads=nt, schedule="guided"):
        wx = scratch + threadid() * 2 * p
        wy = wx + p
        bx = b // n2
        by = b % n2
        for c in range(nch):
            for kx in range(p):
                for ky in range(py):
                    charges[c, bx * p + kx, by * py + ky] = 0.0
        for idx in range(box_start[b], box_start[b + 1]):
            i = order[idx]
            _box(Y[i, 0], lo[0], h[0], n1, &sx)
            _lagrange(sx * p, p, den, wx)
            qx = Y[i, 0] - center[0]
            if d == 2:
                _box(Y[i, 1], lo[1], h[1], n2, &sy)
                _lagrange(sy * p, p, den, wy)
                qy = Y[i, 1] - center[1]
            else:
                wy[0] = 1.0
                qy = 0.0
            for kx in range(p):
                gx = bx * p + kx
                for ky in range(py):
                    gy = by * py + ky
                    wgt = wx[kx] * wy[ky]
                    charges[0, gx, gy] += wgt
                    charges[1, gx, gy] += wgt * qx
                    if d == 2:
                        charges[2, gx, gy] += wgt * qy
    free(den)
    free(scratch)


def kernel_quadrants(double sx, double sy, double dof, double[:, ::1] kw, double[:, ::1] k2,
                     int n_jobs=1):
    """Both kernels at the node offsets ``(a sx, b sy)``, ``a, b >= 0``.

    The kernels are even, so this quadrant determines their circulant embeddings, and a
    type-1 DCT of it is their (real) DFT.

    Parameters
    ----------
    sx, sy : float
        Node spacing per axis (embedding units).
    dof : float
    kw : (Q1, Q2) float64
        Overwritten with ``w = (1 + r^2 / dof)^(-dof)``.
    k2 : (Q1, Q2) float64
        Overwritten with ``w^(1 + 1/dof)``.
    n_jobs : int
    """
    cdef Py_ssize_t q1 = kw.shape[0], q2 = kw.shape[1], a, b
    cdef double ox, oy, base, w
    cdef bint cauchy = dof == 1.0
    for a in prange(q1, nogil=True, num_threads=n_jobs, schedule="static"):
        ox = a * sx
        for b in range(q2):
            oy = b * sy
            base = 1.0 + (ox * ox + oy * oy) / dof
            if cauchy:
                w = 1.0 / base
            else:
                w = pow(base, -dof)
            kw[a, b] = w
            k2[a, b] = w / base


def convolve_spectra(floating[:, :, ::1] spectra, const floating[:, ::1] k2_hat,
                     const floating[:, ::1] kw_hat, Py_ssize_t L2, double[::1] row_sums,
                     int n_jobs=1):
    """Multiply every charge spectrum by the force kernel's (in place); return the
    grid self-energy ``sum_{m,n} c0_m w(m - n) c0_n`` of the unit charges (Parseval).

    Parameters
    ----------
    spectra : (C, L1, 2 * (L2 // 2 + 1)) float32 or float64
        Half spectra (``rfft`` along the last axis) of the zero-padded charge grids, viewed
        as interleaved real and imaginary parts; channel 0 holds the unit charges.
        Overwritten with their products with ``k2_hat``.
    k2_hat, kw_hat : (L1, L2 // 2 + 1), the dtype of ``spectra``
        Real DFTs of the (even) force and Z kernels.
    L2 : int
        Full length of the last axis (to weigh the half spectrum's columns).
    row_sums : (L1,) float64, scratch
        Per-row parts of the energy, summed serially so the result does not depend on n_jobs.
    n_jobs : int

    Returns
    -------
    float
        The sum over all pairs of points, self-pairs included, of the interpolated ``w``.
    """
    cdef Py_ssize_t nch = spectra.shape[0], L1 = spectra.shape[1], L2h = spectra.shape[2] // 2
    cdef Py_ssize_t a, b, c
    cdef double s, re, im, weight, total = 0.0
    cdef floating k
    for a in prange(L1, nogil=True, num_threads=n_jobs, schedule="static"):
        s = 0.0
        for b in range(L2h):
            # columns 1 .. ceil(L2/2)-1 stand for themselves and their mirror image
            weight = 1.0 if (b == 0 or 2 * b == L2) else 2.0
            re = spectra[0, a, 2 * b]
            im = spectra[0, a, 2 * b + 1]
            s = s + weight * kw_hat[a, b] * (re * re + im * im)
            k = k2_hat[a, b]
            for c in range(nch):
                spectra[c, a, 2 * b] = spectra[c, a, 2 * b] * k
                spectra[c, a, 2 * b + 1] = spectra[c, a, 2 * b + 1] * k
        row_sums[a] = s
    for a in range(L1):
        total += row_sums[a]
    return total / (<double>L1 * <double>L2)


def grid_to_points(const double[:, ::1] Y, const double[::1] center, const double[::1] lo,
                   const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                   const floating[:, :, ::1] potentials, const double[:, ::1] self_kernel,
                   double[:, ::1] out, double[::1] self_energy, int n_jobs=1):
    """Interpolate the force potentials at the points and combine them into forces.

    Parameters
    ----------
    Y : (N, d) float64
    center, lo, h : (2,) float64
    n_int : (2,) intp
    p : int
    potentials : (1 + d, >= n_int[0] * p, >= n_int[1] * p_y) float32 or float64
        ``sum_j w^(1+1/dof) * (1, y_j - c)`` on the nodes (extra rows/columns ignored).
    self_kernel : (p * p_y, p * p_y) float64
        ``w`` between the nodes of one box (the same for every box).
    out : (N, d) float64
        Overwritten with ``F_i = (y_i - c) phi_0(y_i) - phi_k(y_i)``.
    self_energy : (N,) float64
        Overwritten with each point's interpolated interaction with itself (what the grid
        counts for ``w_ii``), to be removed from Z.
    n_jobs : int
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1]
    cdef Py_ssize_t n1 = n_int[0], n2 = n_int[1]
    cdef int py = p if d == 2 else 1
    cdef int nt = max(n_jobs, 1), nloc = p * py
    cdef Py_ssize_t i, bx, by, gx, gy
    cdef int kx, ky, u, v
    cdef double sx, sy, wgt, phi0, phi1, phi2, e, row
    cdef double *wx
    cdef double *wy
    cdef double *wl
    cdef double *den = _denominators(p)
    cdef double *scratch = <double *>malloc(nt * (2 * p + nloc) * sizeof(double))
    if den == NULL or scratch == NULL:
        free(den)
        free(scratch)
        raise MemoryError()
    for i in prange(n, nogil=True, num_threads=nt, schedule="static"):
        wx = scratch + threadid() * (2 * p + nloc)
        wy = wx + p
        wl = wy + p
        bx = _box(Y[i, 0], lo[0], h[0], n1, &sx)
        _lagrange(sx * p, p, den, wx)
        if d == 2:
            by = _box(Y[i, 1], lo[1], h[1], n2, &sy)
            _lagrange(sy * p, p, den, wy)
        else:
            by = 0
            wy[0] = 1.0
        phi0 = 0.0
        phi1 = 0.0
        phi2 = 0.0
        for kx in range(p):
            gx = bx * p + kx
            for ky in range(py):
                gy = by * py + ky
                wgt = wx[kx] * wy[ky]
                wl[kx * py + ky] = wgt
                phi0 = phi0 + wgt * potentials[0, gx, gy]
                phi1 = phi1 + wgt * potentials[1, gx, gy]
                if d == 2:
                    phi2 = phi2 + wgt * potentials[2, gx, gy]
        out[i, 0] = (Y[i, 0] - center[0]) * phi0 - phi1
        if d == 2:
            out[i, 1] = (Y[i, 1] - center[1]) * phi0 - phi2
        e = 0.0
        for u in range(nloc):
            row = 0.0
            for v in range(nloc):
                row = row + self_kernel[u, v] * wl[v]
            e = e + wl[u] * row
        self_energy[i] = e
    free(den)
    free(scratch)


def reference_to_points(const double[:, ::1] Y, const double[::1] center, const double[::1] lo,
                        const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                        const double[:, :, ::1] potentials, const double[:, ::1] Y_ref, double dof,
                        double[:, ::1] out, double[::1] z_out, int n_jobs=1):
    """Repulsion of a fixed reference on new points, from precomputed grid potentials.

    Points inside the grid's box are interpolated; points outside it are summed exactly
    over ``Y_ref`` (their Lagrange weights would be extrapolations).

    Parameters
    ----------
    Y : (N, d) float64
        New points.
    center, lo, h, n_int, p : grid of the reference (see :func:`charges_to_grid`).
    potentials : (2 + d, >= n_int[0] * p, >= n_int[1] * p_y) float64
        ``sum_j w``, ``sum_j w^(1+1/dof)`` and ``sum_j w^(1+1/dof) (y_j - c)`` on the nodes.
    Y_ref : (N_ref, d) float64
    dof : float
    out : (N, d) float64
        Overwritten with ``sum_{j in ref} w_ij^(1+1/dof) (y_i - y_j)``.
    z_out : (N,) float64
        Overwritten with ``sum_{j in ref} w_ij``.
    n_jobs : int

    Returns
    -------
    int
        How many points were outside the box (summed exactly).
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1], n_ref = Y_ref.shape[0]
    cdef Py_ssize_t n1 = n_int[0], n2 = n_int[1]
    cdef int py = p if d == 2 else 1
    cdef int nt = max(n_jobs, 1)
    cdef Py_ssize_t i, j, k, bx, by, gx, gy, n_outside = 0
    cdef int kx, ky
    cdef double sx, sy, wgt, phiw, phi0, phi1, phi2, d2, diff, base, w, q
    cdef double *wx
    cdef double *wy
    cdef double *den = _denominators(p)
    cdef double *scratch = <double *>malloc(nt * 2 * p * sizeof(double))
    cdef unsigned char *outside = <unsigned char *>malloc(max(n, 1))
    if den == NULL or scratch == NULL or outside == NULL:
        free(den)
        free(scratch)
        free(outside)
        raise MemoryError()
    for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        outside[i] = 0
        for k in range(d):
            if not (lo[k] <= Y[i, k] <= lo[k] + n_int[k] * h[k]):
                outside[i] = 1
        if outside[i]:
            for k in range(d):
                out[i, k] = 0.0
            z_out[i] = 0.0
            for j in range(n_ref):
                d2 = 0.0
                for k in range(d):
                    diff = Y[i, k] - Y_ref[j, k]
                    d2 = d2 + diff * diff
                base = 1.0 + d2 / dof
                w = pow(base, -dof)
                q = w / base
                z_out[i] += w
                for k in range(d):
                    out[i, k] += q * (Y[i, k] - Y_ref[j, k])
        else:
            wx = scratch + threadid() * 2 * p
            wy = wx + p
            bx = _box(Y[i, 0], lo[0], h[0], n1, &sx)
            _lagrange(sx * p, p, den, wx)
            if d == 2:
                by = _box(Y[i, 1], lo[1], h[1], n2, &sy)
                _lagrange(sy * p, p, den, wy)
            else:
                by = 0
                wy[0] = 1.0
            phiw = 0.0
            phi0 = 0.0
            phi1 = 0.0
            phi2 = 0.0
            for kx in range(p):
                gx = bx * p + kx
                for ky in range(py):
                    gy = by * py + ky
                    wgt = wx[kx] * wy[ky]
                    phiw = phiw + wgt * potentials[0, gx, gy]
                    phi0 = phi0 + wgt * potentials[1, gx, gy]
                    phi1 = phi1 + wgt * potentials[2, gx, gy]
                    if d == 2:
                        phi2 = phi2 + wgt * potentials[3, gx, gy]
            z_out[i] = phiw
            out[i, 0] = (Y[i, 0] - center[0]) * phi0 - phi1
            if d == 2:
                out[i, 1] = (Y[i, 1] - center[1]) * phi0 - phi2
    for i in range(n):
        n_outside += outside[i]
    free(den)
    free(scratch)
    free(outside)
    return n_outside
