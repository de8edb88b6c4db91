"""Scratch shared by the 2-D and 3-D FFT interpolation: points sorted by box and node charges."""
import numpy as np

__all__ = ["BoxScratch"]


class BoxScratch:
    """Per-size arrays for sorting ``n`` points by box and spreading their charges.

    Parameters
    ----------
    n : int
        Number of points.
    grid : fasttsne.gradients.fft._Grid or fasttsne.gradients.fft3d.Grid3
        Supplies ``key``, ``d``, ``n_boxes`` and ``nodes`` (the node counts per axis).
    dtype : numpy dtype
        Precision of the charges (float32 or float64).

    Notes
    -----
    ``key`` is what the owner compares to decide whether the arrays can be reused.
    ``potentials`` is made by the first call that needs it (a reference keeps its own).
    """

    def __init__(self, n, grid, dtype):
        self.key = (n, grid.key[:3], np.dtype(dtype))
        self.box_of_point = np.empty(n, dtype=np.int32)
        self.order = np.empty(n, dtype=np.int32)
        self.box_start = np.empty(grid.n_boxes + 1, dtype=np.int32)
        self.Y_sorted = np.empty((n, grid.d))
        self.charges = np.empty((1 + grid.d,) + tuple(grid.nodes), dtype=dtype)
        self.potentials = None
