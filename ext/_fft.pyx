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

Near-field correction: interpolating a kernel that varies on the scale of a box is least
accurate for pairs of points in the same or nearby boxes. For those (boxes at most
``radius`` apart per axis) the exact interaction is summed over the point pairs, and the
grid's version is removed from the node potentials. The grid's near field of a node is a
sum over a box-aligned window of source nodes, ``(2 radius + 1) p`` wide; the offsets
within ``radius * p`` of the node are in every node's window, so that "core" is removed for
free by zeroing it in the kernel before its FFT, and only the window's rim (offsets
``radius * p + 1 .. (radius + 1) p - 1`` on one side, which side depending on the node's
place in its box) is summed directly: 56 of 225 source nodes per node at p = 3, radius 2.

Grids are indexed ``grid[channel, gx, gy]`` with ``gx = bx * p + kx`` and ``gy = by * p_y + ky``.
Coordinates entering the charges are taken relative to ``center`` (the box centre) so the
force expansion ``F_i = (y_i - c) phi_0 - phi_k`` cancels small numbers, not large ones.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport isfinite
from libc.stdlib cimport calloc, free, malloc

from _kernels cimport KernelValue, tsne_kernel
from _lagrange cimport (Workspace, box_of, free_workspace, lagrange_weights, pair_sums, read_axes,
                        sort_by_box, workspace)


cdef struct Geometry:
    # see fasttsne.gradients.fft._Grid; axis 1 is a dummy (one box, one node) in 1-D
    int d
    int p
    int py
    Py_ssize_t n[2]
    double lo[2]
    double h[2]
    double c[2]


cdef Geometry _geometry(Py_ssize_t d, const double[::1] center, const double[::1] lo,
                        const double[::1] h, const Py_ssize_t[::1] n_int, int p) except *:
    cdef Geometry g
    g.d = <int>d
    g.p = p
    g.py = p if d == 2 else 1
    read_axes(2, center, lo, h, n_int, p, g.n, g.lo, g.h, g.c)
    return g


cdef inline Py_ssize_t _locate(const Geometry *g, const double *y, const double *den, double *wx,
                               double *wy) noexcept nogil:
    """Box ``bx * n[1] + by`` of the point ``y``; its Lagrange weights along each axis
    (``p`` and ``py``) go to ``wx`` and ``wy``."""
    cdef double s
    cdef Py_ssize_t bx, by = 0
    bx = box_of(y[0], g.lo[0], g.h[0], g.n[0], &s)
    lagrange_weights(s * g.p, g.p, den, wx)
    if g.d == 2:
        by = box_of(y[1], g.lo[1], g.h[1], g.n[1], &s)
        lagrange_weights(s * g.p, g.p, den, wy)
    else:
        wy[0] = 1.0
    return bx * g.n[1] + by


cdef inline void _exact_near(const Geometry *g, const double *y, Py_ssize_t skip, Py_ssize_t bx,
                             Py_ssize_t by, int radius, const double *Ys, const int *box_start,
                             double dof, double *f, double *z) noexcept nogil:
    """Add to ``f`` (d) and ``z`` the exact interactions of ``y`` with the source points in
    the boxes at most ``radius`` from (bx, by), leaving out sorted position ``skip``.

    ``Ys`` holds the sources sorted by box, so the boxes ``(ax, by - radius .. by + radius)``
    are one contiguous run per ``ax``.
    """
    cdef Py_ssize_t ax, j, d = g.d, ry = radius if d == 2 else 0
    cdef Py_ssize_t lo_y = max(by - ry, 0), hi_y = min(by + ry, g.n[1] - 1)
    cdef double dx, dy, fx = 0.0, fy = 0.0, zs = 0.0
    cdef KernelValue kv
    cdef bint cauchy = dof == 1.0
    for ax in range(max(bx - radius, 0), min(bx + radius + 1, g.n[0])):
        for j in range(box_start[ax * g.n[1] + lo_y], box_start[ax * g.n[1] + hi_y + 1]):
            if j == skip:
                continue
            dx = y[0] - Ys[j * d]
            dy = y[1] - Ys[j * d + 1] if d == 2 else 0.0
            kv = tsne_kernel(dx * dx + dy * dy, dof, cauchy)
            zs += kv.w
            fx += kv.wq * dx
            fy += kv.wq * dy
    z[0] += zs
    f[0] += fx
    if d == 2:
        f[1] += fy


cdef inline void _write_point(const Geometry *g, const double *f, double z, double *force,
                              double *z_out) noexcept nogil:
    """Store one point's force (the first ``d`` values of ``f``) and its share of Z."""
    force[0] = f[0]
    if g.d == 2:
        force[1] = f[1]
    z_out[0] = z


cdef inline double _grid_self_energy(const double *wx, const double *wy, int p, int py,
                                     const double[:, ::1] kw, double *sx, double *sy) noexcept nogil:
    """``sum_{a, b, a', b'} wx[a] wy[b] kw(|a - a'|, |b - b'|) wx[a'] wy[b']``: a point's
    interaction with itself through the grid (its charges and potentials share one box).

    The kernel depends only on the offsets, so the sum factorises into the weights' pair sums
    per offset (``sx``, ``sy``: scratch of p and py doubles): O(p^2) work instead of O(p^4).
    """
    cdef int ox, oy
    cdef double e = 0.0, row
    pair_sums(wx, p, sx)
    pair_sums(wy, py, sy)
    for ox in range(p):
        row = 0.0
        for oy in range(py):
            row = row + kw[ox, oy] * sy[oy]
        e = e + sx[ox] * row
    return e


def extent(const double[:, ::1] Y, double[::1] lo, double[::1] hi):
    """The points' box: per-axis minimum and maximum of ``Y`` (N, d) into ``lo``, ``hi`` (d,).

    Returns whether every value is finite (the bounds are meaningless otherwise).
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1], i, k
    cdef double v
    cdef bint finite = True
    if n == 0 or lo.shape[0] < d or hi.shape[0] < d:
        raise ValueError("extent needs N > 0 positions and (d,) outputs.")
    with nogil:
        for k in range(d):
            lo[k] = Y[0, k]
            hi[k] = Y[0, k]
        for i in range(n):
            for k in range(d):
                v = Y[i, k]
                if not isfinite(v):
                    finite = False
                if v < lo[k]:
                    lo[k] = v
                elif v > hi[k]:
                    hi[k] = v
    return finite


def sort_into_boxes(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                    const Py_ssize_t[::1] n_int, int[::1] box_of_point, int[::1] order,
                    int[::1] box_start, double[:, ::1] Y_sorted):
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
        Overwritten: points of box ``b = bx * n_int[1] + by`` are
        ``order[box_start[b]:box_start[b + 1]]``.
    Y_sorted : (N, d) float64
        Overwritten with ``Y[order]`` (contiguous neighbourhoods for the exact near field).
    """
    cdef Py_ssize_t n = Y.shape[0], d = Y.shape[1]
    cdef Py_ssize_t n1 = n_int[0], n2 = n_int[1], nb = n1 * n2
    cdef Py_ssize_t i, bx, by
    cdef double s
    cdef int *cursor = <int *>malloc(max(nb, 1) * sizeof(int))
    if cursor == NULL:
        raise MemoryError()
    # O(N) and memory-bound: serial, since waking a second thread costs more than it saves
    # whenever the other core is busy
    with nogil:
        for i in range(n):
            bx = box_of(Y[i, 0], lo[0], h[0], n1, &s)
            by = box_of(Y[i, 1], lo[1], h[1], n2, &s) if d == 2 else 0
            box_of_point[i] = <int>(bx * n2 + by)
        sort_by_box(&box_of_point[0], n, nb, &box_start[0], &order[0], cursor)
        for i in range(n):
            Y_sorted[i, 0] = Y[order[i], 0]
            if d == 2:
                Y_sorted[i, 1] = Y[order[i], 1]
    free(cursor)


def near_field_work(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                    const Py_ssize_t[::1] n_int, int radius):
    """What the exact near field of ``radius`` would cost on these boxes, from a box-count
    histogram and its summed-area table (O(N + boxes), serial, no sort).

    Parameters
    ----------
    Y : (N, 2) float64
    lo, h : (2,) float64
        Lower corner and interval widths of the grid (embedding units).
    n_int : (2,) intp
        Intervals per axis.
    radius : int >= 0
        Near-field radius, in boxes per axis.

    Returns
    -------
    pairs : int
        ``sum_b n_b * (points in the boxes at most radius from b per axis, b included)``:
        the pair checks :func:`grid_to_points` makes (each point's check of itself included).
    occupied : int
        Boxes holding at least one point (the ones :func:`near_field_rim` corrects).
    """
    cdef Py_ssize_t n = Y.shape[0], n1 = n_int[0], n2 = n_int[1], i, a, b, w = n_int[1] + 1
    cdef Py_ssize_t a0, a1, b0, b1
    cdef long long c, window, pairs = 0, occupied = 0
    cdef double s
    if Y.shape[1] != 2 or lo.shape[0] < 2 or h.shape[0] < 2 or n_int.shape[0] < 2 or n1 < 1 \
            or n2 < 1 or radius < 0:
        raise ValueError("near_field_work needs (N, 2) points, a 2-D grid and radius >= 0.")
    # S[a, b] (a <= n1, b <= n2): points in boxes [0, a) x [0, b)
    cdef long long *S = <long long *>calloc((n1 + 1) * w, sizeof(long long))
    if S == NULL:
        raise MemoryError()
    with nogil:
        for i in range(n):
            a = box_of(Y[i, 0], lo[0], h[0], n1, &s)
            b = box_of(Y[i, 1], lo[1], h[1], n2, &s)
            S[(a + 1) * w + b + 1] += 1
        for a in range(1, n1 + 1):
            for b in range(1, n2 + 1):
                S[a * w + b] += S[(a - 1) * w + b] + S[a * w + b - 1] - S[(a - 1) * w + b - 1]
        for a in range(n1):
            for b in range(n2):
                c = S[(a + 1) * w + b + 1] - S[a * w + b + 1] - S[(a + 1) * w + b] + S[a * w + b]
                if c == 0:
                    continue
                a0 = max(a - radius, 0)
                a1 = min(a + radius + 1, n1)
                b0 = max(b - radius, 0)
                b1 = min(b + radius + 1, n2)
                window = S[a1 * w + b1] - S[a0 * w + b1] - S[a1 * w + b0] + S[a0 * w + b0]
                pairs += c * window
                occupied += 1
    free(S)
    return int(pairs), int(occupied)


def charges_to_grid(const double[:, ::1] Y_sorted, const double[::1] center, const double[::1] lo,
                    const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                    const int[::1] box_start, floating[:, :, ::1] charges, int n_jobs=1):
    """Interpolate the charges ``1`` and ``y_k - c_k`` of every point onto the nodes.

    Parameters
    ----------
    Y_sorted, box_start : from :func:`sort_into_boxes`
        The points (N, d), d in {1, 2}, sorted by box, and where each box's points start.
    center, lo, h : (2,) float64
        Box centre, lower corner and interval widths.
    n_int : (2,) intp
    p : int
        Lagrange nodes per interval and axis (the dummy axis of 1-D has one).
    charges : (1 + d, n_int[0] * p, n_int[1] * p_y) float32 or float64
        Overwritten (every node is written, no prior zeroing needed).
    n_jobs : int
    """
    cdef Geometry g = _geometry(Y_sorted.shape[1], center, lo, h, n_int, p)
    cdef Py_ssize_t nb = g.n[0] * g.n[1], b, bx, by, idx, gx, gy, c
    cdef int nt = max(n_jobs, 1), kx, ky, py = g.py
    cdef double wgt, qx, qy
    cdef double *wx
    cdef double *wy
    cdef Workspace ws = workspace(p, nt * 2 * p)
    for b in prange(nb, nogil=True, num_threads=nt, schedule="guided"):
        wx = ws.scratch + threadid() * 2 * p
        wy = wx + p
        bx = b // g.n[1]
        by = b % g.n[1]
        for c in range(1 + g.d):
            for kx in range(p):
                for ky in range(py):
                    charges[c, bx * p + kx, by * py + ky] = 0.0
        for idx in range(box_start[b], box_start[b + 1]):
            _locate(&g, &Y_sorted[idx, 0], ws.den, wx, wy)
            qx = Y_sorted[idx, 0] - g.c[0]
            qy = Y_sorted[idx, 1] - g.c[1] if g.d == 2 else 0.0
            for kx in range(p):
                gx = bx * p + kx
                for ky in range(py):
                    gy = by * py + ky
                    wgt = wx[kx] * wy[ky]
                    charges[0, gx, gy] += wgt
                    charges[1, gx, gy] += wgt * qx
                    if g.d == 2:
                        charges[2, gx, gy] += wgt * qy
    free_workspace(ws)


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
    cdef double ox, oy
    cdef KernelValue kv
    cdef bint cauchy = dof == 1.0
    for a in prange(q1, nogil=True, num_threads=n_jobs, schedule="guided"):
        ox = a * sx
        for b in range(q2):
            oy = b * sy
            kv = tsne_kernel(ox * ox + oy * oy, dof, cauchy)
            kw[a, b] = kv.w
            k2[a, b] = kv.wq


def convolve_spectra(floating[:, :, ::1] spectra, const floating[:, ::1] k2_hat,
                     const double[:, ::1] kw_hat, Py_ssize_t L2, double[::1] row_sums,
                     bint with_energy=True, int n_jobs=1):
    """Multiply every charge spectrum by the force kernel's (in place); return the
    grid energy ``sum_{m,n} c0_m w(m - n) c0_n`` of the unit charges (Parseval).

    Parameters
    ----------
    spectra : (C, L1, 2 * (L2 // 2 + 1)) float32 or float64
        Half spectra (``rfft`` along the last axis) of the zero-padded charge grids, viewed
        as interleaved real and imaginary parts; channel 0 holds the unit charges.
        Overwritten with their products with ``k2_hat``.
    k2_hat : (L1, L2 // 2 + 1), the dtype of ``spectra``
        Real DFT of the (even) force kernel.
    kw_hat : (L1, L2 // 2 + 1) float64
        Real DFT of the Z kernel (float64: most of it is tiny next to its largest value,
        and float32 rounding there adds up over the whole spectrum).
    L2 : int
        Full length of the last axis (to weigh the half spectrum's columns).
    row_sums : (L1,) float64, scratch
        Per-row parts of the energy, summed serially so the result does not depend on n_jobs.
    with_energy : bool
        Whether channel 0 holds the unit charges and the energy is wanted (else 0 is returned).
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
    for a in prange(L1, nogil=True, num_threads=n_jobs, schedule="guided"):
        s = 0.0
        for b in range(L2h):
            if with_energy:
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


def near_field_rim(const floating[:, :, ::1] charges, const double[:, ::1] kw_quadrant,
                   const double[:, ::1] k2_quadrant, const Py_ssize_t[::1] n_int, int p,
                   int radius, const int[::1] box_start, bint every_box,
                   floating[:, :, ::1] potentials, bint with_w, double[::1] box_energy,
                   int n_jobs=1):
    """Subtract the rim of the grid's near field from the node potentials.

    The potentials must come from kernels whose core (offsets within ``radius * p`` nodes
    on every axis) was zeroed before the FFT; after this call they hold the far field only
    (what the grid says about sources in boxes more than ``radius`` away).

    Parameters
    ----------
    charges : (1 + d, M1, M2) float32 or float64
        From :func:`charges_to_grid`.
    kw_quadrant, k2_quadrant : float64
        The full kernels at non-negative node offsets (:func:`kernel_quadrants`), at least
        ``(radius + 1) * p`` per real axis.
    n_int : (2,) intp
    p : int
    radius : int >= 0
        In boxes, per axis.
    box_start : (n_boxes + 1,) int32
        From :func:`sort_into_boxes`.
    every_box : bool
        Correct every target box (a reference grid, queried anywhere later) or only the
        occupied ones (the only ones interpolated from in the same call).
    potentials : (C, >= M1, >= M2), the dtype of ``charges``
        Node potentials: ``w * 1`` first when ``with_w``, then ``w^(1+1/dof) * (1, y - c)``.
        Updated in place.
    with_w : bool
    box_energy : (n_boxes,) float64
        Overwritten with ``sum_{u in box} c0_u (rim w potential)_u`` (0 for skipped boxes):
        with the core's share, already missing from the FFT energy, the grid's near-field
        energy.
    n_jobs : int
    """
    cdef Py_ssize_t d = charges.shape[0] - 1
    cdef Py_ssize_t n1 = n_int[0], n2 = n_int[1], nb = n1 * n2, M1 = n1 * p
    cdef int py = p if d == 2 else 1
    cdef Py_ssize_t M2 = n2 * py, ry = radius if d == 2 else 0
    cdef Py_ssize_t core_x = radius * p, core_y = ry * py
    cdef Py_ssize_t b, bx, by, gx, gy, vx, vy, ox, oy, vy_lo, vy_hi, f0 = 1 if with_w else 0
    cdef int kx, ky
    cdef double acc_w, acc0, acc1, acc2, kw, k2, c0, e
    for b in prange(nb, nogil=True, num_threads=n_jobs, schedule="guided"):
        box_energy[b] = 0.0
        if not every_box and box_start[b] == box_start[b + 1]:
            continue
        bx = b // n2
        by = b % n2
        vy_lo = max(by - ry, 0) * py
        vy_hi = min(by + ry + 1, n2) * py
        e = 0.0
        for kx in range(p):
            gx = bx * p + kx
            for ky in range(py):
                gy = by * py + ky
                acc_w = 0.0
                acc0 = 0.0
                acc1 = 0.0
                acc2 = 0.0
                for vx in range(max(bx - radius, 0) * p, min((bx + radius + 1) * p, M1)):
                    ox = vx - gx if vx >= gx else gx - vx
                    vy = vy_lo
                    while vy < vy_hi:
                        oy = vy - gy if vy >= gy else gy - vy
                        if ox <= core_x and oy <= core_y:
                            # the core's part of the row is in the FFT: skip to its end
                            vy = gy + core_y + 1
                            continue
                        kw = kw_quadrant[ox, oy]
                        k2 = k2_quadrant[ox, oy]
                        c0 = charges[0, vx, vy]
                        acc_w = acc_w + kw * c0
                        acc0 = acc0 + k2 * c0
                        acc1 = acc1 + k2 * charges[1, vx, vy]
                        if d == 2:
                            acc2 = acc2 + k2 * charges[2, vx, vy]
                        vy = vy + 1
                e = e + charges[0, gx, gy] * acc_w
                if with_w:
                    potentials[0, gx, gy] -= acc_w
                potentials[f0, gx, gy] -= acc0
                potentials[f0 + 1, gx, gy] -= acc1
                if d == 2:
                    potentials[f0 + 2, gx, gy] -= acc2
        box_energy[b] = e


def grid_to_points(const double[:, ::1] Y_sorted, const int[::1] order,
                   const int[::1] box_start, const double[::1] center, const double[::1] lo,
                   const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                   const floating[:, :, ::1] potentials, int radius, double dof,
                   double[:, ::1] out, double[::1] z_near, const double[:, ::1] kw_quadrant,
                   int n_jobs=1):
    """Forces on the points: far field interpolated from the grid, near field exact.

    Parameters
    ----------
    Y_sorted, order, box_start : from :func:`sort_into_boxes`
        The points sorted by box, and where each came from.
    center, lo, h : (2,) float64
    n_int : (2,) intp
    p : int
    potentials : (1 + d, >= n_int[0] * p, >= n_int[1] * p_y) float32 or float64
        Far-field ``sum_j w^(1+1/dof) * (1, y_j - c)`` on the nodes, as left by
        :func:`near_field_rim` (extra rows/columns ignored).
    radius : int
        Of the near field, in boxes (as given to :func:`near_field_rim`); -1 for none.
    dof : float
    out : (N, d) float64
        Overwritten with ``F_i`` (original point order).
    z_near : (N,) float64
        Overwritten (original point order) with ``sum_{j near i, j != i} w_ij``; with
        ``radius == -1``, with minus the grid's version of the self-pair ``w_ii``, which the
        unit charges' energy then includes: ``sum_uv W_iu kw(u - v) W_iv``.
    kw_quadrant : (>= p, >= p_y) float64
        ``w`` at the non-negative node offsets (:func:`kernel_quadrants`); used only with
        ``radius == -1``.
    n_jobs : int
    """
    cdef Geometry g = _geometry(Y_sorted.shape[1], center, lo, h, n_int, p)
    cdef Py_ssize_t n = Y_sorted.shape[0], pos, i, b, bx, by, gx, gy
    cdef int nt = max(n_jobs, 1), kx, ky
    cdef double wgt, phi0, phi1, phi2, zi
    cdef double *wx
    cdef double *wy
    cdef double *f
    cdef Workspace ws = workspace(p, nt * (4 * p + 2))
    # in box order: consecutive targets share their neighbourhood, which stays in cache
    for pos in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        wx = ws.scratch + threadid() * (4 * p + 2)
        wy = wx + p
        f = wy + p
        i = order[pos]
        b = _locate(&g, &Y_sorted[pos, 0], ws.den, wx, wy)
        bx = b // g.n[1]
        by = b % g.n[1]
        phi0 = phi1 = phi2 = 0.0
        for kx in range(p):
            gx = bx * p + kx
            for ky in range(g.py):
                gy = by * g.py + ky
                wgt = wx[kx] * wy[ky]
                phi0 = phi0 + wgt * potentials[0, gx, gy]
                phi1 = phi1 + wgt * potentials[1, gx, gy]
                if g.d == 2:
                    phi2 = phi2 + wgt * potentials[2, gx, gy]
        f[0] = (Y_sorted[pos, 0] - g.c[0]) * phi0 - phi1
        f[1] = (Y_sorted[pos, 1] - g.c[1]) * phi0 - phi2 if g.d == 2 else 0.0
        if radius < 0:
            zi = -_grid_self_energy(wx, wy, p, g.py, kw_quadrant, f + 2, f + 2 + p)
        else:
            zi = 0.0
            _exact_near(&g, &Y_sorted[pos, 0], pos, bx, by, radius, &Y_sorted[0, 0], &box_start[0],
                        dof, f, &zi)
        _write_point(&g, f, zi, &out[i, 0], &z_near[i])
    free_workspace(ws)


def reference_to_points(const double[:, ::1] Y, const double[::1] center, const double[::1] lo,
                        const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                        const floating[:, :, :, :, ::1] potentials, const double[:, ::1] Y_ref_sorted,
                        const int[::1] box_start, int radius, double dof, double[:, ::1] out,
                        double[::1] z_out, int n_jobs=1):
    """Repulsion of a fixed reference on new points, from precomputed grid potentials.

    Points inside the grid's box get the interpolated far field plus the exact near field;
    points outside it are summed exactly over the whole reference (their Lagrange weights
    would be extrapolations).

    Parameters
    ----------
    Y : (N, d) float64
        New points.
    center, lo, h, n_int, p : grid of the reference (see :func:`charges_to_grid`).
    potentials : (n_int[0], n_int[1], p, p_y, 2 + d) float32 or float64
        Far-field ``sum_j w`` and ``sum_j w^(1+1/dof) (1, y_j - c)`` on the nodes, every box
        corrected by :func:`near_field_rim`, box by box with the channels innermost: a new
        point's p * p_y nodes and their channels are then one contiguous block (new points
        come in any order, and the grid is far larger than the cache).
    Y_ref_sorted, box_start : from :func:`sort_into_boxes` on the reference
    radius : int
    dof : float
    out : (N, d) float64
        Overwritten with ``sum_{j in ref} w_ij^(1+1/dof) (y_i - y_j)``.
    z_out : (N,) float64
        Overwritten with ``sum_{j in ref} w_ij``.
    n_jobs : int
    """
    cdef Geometry g = _geometry(Y.shape[1], center, lo, h, n_int, p)
    cdef Py_ssize_t n = Y.shape[0], n_ref = Y_ref_sorted.shape[0], i, k, b, bx, by, gx, gy
    cdef int nt = max(n_jobs, 1), kx, ky
    cdef bint outside
    cdef double wgt, phiw, phi0, phi1, phi2, zi
    cdef double *wx
    cdef double *wy
    cdef double *f
    cdef Workspace ws = workspace(p, nt * (2 * p + 2))
    cdef int *everything = <int *>malloc(2 * sizeof(int))
    if everything == NULL:
        free_workspace(ws)
        free(everything)
        raise MemoryError()
    # a one-box partition of the reference: the exact sum over all of it
    everything[0] = 0
    everything[1] = <int>n_ref
    cdef Geometry whole = g
    whole.n[0] = 1
    whole.n[1] = 1
    for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        wx = ws.scratch + threadid() * (2 * p + 2)
        wy = wx + p
        f = wy + p
        outside = False
        for k in range(g.d):
            if not (g.lo[k] <= Y[i, k] <= g.lo[k] + g.n[k] * g.h[k]):
                outside = True
        f[0] = 0.0
        f[1] = 0.0
        zi = 0.0
        if outside:
            _exact_near(&whole, &Y[i, 0], -1, 0, 0, 0, &Y_ref_sorted[0, 0], everything, dof, f, &zi)
        else:
            b = _locate(&g, &Y[i, 0], ws.den, wx, wy)
            bx = b // g.n[1]
            by = b % g.n[1]
            phiw = phi0 = phi1 = phi2 = 0.0
            for kx in range(p):
                for ky in range(g.py):
                    wgt = wx[kx] * wy[ky]
                    phiw = phiw + wgt * potentials[bx, by, kx, ky, 0]
                    phi0 = phi0 + wgt * potentials[bx, by, kx, ky, 1]
                    phi1 = phi1 + wgt * potentials[bx, by, kx, ky, 2]
                    if g.d == 2:
                        phi2 = phi2 + wgt * potentials[bx, by, kx, ky, 3]
            zi = phiw
            f[0] = (Y[i, 0] - g.c[0]) * phi0 - phi1
            f[1] = (Y[i, 1] - g.c[1]) * phi0 - phi2 if g.d == 2 else 0.0
            _exact_near(&g, &Y[i, 0], -1, bx, by, radius, &Y_ref_sorted[0, 0], &box_start[0],
                        dof, f, &zi)
        _write_point(&g, f, zi, &out[i, 0], &z_out[i])
    free_workspace(ws)
    free(everything)
