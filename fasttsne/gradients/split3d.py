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
  the pairs closer than ``a``, which lie in the 27 boxes around a point's own
  (``ext/_near3d.pyx``).

The force kernel ``w^(1 + 1/dof) = -dw/du`` is split the same way (far part ``-T'`` inside),
so forces and ``Z`` come from one consistent kernel. Wider boxes mean fewer nodes (FFT cost
``~ nodes log nodes``) and more pairs inside the cutoff; ``fft3d.plan`` picks the box width
that minimises the estimated cost of the two, from the points' box counts. The finest box
width (``ints_in_interval``) is used unsplit: there the unsplit kernel is as accurate as the
2-D path at its defaults.
"""
import numpy as np

from .._ext import _near3d

__all__ = ["TAYLOR_DEGREE", "taylor_coefficients", "add_near_field", "add_near_reference"]

#: Degree in ``u = r^2`` of the far part's polynomial core (matching ``w``'s derivatives up to
#: this order at the cutoff). Chosen from the error table in docs/gradients.md.
TAYLOR_DEGREE = 4


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


def add_near_field(grid, cutoff, dof, ws, out, n_jobs):
    """Add the short-range forces of the split at ``cutoff`` to ``out`` (N, 3) and return their
    share of ``Z``.

    ``ws`` holds the points sorted by ``grid``'s boxes (at least ``cutoff`` wide) and a free
    (N,) array ``z_near``.
    """
    a2 = cutoff * cutoff
    _near3d.near_field(ws.Y_sorted, ws.order, ws.box_start, grid.n_int, float(dof), a2,
                       taylor_coefficients(float(dof), a2), out, ws.z_near, n_jobs)
    # per-point parts summed in a fixed order (any n_jobs)
    return ws.z_near.sum()


def add_near_reference(Y_new, grid, cutoff, dof, Y_ref_sorted, box_start, out, z_out, n_jobs):
    """Add the short-range repulsion of a reference (sorted by ``grid``'s boxes) to the new
    points inside ``grid``'s box."""
    a2 = cutoff * cutoff
    _near3d.near_reference(Y_new, grid.lo, grid.h, grid.n_int, Y_ref_sorted, box_start, float(dof),
                           a2, taylor_coefficients(float(dof), a2), out, z_out, n_jobs)
