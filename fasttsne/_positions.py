"""Array behaviour shared by :class:`~fasttsne.Embedding` and :class:`~fasttsne.partial.PartialEmbedding`."""
import numpy as np

__all__ = ["PositionsArray"]


class PositionsArray:
    """Array behaviour of an object holding read-only (N, d) float64 ``_positions``.

    ``np.asarray(obj)`` is the positions themselves (read-only); ``np.array(obj)`` a
    writable copy.
    """

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._positions, dtype=dtype, copy=True)
        return self._positions if dtype is None else self._positions.astype(dtype)

    @property
    def positions(self):
        """(N, d) float64, read-only."""
        return self._positions

    @property
    def shape(self):
        return self._positions.shape

    def __len__(self):
        return self._positions.shape[0]
