"""Per-call choice of the 2-D FFT grid: the parameters' grid, or a coarse grid with the exact
near field once the map is sparse.

The parameters' grid (at the defaults 4 nodes on intervals at most 0.8 wide, spacing 0.2, no
near field) interpolates every pair, so its accuracy needs fine nodes, and its node count grows
with the map's area: late in a fit its FFTs are most of an iteration. The coarse grid
(:data:`COARSE_NODES` nodes on boxes :data:`COARSE_WIDTH` wide, about a third of the nodes) sums
the pairs in boxes at most :data:`COARSE_RADIUS` apart exactly, where the kernel is hardest to
interpolate, and interpolates only the smooth rest. Its exact part costs one check per pair of
points in neighbouring boxes, quadratic in the boxes' occupancy: cheap on a spread-out map,
ruinous on the compact clusters of early exaggeration (thousands of points in one box).

So every call prices both (:func:`choose`): the FFTs from their padded shape, the near field
from the points' box counts (a histogram and its summed-area table, O(N + boxes)). The coarse
grid is taken when it is cheaper and its near field holds at most
:data:`MAX_NEAR_PAIRS_PER_POINT` pairs per point: on denser maps its interpolated far field
(pairs 2-3 boxes apart, still many) is less accurate than the fine grid (docs/dev/performance.md,
"Sixth round"). The choice depends on the positions only, never on the thread count.
"""
import math

from .._ext import _fft

__all__ = ["COARSE_NODES", "COARSE_WIDTH", "COARSE_RADIUS", "MAX_NEAR_PAIRS_PER_POINT", "Choice",
           "fft_cost", "choose"]

#: Nodes per box and axis of the coarse grid.
COARSE_NODES = 3
#: Box width of the coarse grid (embedding units; the kernel's own scale).
COARSE_WIDTH = 1.0
#: Near-field radius of the coarse grid, in boxes per axis: pairs up to 2-3 units apart are
#: summed exactly (0 or 1 leave F/Z errors several times the fine grid's; docs/gradients.md).
COARSE_RADIUS = 2
#: Most near-field pairs per point (``pairs / N``, each point's own check included) at which the
#: coarse grid may be chosen: past it, its F/Z error on real layouts exceeds the fine grid's.
MAX_NEAR_PAIRS_PER_POINT = 40.0
#: Cost model, seconds on one thread: per unit of ``L log2 L`` (L: points of the padded FFT)
#: for a call's FFTs and spectrum products, per pair check of the exact near field, and per
#: occupied box for the near-field rim at :data:`COARSE_NODES` and :data:`COARSE_RADIUS`. Only
#: their ratios matter.
FFT_COST = 1.0e-9
PAIR_COST = 2.5e-9
RIM_COST = 1.0e-6


class Choice:
    """The grid a call uses and what the cost model said.

    Attributes
    ----------
    grid : fasttsne.gradients.fft._Grid
        The chosen grid (its ``radius`` is its near field; -1: none).
    coarse : bool
        Whether it is the coarse grid.
    candidates : dict
        ``{"fine": _Grid, "coarse": _Grid or None}``: both grids priced (None: no coarse candidate).
    costs : dict or None
        Modelled seconds of a call on one thread, ``{"fine": ..., "coarse": ...}``; None where
        the coarse grid was no candidate (1-D, ``coarse_grid=False``, a grid finer than the
        defaults' or one with its own near field) and the parameters' grid is used unpriced.
    pairs_per_point : float or None
        The coarse grid's near-field pair checks per point, where priced.
    """

    def __init__(self, grid, coarse, costs, pairs_per_point, candidates):
        self.grid, self.coarse, self.costs, self.pairs_per_point = grid, coarse, costs, pairs_per_point
        self.candidates = candidates


def fft_cost(fft_shape):
    """Modelled seconds of one call's FFTs on a grid whose circulant embedding is ``fft_shape``."""
    length = float(math.prod(fft_shape))
    return FFT_COST * length * math.log2(max(length, 2.0))


def choose(Y, fine, fine_shape, coarse, coarse_shape):
    """The cheaper of two grids for positions ``Y`` (N, 2).

    Parameters
    ----------
    Y : (N, 2) float64, C-contiguous
    fine : _Grid
        The parameters' grid, without a near field.
    fine_shape, coarse_shape : (L1, L2)
        Padded FFT shapes of the two grids.
    coarse : _Grid
        The coarse grid, its ``radius`` set to :data:`COARSE_RADIUS`.

    Returns
    -------
    Choice
    """
    pairs, occupied = _fft.near_field_work(Y, coarse.lo, coarse.h, coarse.n_int, coarse.radius)
    per_point = pairs / Y.shape[0]
    costs = {"fine": fft_cost(fine_shape),
             "coarse": fft_cost(coarse_shape) + PAIR_COST * pairs + RIM_COST * occupied}
    candidates = {"fine": fine, "coarse": coarse}
    if per_point <= MAX_NEAR_PAIRS_PER_POINT and costs["coarse"] < costs["fine"]:
        return Choice(coarse, True, costs, per_point, candidates)
    return Choice(fine, False, costs, per_point, candidates)
