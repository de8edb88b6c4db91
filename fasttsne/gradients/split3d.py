"""The split kernel of the 3-D FFT repulsion: a smooth far part on a coarse grid, the short
range summed exactly (as in Ewald / particle-particle particle-mesh methods).

A 3-D t-SNE map is as wide per axis as a 2-D one, so interpolating the kernel ``w`` itself
(whose scale is 1 unit) at the 2-D spacing needs 10^8 - 10^9 nodes. Instead ``w(u)`` (``u``
the squared distance) is split at a cutoff ``a``:

- the **far part** is ``w`` beyond the cutoff and, inside it, the Taylor polynomial of ``w``
  about ``u = a^2`` (degree ``TAYLOR_DEGREE`` in ``u``: ``C^TAYLOR_DEGREE`` in space). Its
  scale is ``a``, not 1, so it is interpolated on a grid ``a / p`` apart (``p`` nodes per box,
  boxes ``a`` wide) with the error the unsplit kernel has at spacing ``1 / p``;
- the **short-range part** ``w - far`` is zero beyond the cutoff; it is summed exactly over
  the pairs closer than ``a``, found through cells ``a / NEAR_CELLS_PER_CUTOFF`` wide: a
  point reads only the cells its cutoff sphere reaches (``ext/_near3d.pyx``).

The force kernel ``w^(1 + 1/dof) = -dw/du`` is split the same way (far part ``-T'`` inside),
so forces and ``Z`` come from one consistent kernel. Wider boxes mean fewer nodes (FFT cost
``~ nodes log nodes``) and more pairs inside the cutoff; ``fft3d.plan`` picks the box width
that minimises the estimated cost of the two, from the points' box counts. The finest box
width (``ints_in_interval``) is used unsplit: there the unsplit kernel is as accurate as the
2-D path at its defaults.
"""
import numpy as np

from .._ext import _fft3d, _near3d

__all__ = ["TAYLOR_DEGREE", "NEAR_CELLS_PER_CUTOFF", "taylor_coefficients", "NearCells",
           "pair_checks", "add_near_field", "add_near_reference"]

#: Degree in ``u = r^2`` of the far part's polynomial core (matching ``w``'s derivatives up to
#: this order at the cutoff). Chosen from the error table in docs/gradients.md.
TAYLOR_DEGREE = 4
#: Cells of the short-range pair search per cutoff, per axis. A point reads the cells its
#: cutoff sphere reaches; finer cells hug the sphere closer (fewer wasted pair checks) but
#: cost more bookkeeping per point (docs/dev/gradients_log.md).
NEAR_CELLS_PER_CUTOFF = 3


def taylor_coefficients(dof, a2, degree=None):
    """Coefficients ``c_n`` of the Taylor polynomial of ``w(u) = (1 + u/dof)^(-dof)`` about
    ``u = a2``: ``T(u) = sum_n c_n (u - a2)^n``, ``n = 0 .. degree`` (default
    ``TAYLOR_DEGREE``).

    ``c_n = binom(-dof, n) dof^(-n) (1 + a2/dof)^(-dof - n)``.
    """
    degree = TAYLOR_DEGREE if degree is None else degree
    base = 1.0 + a2 / dof
    coef = np.empty(degree + 1)
    binom = 1.0
    for n in range(degree + 1):
        coef[n] = binom * dof ** -n * base ** (-dof - n)
        binom *= (-dof - n) / (n + 1)
    return coef


class NearCells:
    """Points sorted into the short-range search's cells: every box of a split grid (one
    cutoff wide) cut into ``NEAR_CELLS_PER_CUTOFF`` cells per axis.

    Parameters
    ----------
    n : int
        Number of points.
    grid : fasttsne.gradients.fft3d.Grid3
        The split grid (boxes one cutoff wide); only its box counts are read here.

    Attributes
    ----------
    lo, h : (3,) float64
        Cells' lower corner and widths (embedding units), set by :meth:`sort`.
    n_cells : (3,) intp
    order, start, Y_sorted : the sort (see ``_fft3d.sort_into_boxes``).
    """

    def __init__(self, n, grid):
        self.n_cells = np.asarray(grid.n_int, dtype=np.intp) * NEAR_CELLS_PER_CUTOFF
        self.lo = self.h = None
        self._cell_of_point = np.empty(n, dtype=np.int32)
        self.order = np.empty(n, dtype=np.int32)
        self.start = np.empty(int(np.prod(self.n_cells)) + 1, dtype=np.int32)
        self.Y_sorted = np.empty((n, 3))

    def sort(self, Y, grid):
        """Sort ``Y`` (N, 3) into the cells of ``grid``'s boxes."""
        self.lo, self.h = grid.lo, grid.h / NEAR_CELLS_PER_CUTOFF
        _fft3d.sort_into_boxes(Y, self.lo, self.h, self.n_cells, self._cell_of_point, self.order,
                               self.start, self.Y_sorted)
        return self


def pair_checks(Y, grid, cutoff, stride):
    """Pair checks of the short-range sum on ``grid`` (boxes one ``cutoff`` wide) for the
    points ``Y`` (N, 3), estimated from every ``stride``-th point."""
    return _near3d.pair_checks(Y, grid.lo, grid.h / NEAR_CELLS_PER_CUTOFF,
                               np.asarray(grid.n_int, dtype=np.intp) * NEAR_CELLS_PER_CUTOFF,
                               cutoff * cutoff, stride)


def add_near_field(cells, cutoff, dof, out, z_near, n_jobs):
    """Add the short-range forces of the split at ``cutoff`` to ``out`` (N, 3) and return their
    share of ``Z``.

    ``cells`` is a :class:`NearCells` holding the points sorted; ``z_near`` (N,) is scratch.
    """
    a2 = cutoff * cutoff
    _near3d.near_field(cells.Y_sorted, cells.order, cells.start, cells.lo, cells.h, cells.n_cells,
                       float(dof), a2, taylor_coefficients(float(dof), a2), out, z_near, n_jobs)
    # per-point parts summed in a fixed order (any n_jobs)
    return z_near.sum()


def add_near_reference(Y_new, cells, cutoff, dof, out, z_out, n_jobs):
    """Add the short-range repulsion of a reference (sorted into ``cells``, a
    :class:`NearCells`) to the new points inside the cells' box."""
    a2 = cutoff * cutoff
    _near3d.near_reference(Y_new, cells.lo, cells.h, cells.n_cells, cells.Y_sorted, cells.start,
                           float(dof), a2, taylor_coefficients(float(dof), a2), out, z_out, n_jobs)
