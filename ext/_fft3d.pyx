# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Hot loops of the FFT-accelerated interpolation repulsion in 3-D (Linderman et al. 2019).

The embedding's bounding box is cut into ``n0 x n1 x n2`` equal intervals ("boxes"), each
holding ``p x p x p`` Lagrange nodes at box-local positions ``(k + 1/2) / p`` of the box width
(``_lagrange.pxd``): the nodes are equispaced over the whole box and each lies inside exactly
one box. Points sorted by box, boxes shared among threads, each box writing only its own
nodes in a fixed point order: the point -> grid step has no races and gives the same result
for any number of threads (as in 2-D, ``_fft.pyx``).

Grids are indexed ``grid[channel, gx, gy, gz]`` with ``g = b * p + k`` per axis; box ``b =
(bx * n1 + by) * n2 + bz``. Charges are ``1`` and ``y_k - c_k`` (``c`` the box centre), so the
forces ``F_i = (y_i - c) phi_0 - phi_k`` cancel small numbers, not large ones.

The kernels are even along every axis, so their DFTs are real and even too: only the octant
of non-negative frequencies ``(L0/2 + 1, L1/2 + 1, L2/2 + 1)`` is stored (a type-1 DCT of the
kernel's octant of offsets), a quarter of the half spectrum an ``rfftn`` would give.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid
from libc.math cimport isfinite, pow
from libc.stdlib cimport free, malloc

from _lagrange cimport (Workspace, box_of, free_workspace, lagrange_weights, pair_sums, read_axes,
                        sort_by_box, workspace)


cdef struct Grid3:
    # see fasttsne.gradients.fft3d._Grid3
    int p
    Py_ssize_t n[3]
    double lo[3]
    double h[3]
    double c[3]


cdef struct Box3:
    # a box's interval along each axis
    Py_ssize_t x
    Py_ssize_t y
    Py_ssize_t z


cdef struct Sums:
    # one interpolated value per channel of a grid (five at most)
    double v[5]


cdef Grid3 _grid(const double[::1] center, const double[::1] lo, const double[::1] h,
                 const Py_ssize_t[::1] n_int, int p) except *:
    cdef Grid3 g
    read_axes(3, center, lo, h, n_int, p, g.n, g.lo, g.h, g.c)
    g.p = p
    return g


cdef inline Py_ssize_t _locate(const Grid3 *g, const double *y, const double *den, double *w) noexcept nogil:
    """Box index of the point ``y`` (3,); its Lagrange weights along the three axes go to
    ``w[0:p]``, ``w[p:2p]`` and ``w[2p:3p]``."""
    cdef double s
    cdef Py_ssize_t b = 0, k
    for k in range(3):
        b = b * g.n[k] + box_of(y[k], g.lo[k], g.h[k], g.n[k], &s)
        lagrange_weights(s * g.p, g.p, den, w + k * g.p)
    return b


cdef inline Box3 _box_coords(const Grid3 *g, Py_ssize_t b) noexcept nogil:
    """The intervals of box ``b = (x n[1] + y) n[2] + z`` along each axis (returned by value,
    so a ``prange`` body assigning it keeps it private)."""
    cdef Box3 bc
    bc.x = b // (g.n[1] * g.n[2])
    bc.y = (b // g.n[2]) % g.n[1]
    bc.z = b % g.n[2]
    return bc


cdef inline Sums _interpolate(const floating *node0, Py_ssize_t sx, Py_ssize_t sy, Py_ssize_t sz,
                              Py_ssize_t sc, int nch, const double *w, int p) noexcept nogil:
    """The first ``nch`` channels of a grid interpolated at one point over its box's ``p^3``
    nodes, from the node at ``node0`` (``kx = ky = kz = 0``, channel 0).

    ``w`` holds the point's weights along the three axes (``_locate``); ``sx``, ``sy``,
    ``sz`` and ``sc`` are the grid's strides, in bytes, along the three node axes and the
    channels. Each channel sums its nodes in the order kx, ky, kz.
    """
    cdef Sums phi
    cdef int c, kx, ky, kz
    cdef double wxy, wgt
    cdef const char *node
    for c in range(5):
        phi.v[c] = 0.0
    for kx in range(p):
        for ky in range(p):
            wxy = w[kx] * w[p + ky]
            for kz in range(p):
                wgt = wxy * w[2 * p + kz]
                node = <const char *>node0 + kx * sx + ky * sy + kz * sz
                for c in range(nch):
                    phi.v[c] = phi.v[c] + wgt * (<const floating *>(node + c * sc))[0]
    return phi


cdef inline void _exact_sum(const double *y, const double *Ys, Py_ssize_t n, double dof,
                            double *f, double *z) noexcept nogil:
    """Add to ``f`` (3,) and ``z`` the exact repulsion of the ``n`` points ``Ys`` (n, 3) on ``y``."""
    cdef Py_ssize_t j
    cdef double dx, dy, dz, base, w, q, fx = 0.0, fy = 0.0, fz = 0.0, zs = 0.0
    cdef bint cauchy = dof == 1.0
    for j in range(n):
        dx = y[0] - Ys[3 * j]
        dy = y[1] - Ys[3 * j + 1]
        dz = y[2] - Ys[3 * j + 2]
        base = 1.0 + (dx * dx + dy * dy + dz * dz) / dof
        w = 1.0 / base if cauchy else pow(base, -dof)
        q = w / base
        zs += w
        fx += q * dx
        fy += q * dy
        fz += q * dz
    z[0] += zs
    f[0] += fx
    f[1] += fy
    f[2] += fz


def sort_into_boxes(const double[:, ::1] Y, const double[::1] lo, const double[::1] h,
                    const Py_ssize_t[::1] n_int, int[::1] box_of_point, int[::1] order,
                    int[::1] box_start, double[:, ::1] Y_sorted):
    """Counting sort of the points by box (stable: ascending index within a box).

    Parameters
    ----------
    Y : (N, 3) float64
    lo, h : (3,) float64
        Lower corner of the grid and interval widths (embedding units).
    n_int : (3,) intp
        Intervals per axis.
    box_of_point : (N,) int32, scratch
    order : (N,) int32
        Overwritten: point indices grouped by box.
    box_start : (n_int[0] * n_int[1] * n_int[2] + 1,) int32
        Overwritten: the points of box ``b`` are ``order[box_start[b]:box_start[b + 1]]``.
    Y_sorted : (N, 3) float64
        Overwritten with ``Y[order]``.
    """
    cdef Py_ssize_t n = Y.shape[0], nb = n_int[0] * n_int[1] * n_int[2], i, b, k
    cdef double s
    if Y.shape[1] != 3 or Y_sorted.shape[0] < n or Y_sorted.shape[1] != 3 or box_of_point.shape[0] < n \
            or order.shape[0] < n or box_start.shape[0] < nb + 1:
        raise ValueError("sort_into_boxes: arrays do not match the points and the grid.")
    cdef int *cursor = <int *>malloc(max(nb, 1) * sizeof(int))
    if cursor == NULL:
        raise MemoryError()
    # O(N) and memory-bound: serial (waking a second thread costs more than it saves on a
    # shared machine), as in 2-D
    with nogil:
        for i in range(n):
            b = 0
            for k in range(3):
                b = b * n_int[k] + box_of(Y[i, k], lo[k], h[k], n_int[k], &s)
            box_of_point[i] = <int>b
        sort_by_box(&box_of_point[0], n, nb, &box_start[0], &order[0], cursor)
        for i in range(n):
            for k in range(3):
                Y_sorted[i, k] = Y[order[i], k]
    free(cursor)


def charges_to_grid(const double[:, ::1] Y_sorted, const double[::1] center, const double[::1] lo,
                    const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                    const int[::1] box_start, floating[:, :, :, ::1] charges, int n_jobs=1):
    """Interpolate the charges ``1`` and ``y_k - c_k`` of every point onto the nodes.

    Parameters
    ----------
    Y_sorted, box_start : from :func:`sort_into_boxes`
    center, lo, h : (3,) float64
        Box centre, lower corner and interval widths.
    n_int : (3,) intp
    p : int
        Lagrange nodes per interval and axis.
    charges : (4, n_int[0] * p, n_int[1] * p, n_int[2] * p) float32 or float64
        Overwritten (every node is written, no prior zeroing needed).
    n_jobs : int
    """
    cdef Grid3 g = _grid(center, lo, h, n_int, p)
    cdef Py_ssize_t nb = g.n[0] * g.n[1] * g.n[2], b, idx, gx, gy, gz, c
    cdef int nt = max(n_jobs, 1), kx, ky, kz
    cdef double wxy, wgt, q1, q2, q3
    cdef double *w
    cdef Box3 bc
    if charges.shape[0] != 4 or charges.shape[1] != g.n[0] * p or charges.shape[2] != g.n[1] * p \
            or charges.shape[3] != g.n[2] * p or box_start.shape[0] < nb + 1:
        raise ValueError("charges_to_grid: charges must be (4, n_int[0] p, n_int[1] p, n_int[2] p).")
    cdef Workspace ws = workspace(p, nt * 3 * p)
    for b in prange(nb, nogil=True, num_threads=nt, schedule="guided"):
        w = ws.scratch + threadid() * 3 * p
        bc = _box_coords(&g, b)
        for c in range(4):
            for kx in range(p):
                for ky in range(p):
                    for kz in range(p):
                        charges[c, bc.x * p + kx, bc.y * p + ky, bc.z * p + kz] = 0.0
        for idx in range(box_start[b], box_start[b + 1]):
            _locate(&g, &Y_sorted[idx, 0], ws.den, w)
            q1 = Y_sorted[idx, 0] - g.c[0]
            q2 = Y_sorted[idx, 1] - g.c[1]
            q3 = Y_sorted[idx, 2] - g.c[2]
            for kx in range(p):
                gx = bc.x * p + kx
                for ky in range(p):
                    gy = bc.y * p + ky
                    wxy = w[kx] * w[p + ky]
                    for kz in range(p):
                        gz = bc.z * p + kz
                        wgt = wxy * w[2 * p + kz]
                        charges[0, gx, gy, gz] += wgt
                        charges[1, gx, gy, gz] += wgt * q1
                        charges[2, gx, gy, gz] += wgt * q2
                        charges[3, gx, gy, gz] += wgt * q3
    free_workspace(ws)


def convolve_spectrum(floating[:, :, ::1] spectrum, const floating[:, :, ::1] k2_hat,
                      const double[:, :, ::1] kw_hat, Py_ssize_t L2, double[::1] row_sums,
                      bint with_energy=True, int n_jobs=1):
    """Multiply one charge spectrum by the force kernel's (in place); with ``with_energy``,
    return the grid energy ``sum_{m,n} c_m w(m - n) c_n`` of those charges (Parseval).

    Parameters
    ----------
    spectrum : (L0, L1, 2 * (L2 // 2 + 1)) float32 or float64
        Half spectrum (``rfft`` along the last axis, full ``fft`` along the others) of the
        zero-padded charge grid, viewed as interleaved real and imaginary parts. Overwritten
        with its product with the force kernel's spectrum.
    k2_hat : (L0 // 2 + 1, L1 // 2 + 1, L2 // 2 + 1), the dtype of ``spectrum``
        Octant of the (real, even) DFT of the force kernel's circulant embedding.
    kw_hat : (L0 // 2 + 1, L1 // 2 + 1, L2 // 2 + 1) float64
        The same for ``w`` (float64, as in 2-D: most of it is tiny next to its largest value).
    L2 : int
        Full length of the last axis (to weigh the half spectrum's columns).
    row_sums : (L0,) float64, scratch
        Per-plane parts of the energy, summed serially so the result does not depend on n_jobs.
    with_energy : bool
    n_jobs : int

    Returns
    -------
    float
        The sum over all pairs of charges (self-pairs included) of ``w``; 0 without ``with_energy``.
    """
    cdef Py_ssize_t L0 = spectrum.shape[0], L1 = spectrum.shape[1], L2h = spectrum.shape[2] // 2
    cdef Py_ssize_t a, b, c, ka, kb
    cdef double s, re, im, weight, total = 0.0
    cdef floating k
    if k2_hat.shape[0] != L0 // 2 + 1 or k2_hat.shape[1] != L1 // 2 + 1 or k2_hat.shape[2] != L2h \
            or kw_hat.shape[0] != k2_hat.shape[0] or kw_hat.shape[1] != k2_hat.shape[1] \
            or kw_hat.shape[2] != L2h or L2h != L2 // 2 + 1 or row_sums.shape[0] < L0:
        raise ValueError("convolve_spectrum: kernel octants do not match the spectrum.")
    for a in prange(L0, nogil=True, num_threads=max(n_jobs, 1), schedule="guided"):
        # the spectra are even: frequency a and L0 - a share one value
        ka = a if 2 * a <= L0 else L0 - a
        s = 0.0
        for b in range(L1):
            kb = b if 2 * b <= L1 else L1 - b
            for c in range(L2h):
                if with_energy:
                    # columns 1 .. ceil(L2/2)-1 stand for themselves and their mirror image
                    weight = 1.0 if (c == 0 or 2 * c == L2) else 2.0
                    re = spectrum[a, b, 2 * c]
                    im = spectrum[a, b, 2 * c + 1]
                    s = s + weight * kw_hat[ka, kb, c] * (re * re + im * im)
                k = k2_hat[ka, kb, c]
                spectrum[a, b, 2 * c] = spectrum[a, b, 2 * c] * k
                spectrum[a, b, 2 * c + 1] = spectrum[a, b, 2 * c + 1] * k
        row_sums[a] = s
    for a in range(L0):
        total += row_sums[a]
    return total / (<double>L0 * <double>L1 * <double>L2)


def grid_to_points(const double[:, ::1] Y_sorted, const int[::1] order, const double[::1] center,
                   const double[::1] lo, const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                   const floating[:, :, :, ::1] potentials, double[:, ::1] out, double[::1] z_self,
                   const double[:, :, ::1] kw_octant, int n_jobs=1):
    """Forces on the points, interpolated from the node potentials, and each point's
    interaction with itself through the grid.

    Parameters
    ----------
    Y_sorted, order : from :func:`sort_into_boxes`
    center, lo, h : (3,) float64
    n_int : (3,) intp
    p : int
    potentials : (4, >= n_int[0] p, >= n_int[1] p, >= n_int[2] p) float32 or float64
        ``sum_j w^(1+1/dof) * (1, y_j - c)`` on the nodes.
    out : (N, 3) float64
        Overwritten with ``F_i`` (original point order).
    z_self : (N,) float64
        Overwritten (original point order) with minus the grid's version of the self-pair
        ``w_ii``, which the unit charges' energy includes: ``-sum_uv W_iu w(u - v) W_iv``.
    kw_octant : (>= p, >= p, >= p) float64
        ``w`` at the non-negative node offsets (``_near3d.far_kernel_octant``; cutoff 0 for the unsplit kernel).
    n_jobs : int
    """
    cdef Grid3 g = _grid(center, lo, h, n_int, p)
    cdef Py_ssize_t n = Y_sorted.shape[0], pos, i
    # the last axis is contiguous: a constant stride, known to the compiler once inlined
    cdef Py_ssize_t sc = potentials.strides[0], sx = potentials.strides[1]
    cdef Py_ssize_t sy = potentials.strides[2], sz = sizeof(floating)
    cdef int nt = max(n_jobs, 1), kx, ky, kz
    cdef double e, row
    cdef double *w
    cdef double *s
    cdef Box3 bc
    cdef Sums phi
    if Y_sorted.shape[1] != 3 or out.shape[0] < n or out.shape[1] != 3 or order.shape[0] < n \
            or z_self.shape[0] < n or potentials.shape[0] < 4 or potentials.shape[1] < g.n[0] * p \
            or potentials.shape[2] < g.n[1] * p or potentials.shape[3] < g.n[2] * p \
            or kw_octant.shape[0] < p or kw_octant.shape[1] < p or kw_octant.shape[2] < p:
        raise ValueError("grid_to_points: arrays do not match the points and the grid.")
    cdef Workspace ws = workspace(p, nt * 6 * p)
    # in box order: consecutive points share their nodes, which stay in cache
    for pos in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        w = ws.scratch + threadid() * 6 * p
        s = w + 3 * p
        i = order[pos]
        bc = _box_coords(&g, _locate(&g, &Y_sorted[pos, 0], ws.den, w))
        phi = _interpolate(&potentials[0, bc.x * p, bc.y * p, bc.z * p], sx, sy, sz, sc, 4, w, p)
        out[i, 0] = (Y_sorted[pos, 0] - g.c[0]) * phi.v[0] - phi.v[1]
        out[i, 1] = (Y_sorted[pos, 1] - g.c[1]) * phi.v[0] - phi.v[2]
        out[i, 2] = (Y_sorted[pos, 2] - g.c[2]) * phi.v[0] - phi.v[3]
        # the self-pair through the grid: the kernel depends only on the node offsets, so
        # the sum factorises into each axis's weight products per offset, O(p^3)
        pair_sums(w, p, s)
        pair_sums(w + p, p, s + p)
        pair_sums(w + 2 * p, p, s + 2 * p)
        e = 0.0
        for kx in range(p):
            for ky in range(p):
                row = 0.0
                for kz in range(p):
                    row = row + kw_octant[kx, ky, kz] * s[2 * p + kz]
                e = e + s[kx] * s[p + ky] * row
        z_self[i] = -e
    free_workspace(ws)


def reference_to_points(const double[:, ::1] Y, const double[::1] center, const double[::1] lo,
                        const double[::1] h, const Py_ssize_t[::1] n_int, int p,
                        const floating[:, :, :, :, :, :, ::1] potentials,
                        const double[:, ::1] Y_ref, double dof, double[:, ::1] out,
                        double[::1] z_out, int n_jobs=1):
    """Repulsion of a fixed reference on new points, from precomputed grid potentials.

    Points inside the grid's box get the interpolated potentials; points outside it are
    summed exactly over the whole reference (their Lagrange weights would be extrapolations).

    Parameters
    ----------
    Y : (N, 3) float64
        New points.
    center, lo, h, n_int, p : the reference's grid (see :func:`charges_to_grid`).
    potentials : (n_int[0], n_int[1], n_int[2], p, p, p, 5) float32 or float64
        ``sum_j w`` and ``sum_j w^(1+1/dof) (1, y_j - c)`` on the nodes, box by box with the
        channels innermost: a new point's p^3 nodes and their channels are one contiguous
        block (new points come in any order; the grid is far larger than the cache).
    Y_ref : (N_ref, 3) float64
        The reference (for the points outside the box).
    dof : float
    out : (N, 3) float64
        Overwritten with ``sum_{j in ref} w_ij^(1+1/dof) (y_i - y_j)``.
    z_out : (N,) float64
        Overwritten with ``sum_{j in ref} w_ij``.
    n_jobs : int
    """
    cdef Grid3 g = _grid(center, lo, h, n_int, p)
    cdef Py_ssize_t n = Y.shape[0], n_ref = Y_ref.shape[0], i, k
    cdef int nt = max(n_jobs, 1)
    cdef bint outside
    cdef double zi
    cdef double *w
    cdef double *f
    cdef Box3 bc
    cdef Sums phi
    if Y.shape[1] != 3 or Y_ref.shape[1] != 3 or out.shape[0] < n or out.shape[1] != 3 \
            or z_out.shape[0] < n or potentials.shape[0] != g.n[0] or potentials.shape[1] != g.n[1] \
            or potentials.shape[2] != g.n[2] or potentials.shape[3] != p or potentials.shape[4] != p \
            or potentials.shape[5] != p or potentials.shape[6] != 5:
        raise ValueError("reference_to_points: arrays do not match the points and the grid.")
    cdef Py_ssize_t sx = potentials.strides[3], sy = potentials.strides[4]
    cdef Py_ssize_t sz = potentials.strides[5]
    cdef Workspace ws = workspace(p, nt * (3 * p + 3))
    for i in prange(n, nogil=True, num_threads=nt, schedule="guided"):
        w = ws.scratch + threadid() * (3 * p + 3)
        f = w + 3 * p
        outside = False
        for k in range(3):
            if not (g.lo[k] <= Y[i, k] <= g.lo[k] + g.n[k] * g.h[k]):
                outside = True
        f[0] = 0.0
        f[1] = 0.0
        f[2] = 0.0
        zi = 0.0
        if outside:
            _exact_sum(&Y[i, 0], &Y_ref[0, 0], n_ref, dof, f, &zi)
        else:
            bc = _box_coords(&g, _locate(&g, &Y[i, 0], ws.den, w))
            # channels innermost and contiguous: their stride is a constant the compiler sees
            phi = _interpolate(&potentials[bc.x, bc.y, bc.z, 0, 0, 0, 0], sx, sy, sz, sizeof(floating),
                               5, w, p)
            zi = phi.v[0]
            f[0] = (Y[i, 0] - g.c[0]) * phi.v[1] - phi.v[2]
            f[1] = (Y[i, 1] - g.c[1]) * phi.v[1] - phi.v[3]
            f[2] = (Y[i, 2] - g.c[2]) * phi.v[1] - phi.v[4]
        out[i, 0] = f[0]
        out[i, 1] = f[1]
        out[i, 2] = f[2]
        z_out[i] = zi
    free_workspace(ws)
