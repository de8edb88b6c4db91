"""Array behaviour shared by :class:`~fasttsne.Embedding` and :class:`~fasttsne.partial.PartialEmbedding`.

An openTSNE embedding is an ndarray, and plotting code indexes it, does arithmetic on it and
calls its reductions. A fasttsne embedding carries state (affinities, optimiser state) and
its positions never change once made, so it is not an ndarray subclass: it reads like a
read-only one instead. Every operation works on the positions themselves (no copy) and
returns plain ndarrays; anything that would write to the positions is refused.
"""
import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

__all__ = ["PositionsArray"]


def _plain(value):
    """``value`` with every PositionsArray in it (also inside lists and tuples) replaced by its positions."""
    if isinstance(value, PositionsArray):
        return value._positions
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _refuse_write(name):
    raise ValueError(f"{name} positions are read-only; work on a copy (np.array(embedding)) or run "
                     f".optimize to get new positions.")


class PositionsArray(NDArrayOperatorsMixin):
    """Read-only ndarray behaviour of an object holding (N, d) float64 ``_positions``.

    ``np.asarray(obj)`` is the positions themselves (read-only); ``np.array(obj)`` and
    ``obj.copy()`` a writable copy. Indexing, slicing, arithmetic, comparisons, ufuncs
    (``np.sin(obj)``) and numpy functions (``np.mean(obj, axis=0)``) return plain ndarrays
    computed from the positions; the reductions and attributes plotting code reaches for
    (``mean``, ``min``, ``max``, ``std``, ``sum``, ``T``, ``ndim``, ``dtype``, ...) are here
    too. Item assignment, in-place arithmetic and ufuncs writing into the object raise
    ``ValueError``.
    """

    # an ndarray on the left of ``+`` defers to this class's operators (which call ufuncs)
    __array_priority__ = 20

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._positions, dtype=dtype, copy=True)
        return self._positions if dtype is None else self._positions.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out", ())
        if any(isinstance(o, PositionsArray) for o in out):
            _refuse_write(type(self).__name__)
        if out:
            kwargs["out"] = _plain(tuple(out))
        return getattr(ufunc, method)(*_plain(inputs), **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        out = kwargs.get("out")
        if isinstance(out, PositionsArray) or (isinstance(out, tuple) and any(
                isinstance(o, PositionsArray) for o in out)):
            _refuse_write(type(self).__name__)
        return func(*_plain(args), **{k: _plain(v) for k, v in kwargs.items()})

    # identity hashing, so embeddings can be dict keys although == is element-wise
    __hash__ = object.__hash__

    @property
    def positions(self):
        """(N, d) float64, read-only."""
        return self._positions

    # ---------------------------------------------------------------- ndarray attributes
    shape = property(lambda self: self._positions.shape, doc="(N, d)")
    ndim = property(lambda self: self._positions.ndim, doc="2")
    dtype = property(lambda self: self._positions.dtype, doc="float64")
    size = property(lambda self: self._positions.size, doc="N * d")
    nbytes = property(lambda self: self._positions.nbytes, doc="Bytes of the positions.")
    T = property(lambda self: self._positions.T, doc="The (d, N) transpose, a read-only view.")

    def __len__(self):
        return self._positions.shape[0]

    def __iter__(self):
        return iter(self._positions)

    def __getitem__(self, key):
        return self._positions[_plain(key)]

    def __setitem__(self, key, value):
        _refuse_write(type(self).__name__)

    def copy(self, order="C"):
        """A writable (N, d) float64 ndarray copy of the positions."""
        return self._positions.copy(order=order)

    def ptp(self, axis=None):
        return np.ptp(self._positions, axis=axis)


def _delegate(name):
    """A method calling ``ndarray.<name>`` on the positions (its result is a plain ndarray or scalar)."""
    def method(self, *args, **kwargs):
        return getattr(self._positions, name)(*args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``ndarray.{name}`` of the (read-only) positions."
    return method


for _name in ("tolist", "astype", "reshape", "mean", "std", "var", "sum", "min", "max", "argmin", "argmax"):
    setattr(PositionsArray, _name, _delegate(_name))
