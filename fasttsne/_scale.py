"""Data of any magnitude: a power-of-two factor that brings data into the range where
distances are computed without overflow or underflow.

The neighbour search ranks candidates in float32 and the perplexity calibration works on
squared distances in float64, so data whose entries are near 1e200 (squares overflow) or
1e-200 (squares underflow, and float32 rounds them to 0) would give infinite or all-zero
distances. t-SNE itself does not depend on the data's unit: the perplexity calibration
finds each point's bandwidth, and PCA positions are rescaled. Dividing the data by a power
of two changes no bit of its mantissas, so data far from 1 is divided by one before any
distance is computed, and new points later by the same factor.

The factor is ``2 ** exponent`` with ``exponent`` a multiple of :data:`EXPONENT_STEP`,
chosen so that the largest absolute entry ends up within ``[2 ** -LIMIT, 2 ** LIMIT)``
(``LIMIT = EXPONENT_STEP / 2``). Data already in that range keeps exponent 0 and is used
as it is, so the result is bitwise what it was without this step; and data multiplied by
``2 ** (EXPONENT_STEP * j)`` is brought back exactly to the data itself, so it gives
bitwise the same map.
"""
import math

import numpy as np
import scipy.sparse as sp

__all__ = ["scale_exponent", "rescaled", "check_exponent", "EXPONENT_STEP", "MAX_EXPONENT"]

#: Exponents are multiples of this. Half of it bounds the largest entry after scaling: at
#: ``2 ** 32`` the float32 squared norms of a million features (``2 ** 84``) stay far from
#: float32's overflow (``2 ** 128``), and at ``2 ** -32`` far from its smallest normal
#: number (``2 ** -126``); the range takes in the data of every-day units unchanged.
EXPONENT_STEP = 64
#: The largest exponent magnitude float64 data can need (its smallest subnormal is
#: ``2 ** -1074``, its largest value below ``2 ** 1024``), rounded up to a step.
MAX_EXPONENT = 1088


def _largest_magnitude(X):
    """max |X| of a dense array or sparse matrix (0 for no entries), without an |X| copy."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return 0.0
    return max(float(values.max()), -float(values.min()))


def scale_exponent(X):
    """The exponent e (a multiple of :data:`EXPONENT_STEP`) such that ``X / 2 ** e`` has its
    largest absolute entry within ``[2 ** -(EXPONENT_STEP / 2), 2 ** (EXPONENT_STEP / 2))``;
    0 for data already there, and for all-zero data.

    Parameters
    ----------
    X : (N, D) real ndarray or scipy sparse matrix, finite

    Returns
    -------
    int
    """
    m = _largest_magnitude(X)
    if m == 0.0:
        return 0
    # m = f * 2 ** binary with f in [0.5, 1): m lies in [2 ** (binary - 1), 2 ** binary)
    binary = math.frexp(m)[1]
    return EXPONENT_STEP * ((binary - 1 + EXPONENT_STEP // 2) // EXPONENT_STEP)


def rescaled(X, exponent):
    """``X / 2 ** exponent``, exact (a power of two); ``X`` itself when ``exponent`` is 0.

    Parameters
    ----------
    X : (N, D) float ndarray or scipy sparse matrix
    exponent : int

    Returns
    -------
    Same type and dtype as ``X``: a new array (or matrix with new values and shared index
    arrays) unless ``exponent`` is 0.
    """
    if exponent == 0:
        return X
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        out = sp.csr_matrix(X.shape, dtype=X.dtype)
        # field by field: index arrays are kept as they are (scipy's constructor may narrow them)
        out.data, out.indices, out.indptr = np.ldexp(X.data, -exponent), X.indices, X.indptr
        return out
    return np.ldexp(X, -exponent)


def check_exponent(exponent, what="the data's scale exponent"):
    """``exponent`` if it is one :func:`scale_exponent` can return, else a ValueError (for
    values read from a file)."""
    if type(exponent) is not int or exponent % EXPONENT_STEP or abs(exponent) > MAX_EXPONENT:
        raise ValueError(f"{what} is {exponent!r:.40}, not a multiple of {EXPONENT_STEP} within "
                         f"[-{MAX_EXPONENT}, {MAX_EXPONENT}].")
    return exponent
