"""FFT-accelerated interpolation of the repulsion in 3-D: grid geometry, kernels, caches.

The method is the 2-D one (``fft.py``; Linderman et al. 2019) on a 3-D grid of Lagrange
nodes: the charges ``1`` and ``y - c`` are spread onto the nodes, convolved with
``w^(1 + 1/dof)`` by real 3-D FFTs (one channel at a time, so one padded spectrum is alive at
once), and interpolated back; ``Z`` is the unit charges' energy under ``w`` (Parseval) minus
each point's interaction with itself through the grid. 4 forward and 4 inverse FFTs a call.

What differs from 2-D is the grid's size. The node count is cubed, and a 3-D t-SNE map is
about as wide per axis as a 2-D one (MNIST's 10k test digits: 165 x 147 x 121), so the 2-D
spacing (0.2 units) would need ~800^3 nodes. So a wide map's kernel is split
(``split3d``): its smooth far part goes on a coarse grid (``SPLIT_NODES_3D`` nodes per box,
boxes one cutoff wide), its short range is summed exactly over neighbouring boxes. Each call
:func:`plan` picks the box width (and with it the cutoff) that its cost model says is
cheapest: a compact map (early exaggeration) gets the unsplit kernel on boxes
``ints_in_interval`` wide, sized by the map; nodes per axis stay under ``MAX_NODES_3D``, and
where no grid under that cap keeps the short range affordable (a far outlier) the call goes
to Barnes-Hut. The kernels' spectra are real and even along every axis, so only their octant
of non-negative frequencies is stored (``ext/_fft3d.pyx``). See docs/gradients.md, "FFT
interpolation in 3-D", for the errors and timings.
"""
import math

import numpy as np
import scipy.fft

from .._ext import _fft3d, _near3d
from .boxes import BoxScratch
from .split3d import NearCells, add_near_reference, pair_checks, taylor_coefficients

__all__ = ["MAX_NODES_3D", "Grid3", "Kernels3", "Workspace3", "Reference3", "Plan", "plan",
           "axis_layout", "repulsion_3d"]

#: Most Lagrange nodes per axis of a 3-D grid (intervals: this // nodes per interval). The
#: padded FFT then has at most 2 * next_fast_len(MAX_NODES_3D) points per axis; its half
#: spectrum (complex64) is the call's largest array: 4 (2 M)^3 bytes, 67 MB at M = 128.
MAX_NODES_3D = 128
#: Most intervals ``min_num_intervals`` asks for per axis of an unsplit 3-D grid: a compact
#: map (early exaggeration) gets boxes ``ints_in_interval`` wide, as many as it spans, so the
#: grid is sized by the map (the node count is cubed: a floor of 12 boxes made a 500-point
#: map's grid 48^3 nodes).
MIN_INTERVALS_3D = 2
#: Nodes per box and axis of a split grid (:func:`plan`). The cutoff is one box, so this is
#: the cutoff over the node spacing, which sets the far part's interpolation error: 6 (with
#: ``split3d.TAYLOR_DEGREE`` = 4) is the smallest that is as accurate as the 2-D path's
#: defaults on real 3-D layouts (5 was not on maps 18-23 units wide, docs/gradients.md).
SPLIT_NODES_3D = 6
#: Narrowest split grid box (and so cutoff; embedding units): on real layouts narrower cutoffs
#: at SPLIT_NODES_3D nodes were less accurate than the 2-D defaults (docs/gradients.md).
MIN_SPLIT_WIDTH = 4.5
#: Box widths :func:`plan` tries: the finest width times powers of 2^(1/WIDTH_STEPS_PER_OCTAVE).
WIDTH_STEPS_PER_OCTAVE = 4
#: :func:`plan`'s cost model: seconds per unit of ``L log2 L`` (L: points of the padded FFT)
#: for a call's eight FFTs (with spreading and interpolation), and per pair checked by the
#: split's short-range sum. Only their
#: ratio matters (measured on one thread, docs/gradients.md).
FFT_COST = 2.6e-9
PAIR_COST = 4.6e-9
#: Most pair checks per point the short-range sum may need; where no grid under the node cap
#: stays below it (a far outlier stretching the box until the boxes hold most of the map), the
#: call is handed to Barnes-Hut instead of becoming quadratic.
MAX_PAIRS_PER_POINT = 4000
#: Points sampled (evenly spaced in index) to estimate a box width's pair checks.
COST_SAMPLE = 1000
#: Interval widths are ``ints_in_interval`` times a power of 2^(1/GRID_STEPS_PER_OCTAVE)
#: (rounded up: boxes at most 2.2% wider than needed), so consecutive iterations often share
#: a grid and its cached kernel spectra.
GRID_STEPS_PER_OCTAVE = 32
#: Smallest box side (embedding units); all-identical coordinates still get a grid.
MIN_SPAN = 1e-10


def axis_layout(lo, hi, p, min_num_intervals, ints_in_interval, max_intervals):
    """Intervals of one grid axis covering ``[lo, hi]``.

    At least ``max(min_num_intervals, ceil(extent / ints_in_interval))`` intervals, at most
    ``max_intervals``; widths on the ladder ``ints_in_interval * 2^(k / GRID_STEPS_PER_OCTAVE)``
    (constant once the box is large); as many extra intervals as the FFT length holds at no
    cost (the grid, and its cached kernels, then survives the box's growth for a while).

    Returns
    -------
    n_int : int
        Intervals.
    h : float
        Interval width (embedding units).
    center, lower : float
        The axis's centre and the grid's lower edge.
    """
    span = max(float(hi - lo), MIN_SPAN)
    needed = min(max(min_num_intervals, math.ceil(span / ints_in_interval)), max_intervals)
    step = math.ceil(math.log2(span / needed / ints_in_interval) * GRID_STEPS_PER_OCTAVE)
    h = ints_in_interval * 2.0 ** (step / GRID_STEPS_PER_OCTAVE)
    free = scipy.fft.next_fast_len(needed * p, real=True) // p
    n_int = max(needed, min(free, max_intervals))
    center = 0.5 * (float(lo) + float(hi))
    return n_int, h, center, center - 0.5 * n_int * h


class Grid3:
    """Geometry of a 3-D interpolation grid over a box.

    Attributes
    ----------
    p : int
        Nodes per interval and axis.
    center, lo, h : (3,) float64
        Box centre, lower corner, interval widths (embedding units).
    n_int : (3,) intp
        Intervals per axis.
    nodes : (3,) tuple of int
        Nodes per axis, ``n_int * p``.
    key : tuple
        Equal for two grids exactly when their kernels on the nodes are equal.
    """

    d = 3

    def __init__(self, lo, hi, p, min_num_intervals, ints_in_interval):
        self.p = p
        self.center, self.lo, self.h = np.empty(3), np.empty(3), np.empty(3)
        self.n_int = np.empty(3, dtype=np.intp)
        cap = max(MAX_NODES_3D // p, 1)
        for k in range(3):
            self.n_int[k], self.h[k], self.center[k], self.lo[k] = axis_layout(
                lo[k], hi[k], p, min(min_num_intervals, MIN_INTERVALS_3D, cap), ints_in_interval, cap)
        self.nodes = tuple(int(m) * p for m in self.n_int)
        self.key = (3, p, self.nodes, tuple(self.h))

    @classmethod
    def uniform(cls, lo, hi, p, width):
        """A grid of boxes ``width`` wide on every axis covering ``[lo, hi]`` (as many more
        boxes as each axis's FFT length holds at no cost), centred on the box."""
        grid = cls.__new__(cls)
        grid.p = p
        grid.center = 0.5 * (np.asarray(lo, dtype=np.float64) + np.asarray(hi, dtype=np.float64))
        grid.h = np.full(3, float(width))
        grid.n_int = np.empty(3, dtype=np.intp)
        for k in range(3):
            needed = max(1, math.ceil(max(float(hi[k] - lo[k]), MIN_SPAN) / width))
            grid.n_int[k] = max(needed, scipy.fft.next_fast_len(needed * p, real=True) // p)
        grid.lo = grid.center - 0.5 * grid.n_int * grid.h
        grid.nodes = tuple(int(m) * p for m in grid.n_int)
        grid.key = (3, p, grid.nodes, tuple(grid.h))
        return grid

    @property
    def n_boxes(self):
        return int(np.prod(self.n_int))

    @property
    def spacing(self):
        """Node spacing per axis (embedding units)."""
        return tuple(float(h) / self.p for h in self.h)

    @property
    def bounds(self):
        """(3, 2): lower and upper edge of the box per axis."""
        return np.stack([self.lo, self.lo + self.n_int * self.h], axis=1)

    @property
    def fft_shape(self):
        """Lengths of the circulant embedding: even fast lengths >= 2 * nodes per axis."""
        return tuple(2 * scipy.fft.next_fast_len(m, real=True) for m in self.nodes)


class Kernels3:
    """The kernels' spectra for one grid, dof and precision.

    Attributes
    ----------
    k2_hat : (L0/2 + 1, L1/2 + 1, L2/2 + 1), dtype ``dtype``
        Octant of the real, even DFT of ``w^(1+1/dof)``'s circulant embedding.
    kw_hat : the same shape, float64
        The same for ``w`` (only enters Z).
    kw_self : (p, p, p) float64
        ``w`` at the non-negative node offsets within a box (each point's self-pair).
    """

    def __init__(self, grid, dof, dtype, n_jobs, cutoff=0.0):
        self.key = (grid.key, dof, np.dtype(dtype), cutoff)
        octant = tuple(L // 2 + 1 for L in grid.fft_shape)
        kw, k2 = np.empty(octant), np.empty(octant)
        # the split kernel's far part (split3d): its polynomial core inside the cutoff; with
        # cutoff 0, the kernel itself
        a2 = cutoff * cutoff
        _near3d.far_kernel_octant(*grid.spacing, dof, a2, taylor_coefficients(dof, a2), kw, k2, n_jobs)
        self.kw_self = np.ascontiguousarray(kw[:grid.p, :grid.p, :grid.p])
        # the DFT of an even sequence of length L is the type-1 DCT of its first L/2 + 1
        # entries, and is itself even: the octant is the whole spectrum
        self.k2_hat = scipy.fft.dctn(k2, type=1, workers=n_jobs, overwrite_x=True).astype(dtype)
        del k2
        self.kw_hat = scipy.fft.dctn(kw, type=1, workers=n_jobs, overwrite_x=True)


class Plan:
    """The grid of one call and its kernel split.

    Attributes
    ----------
    grid : Grid3 or None
        None: no grid under the node cap keeps the short-range sum affordable (Barnes-Hut).
    cutoff : float
        Split radius (embedding units, one box width); 0 for the unsplit kernel.
    cost : float
        Estimated seconds of one call on one thread.
    """

    def __init__(self, grid, cutoff, cost):
        self.grid, self.cutoff, self.cost = grid, float(cutoff), cost


def _fft_cost(grid):
    length = float(np.prod(grid.fft_shape))
    return FFT_COST * length * math.log2(length)


def plan(Y, lo, hi, p, width, min_intervals):
    """The box width, and so the kernel split, that makes a call on ``Y`` cheapest.

    Candidates: the finest width ``width`` with ``p`` nodes and the unsplit kernel (where it
    fits under the node cap), then widths ``width * 2^(k / WIDTH_STEPS_PER_OCTAVE)`` from ``MIN_SPLIT_WIDTH`` on, with
    ``SPLIT_NODES_3D`` nodes and the kernel split at one box width (``split3d``), up to a
    single box per axis. The cost of each is :data:`FFT_COST` times its
    FFTs' ``L log2 L`` plus :data:`PAIR_COST` times the pair checks of the short-range sum,
    counted from a sample of the points' boxes.

    Parameters
    ----------
    Y : (N, 3) float64
        Positions (sampled to count the pairs in neighbouring boxes).
    lo, hi : (3,) float64
        The points' bounding box.
    p : int
        Nodes per box and axis.
    width : float
        Finest box width (embedding units), used with the unsplit kernel.
    min_intervals : int
        Fewest boxes per axis of the unsplit grid (capped at ``MIN_INTERVALS_3D``).

    Returns
    -------
    Plan
    """
    n = Y.shape[0]
    span = max(float(np.max(hi - lo)), MIN_SPAN)
    stride = max(1, n // COST_SAMPLE)
    best = Plan(None, 0.0, math.inf)
    if math.ceil(span / width) <= MAX_NODES_3D // p:
        grid = Grid3(lo, hi, p, min_intervals, width)
        best = Plan(grid, 0.0, _fft_cost(grid))
    cap = MAX_NODES_3D // SPLIT_NODES_3D
    # the first split width whose boxes fit under the cap, then wider ones until one box holds
    # all; the FFT cost falls and the pair checks grow with the width, so a width whose FFTs
    # alone cost more than the best is skipped unsampled, and once the pairs alone do, no
    # wider width can win
    step = math.ceil(WIDTH_STEPS_PER_OCTAVE * math.log2(max(span / cap, MIN_SPLIT_WIDTH) / width))
    while True:
        b = width * 2.0 ** (step / WIDTH_STEPS_PER_OCTAVE)
        step += 1
        grid = Grid3.uniform(lo, hi, SPLIT_NODES_3D, b)
        cost = _fft_cost(grid)
        if cost < best.cost:
            pairs = pair_checks(Y, grid, b, stride)
            if PAIR_COST * pairs >= best.cost:
                return best
            cost += PAIR_COST * pairs
            if pairs <= MAX_PAIRS_PER_POINT * n and cost < best.cost:
                best = Plan(grid, b, cost)
        if span <= b:
            return best


def _forward(charges, fft_shape, n_jobs):
    """Half spectrum (L0, L1, L2 // 2 + 1) of one charge grid (M0, M1, M2) zero-padded to
    ``fft_shape``, one axis at a time so all-zero rows and planes are never transformed."""
    L0, L1, L2 = fft_shape
    spectrum = scipy.fft.rfft(charges, n=L2, axis=2, workers=n_jobs)
    spectrum = scipy.fft.fft(spectrum, n=L1, axis=1, workers=n_jobs, overwrite_x=True)
    return scipy.fft.fft(spectrum, n=L0, axis=0, workers=n_jobs, overwrite_x=True)


def _inverse(spectrum, fft_shape, nodes, n_jobs):
    """Potentials (M0, M1, M2) on the nodes from a half spectrum (padding dropped per axis)."""
    L0, L1, L2 = fft_shape
    planes = scipy.fft.ifft(spectrum, axis=0, workers=n_jobs, overwrite_x=True)[:nodes[0]]
    rows = scipy.fft.ifft(planes, axis=1, workers=n_jobs)[:, :nodes[1]]
    del planes
    return scipy.fft.irfft(rows, n=L2, axis=2, workers=n_jobs)[:, :, :nodes[2]]


class Workspace3(BoxScratch):
    """Per-size scratch arrays, reused across calls while the sizes stay the same."""

    def __init__(self, n, grid, dtype):
        super().__init__(n, grid, dtype)
        self.z_self = np.empty(n)
        self.z_near = np.empty(n)
        self.row_sums = np.empty(grid.fft_shape[0])
        #: the points in the short-range search's cells (split grids only; made on first use)
        self.near = None


def spread_charges(Y, grid, ws, n_jobs):
    """Sort the points by box and fill ``ws.charges`` with their interpolated charges (1, y - c)."""
    _fft3d.sort_into_boxes(Y, grid.lo, grid.h, grid.n_int, ws.box_of_point, ws.order,
                           ws.box_start, ws.Y_sorted)
    _fft3d.charges_to_grid(ws.Y_sorted, grid.center, grid.lo, grid.h, grid.n_int, grid.p,
                           ws.box_start, ws.charges, n_jobs)


def repulsion_3d(grid, kern, ws, Y, out, n_jobs):
    """``F`` into ``out`` (N, 3) and ``Z`` returned, for positions ``Y`` (N, 3) on ``grid``.

    ``kern`` and ``ws`` must belong to ``grid`` (:class:`Kernels3`, :class:`Workspace3`).
    """
    if ws.potentials is None:
        ws.potentials = np.empty((4,) + grid.nodes, dtype=ws.charges.dtype)
    spread_charges(Y, grid, ws, n_jobs)
    energy = 0.0
    for c in range(4):
        spectrum = _forward(ws.charges[c], grid.fft_shape, n_jobs)
        # channel 0 holds the unit charges: its grid energy is the interpolated Z (self-pairs in)
        e = _fft3d.convolve_spectrum(spectrum.view(ws.charges.dtype), kern.k2_hat, kern.kw_hat,
                                     grid.fft_shape[2], ws.row_sums, c == 0, n_jobs)
        if c == 0:
            energy = e
        ws.potentials[c] = _inverse(spectrum, grid.fft_shape, grid.nodes, n_jobs)
        del spectrum
    _fft3d.grid_to_points(ws.Y_sorted, ws.order, grid.center, grid.lo, grid.h, grid.n_int, grid.p,
                          ws.potentials, out, ws.z_self, kern.kw_self, n_jobs)
    # the grid's self-pairs out; per-point parts summed in a fixed order (any n_jobs)
    return energy + ws.z_self.sum()


class Reference3:
    """Grid potentials of a fixed 3-D reference, for the repulsion it exerts on new points.

    Built once: the reference's charges convolved with both kernels (their far parts when the
    kernel is split); a call interpolates five potentials (``w`` and ``w^(1+1/dof)`` times 1
    and ``y - c``) at each new point, no FFT, and adds the short range from the reference
    points within the cutoff. A new point outside the grid's box is summed exactly
    over the reference. Used by :class:`fasttsne.gradients.fft.FFTReference`, which
    validates, pads the box and pickles.

    Parameters
    ----------
    Y_ref : (N_ref, 3) float64, C-contiguous, kept (not copied)
    dof : float > 0
    grid : Grid3
        Covering ``Y_ref`` (with whatever margin new points need).
    n_jobs : int, default 1
        Threads of the build (the result does not depend on it).
    cutoff : float, default 0
        Split radius (``split3d``; at most the box width); 0: the unsplit kernel.
    """

    def __init__(self, Y_ref, dof, grid, n_jobs=1, cutoff=0.0):
        self.Y_ref, self.dof, self.grid, self.cutoff = Y_ref, float(dof), grid, float(cutoff)
        # float32 grids and FFTs, as in the fit
        kern = Kernels3(grid, self.dof, np.float32, n_jobs, self.cutoff)
        ws = Workspace3(Y_ref.shape[0], grid, np.float32)
        spread_charges(Y_ref, grid, ws, n_jobs)
        channels = [(0, kern.kw_hat.astype(np.float32))] + [(c, kern.k2_hat) for c in range(4)]
        potentials = np.empty((len(channels),) + grid.nodes, dtype=np.float32)
        for out, (c, kernel) in enumerate(channels):
            spectrum = _forward(ws.charges[c], grid.fft_shape, n_jobs)
            _fft3d.convolve_spectrum(spectrum.view(np.float32), kernel, kern.kw_hat,
                                     grid.fft_shape[2], ws.row_sums, False, n_jobs)
            potentials[out] = _inverse(spectrum, grid.fft_shape, grid.nodes, n_jobs)
            del spectrum
        # the reference sorted into the short-range search's cells
        self._near = NearCells(Y_ref.shape[0], grid).sort(Y_ref, grid) if self.cutoff > 0.0 else None
        del ws, kern
        # box by box, channels innermost: the layout _fft3d.reference_to_points reads
        n0, n1, n2 = (int(m) for m in grid.n_int)
        p = grid.p
        by_box = potentials.reshape(len(channels), n0, p, n1, p, n2, p)
        self._potentials = np.ascontiguousarray(by_box.transpose(1, 3, 5, 2, 4, 6, 0))

    def __call__(self, Y_new, out, z_out, n_jobs=1):
        g = self.grid
        n_jobs = max(1, int(n_jobs))
        _fft3d.reference_to_points(Y_new, g.center, g.lo, g.h, g.n_int, g.p, self._potentials,
                                   self.Y_ref, self.dof, out, z_out, n_jobs)
        if self._near is not None:
            add_near_reference(Y_new, self._near, self.cutoff, self.dof, out, z_out, n_jobs)
