"""FFT-accelerated interpolation of the repulsion (FIt-SNE; Linderman et al., Nature Methods 2019).

The sums ``sum_j K(y_i, y_j) q_j`` for the two kernels ``w = (1 + r^2/dof)^(-dof)`` and
``w^(1 + 1/dof)`` are approximated by interpolating the charges ``q_j`` onto an equispaced
grid of Lagrange nodes (``n_interpolation_points`` per interval and axis), convolving the
grid with the kernel by FFT (the node-to-node kernel matrix is Toeplitz; its circulant
embedding is diagonalised by the DFT), and interpolating the resulting potentials back to
the points. With the charges ``1`` and ``y_j - c`` (``c`` the grid centre),

    F_i = sum_j w_ij^(1+1/dof) (y_i - y_j) = (y_i - c) phi_0(y_i) - phi_k(y_i),

and ``Z = sum_{i != j} w_ij`` is the unit charges' energy under ``w``, computed from their
spectrum (Parseval). One FFT per charge channel forward and back: 3 + 3 in 2-D (openTSNE:
4 + 4 and a kernel FFT).

The interpolation error is set by the node spacing relative to the kernel's scale (1 unit)
and by the interpolation order: the paper's 3 nodes on boxes 1 wide give F/Z errors of ~1-3%
on real embeddings, which t-SNE's KL notices. fasttsne's defaults are 4 nodes on boxes 0.8
wide (spacing 0.2), which cuts the error to ~0.05-0.2% on its own. Where the spacing is
wider (a grid capped at ``MAX_INTERVALS``, user parameters with spacing above
``NEAR_FIELD_MIN_SPACING``, or the coarse grid below), pairs of points in boxes at most
``near_field_radius`` intervals apart interact exactly instead of through the grid, the grid's
own version of those pairs being removed: mostly for free, by zeroing the kernel's core before
its FFT (see ``ext/_fft.pyx``). The exact near field is never used on fine grids: in compact
clusters (early exaggeration) thousands of points share a box and it would be quadratic
(measured on a 100k mixture: 0.8 s per call against 20 ms without it, at the same accuracy).

In 2-D each call chooses between that fine grid and a coarse one with the exact near field
(``plan2d``): the fine grid's node count grows with the map's area, so once the map has spread
out, 3 nodes on boxes 1 wide with the pairs up to two boxes apart summed exactly cost less at
equal or better accuracy. A cost model prices both from the FFT shapes and the points' box
counts; the choice depends on the positions only.

The hot loops are in ``ext/_fft.pyx``; this module owns the grid geometry and the caches.
See ``docs/gradients.md`` for accuracy and timings.
"""
import math
import numbers

import numpy as np
import scipy.fft

from .._ext import _fft
from .._params import GRID_PARAMS, TSNE_PARAMS
from .base import NegativeGradient, ReferenceRepulsion, reference_positions
from .bh import BarnesHut
from .boxes import BoxScratch
from .fft3d import Kernels3, Reference3, Workspace3, axis_layout, plan, repulsion_3d
from .plan2d import COARSE_NODES, COARSE_RADIUS, COARSE_WIDTH, Choice, choose
from .split3d import NearCells, add_near_field

__all__ = ["FFTInterpolation", "FFTReference", "MAX_INTERVALS", "NEAR_FIELD_RADIUS", "REFERENCE_PADDING"]

#: Most intervals per axis, by embedding dimension. A far outlier stretches the box; past
#: this the intervals widen beyond ``ints_in_interval`` (less accurate) instead of the grid
#: growing without bound (2-D at p = 3: 6000 x 6000 FFTs, 1.1 GB peak, ~3 s per call).
MAX_INTERVALS = {1: 100_000, 2: 1000}
#: Empty margin added on each side of a reference's box, as a fraction of half its extent
#: per axis (openTSNE's ``padding``), so new points placed a little outside the reference
#: are still interpolated (those outside the margin are summed exactly). The default of
#: ``Embedding.prepare_interpolation_grid``.
REFERENCE_PADDING = GRID_PARAMS["padding"].default
#: Pairs of points in boxes at most this many intervals apart (per axis) interact exactly,
#: not through the grid, where interpolating the kernel is least accurate: on real
#: embeddings 0 / 1 / 2 give F/Z errors of ~2.5% / 1.4% / 0.35% on the paper's grid (3 nodes
#: on boxes 1 wide; 3% with no correction); see docs/gradients.md. Used only on coarse grids
#: (``NEAR_FIELD_MIN_SPACING``).
NEAR_FIELD_RADIUS = 2
#: Grids whose node spacing (box width / nodes per box, embedding units) is at most this get
#: no exact near field: interpolation is then accurate on its own, and crowded boxes (compact
#: clusters under early exaggeration: 9,000 points in one box on a 100k mixture) would make
#: the exact part quadratic. The defaults' spacing is 0.2; the paper's (p = 3, width 1) 0.33.
NEAR_FIELD_MIN_SPACING = 0.25
#: The coarse grid is a candidate only when the parameters' grid is no finer than the defaults'
#: (at most this many nodes per interval, nodes at least ``ints_in_interval / p`` =
#: ``FINEST_CHOICE_SPACING`` apart): the coarse grid was measured as accurate as the defaults'
#: grid, not as finer ones (docs/dev/performance.md, "Sixth round").
MAX_CHOICE_NODES = TSNE_PARAMS["n_interpolation_points"].default
FINEST_CHOICE_SPACING = TSNE_PARAMS["ints_in_interval"].default / MAX_CHOICE_NODES
#: Largest n_interpolation_points accepted (equispaced Lagrange interpolation of higher
#: order oscillates: Runge's phenomenon).
MAX_INTERPOLATION_POINTS = 16


def _check_int(value, name, low, high=None):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low \
            or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}.")
    return int(value)


def _check_params(n_interpolation_points, min_num_intervals, ints_in_interval, near_field_radius):
    """Validated grid parameters, as a dict of the constructor's keywords."""
    p = _check_int(n_interpolation_points, "n_interpolation_points", 1, MAX_INTERPOLATION_POINTS)
    m = _check_int(min_num_intervals, "min_num_intervals", 1)
    if isinstance(ints_in_interval, bool) or not isinstance(ints_in_interval, numbers.Real) \
            or not (0 < ints_in_interval < math.inf):
        raise ValueError(f"ints_in_interval must be a positive number (embedding units per "
                         f"interval), got {ints_in_interval!r}.")
    r = _check_int(near_field_radius, "near_field_radius", 0)
    return dict(n_interpolation_points=p, min_num_intervals=m, ints_in_interval=float(ints_in_interval),
                near_field_radius=r)


class _Grid:
    """Geometry of the interpolation grid over a box (always two axes; the second is a
    dummy of one interval and one node in 1-D).

    Attributes
    ----------
    d : int
        Embedding dimension.
    p : int
        Nodes per interval on the real axes.
    center, lo, h : (2,) float64
        Box centre, lower corner, interval widths (embedding units).
    n_int : (2,) intp
        Intervals per axis.
    nodes : (2,) int
        Nodes per axis, ``n_int * p`` (``1`` on the dummy axis).
    key : tuple
        Equal for two grids exactly when their kernels on the nodes are equal.
    radius : int
        Near-field radius in boxes: ``near_field_radius``, or -1 (no near field) when the
        nodes are at most ``NEAR_FIELD_MIN_SPACING`` apart and interpolation alone is
        accurate. The coarse grid of ``plan2d`` sets its own.
    """

    def __init__(self, lo, hi, d, p, min_num_intervals, ints_in_interval, near_field_radius):
        self.d, self.p = d, p
        self.center = np.zeros(2)
        self.lo = np.full(2, -0.5)
        self.h = np.ones(2)
        self.n_int = np.ones(2, dtype=np.intp)
        for k in range(d):
            self.n_int[k], self.h[k], self.center[k], self.lo[k] = axis_layout(
                lo[k], hi[k], p, min_num_intervals, ints_in_interval, MAX_INTERVALS[d])
        self.nodes = (int(self.n_int[0]) * p, int(self.n_int[1]) * (p if d == 2 else 1))
        self.key = (d, p, self.nodes, tuple(self.h))
        self.radius = near_field_radius if self.h[:d].max() / p > NEAR_FIELD_MIN_SPACING else -1

    @property
    def n_boxes(self):
        return int(self.n_int[0] * self.n_int[1])

    @property
    def spacing(self):
        """Node spacing per axis (embedding units)."""
        return self.h[0] / self.p, (self.h[1] / self.p if self.d == 2 else 1.0)

    @property
    def bounds(self):
        """(d, 2): lower and upper edge of the box per axis."""
        upper = self.lo + self.n_int * self.h
        return np.stack([self.lo, upper], axis=1)[:self.d]


class _Kernels:
    """Everything about the kernels that depends only on the grid, dof, precision and
    near-field radius.

    Attributes
    ----------
    fft_shape : (L1, L2)
        Lengths of the circulant embedding: even fast FFT lengths >= 2 * nodes (1 on the
        dummy axis of 1-D).
    kw_quadrant, k2_quadrant : ((R + 1) p, (R + 1) p) float64 (second axis 1 in 1-D)
        ``w`` and ``w^(1+1/dof)`` at the non-negative node offsets that the near field and
        the self-energy read (R = max(radius, 0)).
    k2_hat : (L1, L2 // 2 + 1), dtype ``dtype``
        Real half spectrum of ``w^(1+1/dof)`` with its near-field core zeroed.
    kw_hat : (L1, L2 // 2 + 1) float64
        The same for ``w`` (only enters Z; float64: see ``_fft.convolve_spectra``).
    """

    def __init__(self, grid, dof, dtype, radius, n_jobs):
        self.key = (grid.key, dof, np.dtype(dtype), radius)
        self.radius = radius
        self.fft_shape = _fft_shape(grid.nodes)
        quadrant = tuple(L // 2 + 1 for L in self.fft_shape)
        self.kw_quadrant = np.empty(quadrant)
        self.k2_quadrant = np.empty(quadrant)
        _fft.kernel_quadrants(*grid.spacing, dof, self.kw_quadrant, self.k2_quadrant, n_jobs)
        # offsets within radius * p nodes on every axis lie in every node's near-field
        # window: leave them out of the FFT instead of subtracting them afterwards
        far = [self.k2_quadrant, self.kw_quadrant]
        if radius >= 0:
            core = (slice(0, radius * grid.p + 1), slice(0, (radius * grid.p if grid.d == 2 else 0) + 1))
            far = [q.copy() for q in far]
            for q in far:
                q[core] = 0.0
        self.k2_hat = _even_spectrum(far[0], self.fft_shape, dtype, n_jobs)
        self.kw_hat = _even_spectrum(far[1], self.fft_shape, np.float64, n_jobs)
        del far
        # only offsets within a box and its near field are read from here on: keep that
        # corner, not two float64 arrays the size of the spectra
        corner = (max(radius, 0) + 1) * grid.p
        keep = (slice(0, corner), slice(0, corner if grid.d == 2 else 1))
        self.kw_quadrant = np.ascontiguousarray(self.kw_quadrant[keep])
        self.k2_quadrant = np.ascontiguousarray(self.k2_quadrant[keep])


def _fft_shape(nodes):
    """Lengths (L1, L2) of the circulant embedding of a grid with ``nodes`` per axis."""
    return tuple(2 * scipy.fft.next_fast_len(m, real=True) if m > 1 else 1 for m in nodes)


def _even_spectrum(quadrant, fft_shape, dtype, n_jobs):
    """Half spectrum (L1, L2 // 2 + 1) of the even array of shape ``fft_shape`` whose
    quadrant of non-negative offsets is ``quadrant`` (L1 // 2 + 1, L2 // 2 + 1).

    The DFT of an even sequence of even length L is the type-1 DCT of its first L/2 + 1
    entries (real), 4x less work than the FFT of the full array.
    """
    axes = [k for k in range(2) if fft_shape[k] > 1]
    half = scipy.fft.dctn(quadrant, type=1, axes=axes, workers=n_jobs) if axes else quadrant
    # rows past L1/2 are the mirror images of rows 1 .. L1/2 - 1
    full = np.concatenate([half, half[fft_shape[0] // 2 - 1:0:-1]]) if fft_shape[0] > 1 else half
    return np.ascontiguousarray(full, dtype=dtype)


def _forward(charges, fft_shape, n_jobs):
    """Half spectra (C, L1, L2 // 2 + 1) of the charge grids zero-padded to ``fft_shape``.

    Padding per axis (``n=``) skips the transforms of the all-zero rows.
    """
    L1, L2 = fft_shape
    spectra = scipy.fft.rfft(charges, n=L2, axis=2, workers=n_jobs)
    return scipy.fft.fft(spectra, n=L1, axis=1, workers=n_jobs, overwrite_x=True)


def _inverse(spectra, fft_shape, nodes, n_jobs):
    """Potentials (C, nodes[0], L2) on the nodes (columns past nodes[1] are padding)."""
    L1, L2 = fft_shape
    rows = scipy.fft.ifft(spectra, axis=1, workers=n_jobs, overwrite_x=True)[:, :nodes[0]]
    return scipy.fft.irfft(rows, n=L2, axis=2, workers=n_jobs)


class _Workspace(BoxScratch):
    """Per-size scratch arrays, reused across calls while the sizes stay the same."""

    def __init__(self, n, grid, dtype):
        super().__init__(n, grid, dtype)
        self.box_energy = np.empty(grid.n_boxes)
        self.z_near = np.empty(n)


def _charges(Y, grid, ws, n_jobs):
    """Sort the points by box and fill ``ws.charges`` with their interpolated charges (1, y - c)."""
    _fft.sort_into_boxes(Y, grid.lo, grid.h, grid.n_int, ws.box_of_point, ws.order,
                         ws.box_start, ws.Y_sorted)
    _fft.charges_to_grid(ws.Y_sorted, grid.center, grid.lo, grid.h, grid.n_int, grid.p,
                         ws.box_start, ws.charges, n_jobs)


class FFTInterpolation(NegativeGradient):
    """Interpolation-based repulsion with FFT convolutions, 1-D to 3-D.

    3-D maps wider than a few units split the kernel into a smooth far part on a coarse grid
    and an exact short range (``fasttsne.gradients.split3d``); the grid and cutoff are chosen
    per call by a cost model (``fft3d.plan``), and a map no grid under ``fft3d.MAX_NODES_3D``
    nodes per axis serves affordably gets Barnes-Hut (default theta). ``near_field_radius``
    is for 1-D and 2-D only; in 3-D ``n_interpolation_points`` and ``ints_in_interval`` set
    the unsplit grid of compact maps.

    Points are sorted by interval box (a serial O(N) counting sort), then every step is
    parallel: boxes are shared among threads for the point -> grid interpolation (each
    node belongs to one box, so no races and results independent of ``n_jobs``), the near
    field's rim is parallel over boxes, the grid -> point interpolation and exact near
    field over points, and the FFTs run on ``n_jobs`` workers. Kernel spectra are cached
    for as long as the grid stays the same; scratch arrays for as long as the sizes do.

    Parameters
    ----------
    n_interpolation_points : int in [1, 16], default 4
        Lagrange nodes per interval and axis.
    min_num_intervals : int >= 1, default 50
        Fewest intervals per axis.
    ints_in_interval : float > 0, default 0.8
        Largest interval width (embedding units) while the box needs more than
        ``min_num_intervals`` intervals: at least ``max(min_num_intervals, ceil(extent /
        ints_in_interval))`` intervals per axis (as many more as the FFT length holds at
        no cost), at most ``MAX_INTERVALS[d]``.
    near_field_radius : int >= 0, default 2
        1-D and 2-D only. Points in boxes at most this many intervals apart (per axis) interact exactly; 0
        still removes each point's interaction with itself exactly. Larger is more accurate
        and slower (see ``NEAR_FIELD_RADIUS``). Applies only to grids whose nodes are more
        than ``NEAR_FIELD_MIN_SPACING`` apart (at the defaults, a grid capped at
        ``MAX_INTERVALS``); the coarse grid has its own (``plan2d.COARSE_RADIUS``).
    coarse_grid : bool, default True
        2-D only. Let each call use the coarse grid with the exact near field
        (``plan2d``: 3 nodes on boxes 1 wide, pairs up to two boxes apart summed exactly)
        where its cost model says it is cheaper, as it is once the map has spread out. Only
        when the parameters' grid is no finer than the defaults' (at most
        ``MAX_CHOICE_NODES`` nodes per interval, ``ints_in_interval /
        n_interpolation_points >= FINEST_CHOICE_SPACING``) and has no near field of its
        own: a finer grid asked for is used for every call, as is any grid with
        ``coarse_grid=False``. :meth:`choice` says what a call would use. Transform's
        reference grid is always the parameters' grid.

    Attributes
    ----------
    fft_dtype : numpy dtype, default float32
        Precision of the grids and FFTs (per-point sums are float64). float32 halves the
        FFT time and moves F/Z by ~1e-6 relative on a real layout (docs/gradients.md).
    """

    name = "fft"
    max_components = 3
    reference_grid = True
    fft_dtype = np.float32

    def __init__(self, n_interpolation_points=4, min_num_intervals=50, ints_in_interval=0.8,
                 near_field_radius=NEAR_FIELD_RADIUS, coarse_grid=True):
        params = _check_params(n_interpolation_points, min_num_intervals, ints_in_interval,
                               near_field_radius)
        if not isinstance(coarse_grid, (bool, np.bool_)):
            raise ValueError(f"coarse_grid must be True or False, got {coarse_grid!r}.")
        self.__dict__.update(params)
        self.coarse_grid = bool(coarse_grid)
        self._kernels = None
        self._ws = None
        self._row_sums = np.empty(0)
        self._wide = None

    def _grid_params(self):
        return dict(n_interpolation_points=self.n_interpolation_points,
                    min_num_intervals=self.min_num_intervals, ints_in_interval=self.ints_in_interval,
                    near_field_radius=self.near_field_radius)

    def _params(self):
        return dict(self._grid_params(), coarse_grid=self.coarse_grid)

    def grid(self, Y):
        """The grid a call on positions ``Y`` (N, d) uses (for inspection and tests); in 3-D,
        None where the call goes to Barnes-Hut (see :meth:`plan`)."""
        if np.shape(Y)[-1:] == (3,):
            return self.plan(Y).grid
        return self.choice(Y).grid

    def choice(self, Y):
        """The grid a 1-D or 2-D call on positions ``Y`` (N, d) uses, and what the cost model
        said (``plan2d.Choice``; its costs are None where the coarse grid is no candidate)."""
        Y, lo, hi = self._extent(Y)
        d, p, width = Y.shape[1], self.n_interpolation_points, self.ints_in_interval
        fine = _Grid(lo, hi, d, p, self.min_num_intervals, width, self.near_field_radius)
        if d != 2 or not self.coarse_grid or fine.radius >= 0 or p > MAX_CHOICE_NODES \
                or width / p < FINEST_CHOICE_SPACING:
            return Choice(fine, False, None, None, {"fine": fine, "coarse": None})
        coarse = _Grid(lo, hi, d, COARSE_NODES, self.min_num_intervals, COARSE_WIDTH, COARSE_RADIUS)
        # its own near field whatever its spacing (min_num_intervals may narrow its boxes)
        coarse.radius = COARSE_RADIUS
        return choose(Y, fine, _fft_shape(fine.nodes), coarse, _fft_shape(coarse.nodes))

    def plan(self, Y):
        """The 3-D grid and kernel split a call on positions ``Y`` (N, 3) uses (``fft3d.plan``)."""
        Y, lo, hi = self._extent(Y)
        return plan(Y, lo, hi, self.n_interpolation_points, self.ints_in_interval, self.min_num_intervals)

    @staticmethod
    def _extent(Y):
        Y = np.ascontiguousarray(Y, dtype=np.float64)
        lo, hi = np.empty(Y.shape[1]), np.empty(Y.shape[1])
        # one pass in C: numpy's axis-0 min and max took 3-6 ms per iteration at 100k points
        if not _fft.extent(Y, lo, hi):
            raise ValueError("positions contain NaN or infinite values; the optimisation diverged "
                             "(try a smaller learning_rate).")
        return Y, lo, hi

    def kernels(self, grid, dof, n_jobs=1, cutoff=0.0):
        """Kernel spectra for ``grid`` and ``dof`` (in 3-D, the far part of the kernel split at
        ``cutoff``), from the cache when the grid is unchanged."""
        if grid.d == 3:
            key = (grid.key, float(dof), np.dtype(self.fft_dtype), cutoff)
            if self._kernels is None or self._kernels.key != key:
                self._kernels = None  # freed before its successor is built, not after
                self._kernels = Kernels3(grid, float(dof), self.fft_dtype, n_jobs, cutoff)
            return self._kernels
        R = grid.radius
        key = (grid.key, float(dof), np.dtype(self.fft_dtype), R)
        if self._kernels is None or self._kernels.key != key:
            self._kernels = None  # freed before its successor is built, not after
            self._kernels = _Kernels(grid, float(dof), self.fft_dtype, R, n_jobs)
        return self._kernels

    def __call__(self, Y, dof, out, n_jobs=1):
        n, d = Y.shape
        self.check_components(d)
        n_jobs = max(1, int(n_jobs))
        if d == 3:
            return self._call_3d(self.plan(Y), Y, dof, out, n_jobs)
        grid = self.grid(Y)
        kern = self.kernels(grid, dof, n_jobs)
        if self._ws is None or self._ws.key != (n, grid.key[:3], np.dtype(self.fft_dtype)):
            self._ws = None
            self._ws = _Workspace(n, grid, self.fft_dtype)
        ws, R = self._ws, kern.radius
        if self._row_sums.shape[0] != kern.fft_shape[0]:
            self._row_sums = np.empty(kern.fft_shape[0])
        if ws.potentials is None:
            ws.potentials = np.empty((1 + d,) + grid.nodes, dtype=self.fft_dtype)
        _charges(Y, grid, ws, n_jobs)
        # one channel at a time: only one channel's padded spectrum (the largest array of the
        # call) is alive at once, not all 1 + d of them and their copies
        for c in range(ws.charges.shape[0]):
            spectrum = _forward(ws.charges[c:c + 1], kern.fft_shape, n_jobs)
            # channel 0 holds the unit charges: its grid energy is the interpolated Z
            e = _fft.convolve_spectra(spectrum.view(ws.charges.dtype), kern.k2_hat, kern.kw_hat,
                                      kern.fft_shape[1], self._row_sums, c == 0, n_jobs)
            if c == 0:
                energy = e
            ws.potentials[c] = _inverse(spectrum, kern.fft_shape, grid.nodes, n_jobs)[0, :, :grid.nodes[1]]
            del spectrum
        potentials = ws.potentials
        grid_near = 0.0
        if R >= 0:
            _fft.near_field_rim(ws.charges, kern.kw_quadrant, kern.k2_quadrant, grid.n_int, grid.p, R,
                                ws.box_start, False, potentials, False, ws.box_energy, n_jobs)
            grid_near = ws.box_energy.sum()
        # z_near: the exact near field (without self-pairs), or with R = -1 minus each point's
        # self-pair as the grid sees it
        _fft.grid_to_points(ws.Y_sorted, ws.order, ws.box_start, grid.center, grid.lo, grid.h,
                            grid.n_int, grid.p, potentials, R, float(dof), out, ws.z_near,
                            kern.kw_quadrant, n_jobs)
        # the grid's near field (self-pairs included) out, the exact one in
        return energy - grid_near + ws.z_near.sum()

    def reference(self, Y_ref, dof, n_jobs=1, padding=REFERENCE_PADDING):
        """Grid potentials of ``Y_ref`` built once (on ``n_jobs`` threads), for new points, on
        a grid padded by ``padding``; see :class:`FFTReference`."""
        return FFTReference(Y_ref, dof, **self._grid_params(), n_jobs=n_jobs, padding=padding)

    def _call_3d(self, plan, Y, dof, out, n_jobs):
        """The 3-D repulsion: the far part on ``plan``'s grid plus the exact short range, or
        Barnes-Hut's where the plan has no grid (see ``fft3d.plan``)."""
        grid = plan.grid
        if grid is None:
            # the grid's caches are dead weight while the map stays this stretched
            self._kernels = self._ws = None
            if self._wide is None:
                self._wide = BarnesHut()
            return self._wide(Y, dof, out, n_jobs)
        kern = self.kernels(grid, dof, n_jobs, plan.cutoff)
        if self._ws is None or self._ws.key != (Y.shape[0], grid.key[:3], np.dtype(self.fft_dtype)):
            self._ws = None
            self._ws = Workspace3(Y.shape[0], grid, self.fft_dtype)
        ws = self._ws
        Z = repulsion_3d(grid, kern, ws, Y, out, n_jobs)
        if plan.cutoff > 0.0:
            if ws.near is None:
                ws.near = NearCells(Y.shape[0], grid)
            Z += add_near_field(ws.near.sort(Y, grid), plan.cutoff, dof, out, ws.z_near, n_jobs)
        return Z

    def __getstate__(self):
        # caches and scratch are rebuilt on first use
        return self._params()

    def __setstate__(self, state):
        self.__init__(**state)

    def __repr__(self):
        return "FFTInterpolation(" + ", ".join(f"{k}={v!r}" for k, v in self._params().items()) + ")"


class FFTReference(ReferenceRepulsion):
    """Repulsion of a fixed reference on new points, from grid potentials computed once.

    The grid covers the reference's box widened on each side by ``padding`` times half its
    extent, per axis (openTSNE's meaning of ``padding``). A call only interpolates the
    far-field potentials at the new points and adds the exact near field (no FFT); a new
    point outside the widened box is summed exactly over the reference (O(N_ref) for that
    point), so every point gets a correct answer (openTSNE instead keeps new points inside
    its grid). Pickles as the copy of the reference and the parameters, and rebuilds the
    grid on load.

    Parameters
    ----------
    Y_ref : (N_ref, d) array, d in {1, 2, 3}, copied
    dof : float > 0
    n_interpolation_points, min_num_intervals, ints_in_interval, near_field_radius :
        see :class:`FFTInterpolation`
    n_jobs : int, default 1
        Threads of the grid build (the result does not depend on it).
    padding : float >= 0, default ``REFERENCE_PADDING``
        Margin of the grid around the reference, in half-extents of the reference per axis.

    Attributes
    ----------
    box : (d, 2) float64
        Lower and upper edge per axis of the padded box the grid is built for; the grid may
        reach a little further (whole intervals).
    bounds : (d, 2) float64 or None
        Lower and upper edge per axis of the box inside which new points are interpolated;
        None for a 3-D reference with no affordable grid (``fft3d.plan``), whose repulsion is
        Barnes-Hut's, as in the fit.
    """

    def __init__(self, Y_ref, dof, n_interpolation_points=4, min_num_intervals=50, ints_in_interval=0.8,
                 near_field_radius=NEAR_FIELD_RADIUS, n_jobs=1, padding=REFERENCE_PADDING):
        self.Y_ref = reference_positions(Y_ref, FFTInterpolation.max_components)
        self.n_components = self.Y_ref.shape[1]
        if isinstance(dof, bool) or not isinstance(dof, numbers.Real) or not 0 < dof < math.inf:
            raise ValueError(f"dof must be a positive number, got {dof!r}.")
        self.dof = float(dof)
        self._params = _check_params(n_interpolation_points, min_num_intervals, ints_in_interval,
                                     near_field_radius)
        if isinstance(padding, bool) or not isinstance(padding, numbers.Real) or not 0 <= padding < math.inf:
            raise ValueError(f"padding must be a non-negative number, got {padding!r}.")
        self.padding = float(padding)
        self._build(max(1, int(n_jobs)))

    def _build(self, n_jobs):
        Y, p = self.Y_ref, self._params
        lo, hi = Y.min(axis=0), Y.max(axis=0)
        pad = (self.padding / 2) * (hi - lo)
        self.box = np.stack([lo - pad, hi + pad], axis=1)
        if Y.shape[1] == 3:
            chosen = plan(Y, lo - pad, hi + pad, p["n_interpolation_points"], p["ints_in_interval"],
                          p["min_num_intervals"])
            if chosen.grid is not None:
                self._in_3d = Reference3(Y, self.dof, chosen.grid, n_jobs, chosen.cutoff)
                self.bounds = chosen.grid.bounds
            else:
                # no affordable grid: Barnes-Hut's reference, as in the fit
                self._in_3d = BarnesHut().reference(Y, self.dof, n_jobs)
                self.bounds = None
            return
        self._grid = grid = _Grid(lo - pad, hi + pad, Y.shape[1], p["n_interpolation_points"],
                                  p["min_num_intervals"], p["ints_in_interval"], p["near_field_radius"])
        self._radius = R = grid.radius
        # float32 grids and FFTs, as in the fit: the padded box of a 60k MNIST map is 2000 x
        # 2000 nodes, whose float64 build took 2.3 s; float32 moves F/z by ~1e-6, far under
        # the interpolation's error
        kern = _Kernels(grid, self.dof, np.float32, R, n_jobs)
        self._ws = ws = _Workspace(Y.shape[0], grid, np.float32)
        _charges(Y, grid, ws, n_jobs)
        # channels: w * 1 (for z), then w^(1+1/dof) * (1, y - c) (for the forces), one at a
        # time: the padded spectra of a large reference are tens of MB each
        channels = [(0, kern.kw_hat)] + [(c, kern.k2_hat) for c in range(ws.charges.shape[0])]
        self._potentials = np.empty((len(channels),) + grid.nodes, dtype=np.float32)
        for out, (c, kernel) in enumerate(channels):
            spectrum = _forward(ws.charges[c:c + 1], kern.fft_shape, n_jobs)
            spectrum *= kernel
            self._potentials[out] = _inverse(spectrum, kern.fft_shape, grid.nodes, n_jobs)[0, :, :grid.nodes[1]]
            del spectrum
        if R >= 0:
            # new points may land in any box: correct them all
            _fft.near_field_rim(ws.charges, kern.kw_quadrant, kern.k2_quadrant, grid.n_int, grid.p, R,
                                ws.box_start, True, self._potentials, True, ws.box_energy, n_jobs)
        # box by box, channels innermost: the layout _fft.reference_to_points reads
        n1, n2 = (int(m) for m in grid.n_int)
        by_box = self._potentials.reshape(len(channels), n1, grid.p, n2, grid.nodes[1] // n2)
        self._potentials = np.ascontiguousarray(by_box.transpose(1, 3, 2, 4, 0))
        del by_box
        self.bounds = grid.bounds

    def __call__(self, Y_new, out, z_out, n_jobs=1):
        self._check_call(Y_new, out, z_out)
        if self.n_components == 3:
            return self._in_3d(Y_new, out, z_out, n_jobs)
        g = self._grid
        _fft.reference_to_points(Y_new, g.center, g.lo, g.h, g.n_int, g.p, self._potentials,
                                 self._ws.Y_sorted, self._ws.box_start, self._radius,
                                 self.dof, out, z_out, max(1, int(n_jobs)))

    def __getstate__(self):
        return {"Y_ref": self.Y_ref, "dof": self.dof, "padding": self.padding, **self._params}

    def __setstate__(self, state):
        self.__init__(**state)
