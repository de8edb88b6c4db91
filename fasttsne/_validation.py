"""Validation of data (and of positions), done once at the door of every public entry point.

Data checks raise ``TypeError`` (wrong kind of object) or ``ValueError`` (wrong values) with a
message that says what is wrong and how to fix it; parameter values are checked against the
table in :mod:`fasttsne._params` and raise its ``InvalidParameterError``. Nothing here modifies the
caller's data: arrays are converted (copied) only when their dtype or layout must change.
"""
import contextlib
import contextvars
import numbers

import numpy as np
import scipy.sparse as sp

from ._params import NON_NEGATIVE, NON_NEGATIVE_INT, POSITIVE, POSITIVE_INT, InvalidParameterError, Param, check

__all__ = ["check_data", "check_data_owned", "check_positions", "check_positive", "check_random_state",
           "handed_over", "is_handed_over"]


def _describe_nonfinite(X):
    bad = ~np.isfinite(X)
    n_bad = int(bad.sum())
    first_row = int(np.argmax(bad.any(axis=1))) if X.ndim == 2 else int(np.argmax(bad))
    return n_bad, first_row


def check_data(X, *, name="X", accept_sparse=False, dtype=(np.float64, np.float32), min_samples=2):
    """Validate a data matrix and return it as a 2-D float array (or CSR matrix).

    See :func:`check_data_owned`, which also says whether the result is a copy made here.
    """
    return check_data_owned(X, name=name, accept_sparse=accept_sparse, dtype=dtype, min_samples=min_samples)[0]


def check_data_owned(X, *, name="X", accept_sparse=False, dtype=(np.float64, np.float32), min_samples=2):
    """Validate a data matrix; return it as a 2-D float array (or CSR matrix) and whether that
    array is a private copy made here.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix, shape (n_samples, n_features)
    name : str
        Name used in error messages.
    accept_sparse : bool
        Whether a scipy sparse matrix is allowed (converted to CSR).
    dtype : dtype or tuple of dtypes
        Accepted float dtypes; other numeric dtypes are converted to the first one.
    min_samples : int
        Fewest rows accepted.

    Returns
    -------
    data : ndarray or scipy.sparse.csr_matrix
        The input itself when it already qualifies (a C-contiguous array of an accepted
        dtype, or a CSR matrix), otherwise a converted, C-contiguous copy.
    owned : bool
        True when ``data`` is a dense array this call allocated (a dtype or layout conversion,
        or an array built from a list): nobody else holds it, so whoever keeps it need not copy
        it again (see :func:`handed_over`). Sparse input is always reported False.
    """
    dtypes = dtype if isinstance(dtype, tuple) else (dtype,)
    if sp.issparse(X):
        if not accept_sparse:
            raise TypeError(
                f"{name} is a scipy sparse matrix, which this method does not accept; "
                f"pass a dense array (e.g. {name}.toarray()) or use a neighbour backend that "
                "takes sparse input (neighbors='pynndescent').")
        X = sp.csr_matrix(X)
        _check_dtype_kind(X.dtype, name)
        if X.dtype not in dtypes:
            X = X.astype(dtypes[0])
        values = X.data
        if not np.all(np.isfinite(values)):
            raise ValueError(f"{name} contains {int((~np.isfinite(values)).sum())} NaN or infinite "
                             "values; remove or impute them before running t-SNE.")
        _check_shape(X.shape, 2, name, min_samples)
        return X, False
    if hasattr(X, "__array__") or isinstance(X, (list, tuple)):
        try:
            arr = np.asarray(X)
        except Exception as e:  # ragged lists and the like
            raise ValueError(f"{name} could not be converted to a numeric array: {e}") from None
    else:
        raise TypeError(f"{name} must be an array-like of numbers, got {type(X).__name__}.")
    _check_dtype_kind(arr.dtype, name)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got an array with {arr.ndim} "
            f"dimension(s) and shape {arr.shape}"
            + ("; use X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for one sample."
               if arr.ndim == 1 else "."))
    _check_shape(arr.shape, 2, name, min_samples)
    # a list (or other sequence) became new memory in asarray; an ndarray or an __array__
    # object may have handed over memory that its owner still holds
    owned = isinstance(X, (list, tuple))
    if arr.dtype not in dtypes:
        arr, owned = arr.astype(dtypes[0]), True
    # one layout from here on: the backends need contiguous rows anyway, and BLAS rounds
    # differently on Fortran-ordered operands, which made the embedding of a Fortran-ordered
    # array differ in the last bits from that of the same values in C order
    contiguous = np.ascontiguousarray(arr)
    arr, owned = contiguous, owned or contiguous is not arr
    if not np.all(np.isfinite(arr)):
        n_bad, row = _describe_nonfinite(arr)
        raise ValueError(f"{name} contains {n_bad} NaN or infinite value(s) (first in row {row}); "
                         "remove or impute them before running t-SNE.")
    return arr, owned


#: The arrays the code running in this context has handed over (see :func:`handed_over`).
_HANDED_OVER = contextvars.ContextVar("fasttsne_handed_over", default=())


@contextlib.contextmanager
def handed_over(data, owned=True):
    """Within this block, ``data`` (when ``owned``) is a private copy whose only holder hands it
    over: an index may keep it as it is instead of copying it (see
    :func:`fasttsne.neighbors.base.owned`).

    A fitted map must never depend on memory the caller can still change, so an index copies
    what it keeps; but data converted at the door (say uint8 to float64) is already such a
    copy, and copying it again would hold N x D twice. The door that converts says so here, as
    does the command line for the array it read from a file (no caller can reach it).

    Parameters
    ----------
    data : ndarray
    owned : bool
        Whether ``data`` is private (the second result of :func:`check_data_owned`); False
        makes this block a no-op, so callers need not branch.
    """
    token = _HANDED_OVER.set(_HANDED_OVER.get() + (data,)) if owned else None
    try:
        yield
    finally:
        if token is not None:
            _HANDED_OVER.reset(token)


def is_handed_over(data):
    """Whether ``data`` itself (not a view of it) was handed over in this context."""
    return any(data is d for d in _HANDED_OVER.get())


def _check_dtype_kind(dt, name):
    if dt.kind in "biuf":
        return
    if dt.kind == "c":
        raise TypeError(f"{name} has complex dtype {dt}; t-SNE needs real numbers "
                        "(take the real part, the modulus, or split real and imaginary features).")
    raise TypeError(f"{name} has dtype {dt}, which is not numeric; convert it to floats first.")


def _check_shape(shape, ndim, name, min_samples):
    if shape[0] < min_samples:
        raise ValueError(f"{name} has {shape[0]} sample(s); t-SNE needs at least {min_samples}.")
    if shape[1] < 1:
        raise ValueError(f"{name} has {shape[1]} features; it needs at least one column.")


def check_positions(Y, n_samples, n_components, name="initialization"):
    """Validate user-given positions: finite, shape (n_samples, n_components); return a float64 copy.

    Raises
    ------
    InvalidParameterError
        The positions are a parameter (``initialization``).
    """
    try:
        arr = np.array(Y, dtype=np.float64, copy=True)
    except (ValueError, TypeError) as e:
        raise InvalidParameterError(f"{name} must be an array of numbers, got {type(Y).__name__} ({e}).") from None
    if arr.ndim != 2 or arr.shape != (n_samples, n_components):
        raise InvalidParameterError(f"{name} must have shape ({n_samples}, {n_components}) to match the data "
                                    f"and n_components, got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        n_bad, row = _describe_nonfinite(arr)
        raise InvalidParameterError(f"{name} contains {n_bad} NaN or infinite value(s) (first in row {row}).")
    return np.ascontiguousarray(arr)


def check_positive(value, name, *, allow_zero=False, integer=False):
    """Return ``value`` if it is a finite number > 0 (>= 0 with ``allow_zero``), else raise
    :class:`~fasttsne._params.InvalidParameterError` (for the constructors of the backends and
    affinity models, whose parameters are not in a front door's table)."""
    constraint = {(False, False): POSITIVE, (True, False): NON_NEGATIVE, (False, True): POSITIVE_INT,
                  (True, True): NON_NEGATIVE_INT}[bool(allow_zero), bool(integer)]
    check({name: Param(name, (constraint,), None, "")}, {name: value})
    return value


def check_random_state(seed):
    """Turn None / an int / a Generator / a RandomState into a ``numpy.random.Generator``."""
    if seed is None or isinstance(seed, (numbers.Integral, np.integer)):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(2**31))
    raise InvalidParameterError(f"random_state must be None, an int or a numpy Generator, got {seed!r}.")
