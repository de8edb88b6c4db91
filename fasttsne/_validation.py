"""Input validation, done once at the door of every public entry point.

Every check raises ``TypeError`` (wrong kind of object) or ``ValueError`` (wrong values)
with a message that says what is wrong and how to fix it. Nothing here modifies the
caller's data: arrays are converted (copied) only when their dtype or layout must change.
"""
import numbers

import numpy as np
import scipy.sparse as sp

__all__ = ["check_data", "check_positions", "check_positive", "check_n_jobs", "check_random_state"]


def _describe_nonfinite(X):
    bad = ~np.isfinite(X)
    n_bad = int(bad.sum())
    first_row = int(np.argmax(bad.any(axis=1))) if X.ndim == 2 else int(np.argmax(bad))
    return n_bad, first_row


def check_data(X, *, name="X", accept_sparse=False, dtype=(np.float64, np.float32), min_samples=2):
    """Validate a data matrix and return it as a 2-D float array (or CSR matrix).

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
    ndarray or scipy.sparse.csr_matrix
        The input itself when it already qualifies (a C-contiguous array of an accepted
        dtype, or a CSR matrix), otherwise a converted, C-contiguous copy.
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
        return X
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
    if arr.dtype not in dtypes:
        arr = arr.astype(dtypes[0])
    # one layout from here on: the backends need contiguous rows anyway, and BLAS rounds
    # differently on Fortran-ordered operands, which made the embedding of a Fortran-ordered
    # array differ in the last bits from that of the same values in C order
    arr = np.ascontiguousarray(arr)
    if not np.all(np.isfinite(arr)):
        n_bad, row = _describe_nonfinite(arr)
        raise ValueError(f"{name} contains {n_bad} NaN or infinite value(s) (first in row {row}); "
                         "remove or impute them before running t-SNE.")
    return arr


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
    """Validate user-given positions: finite, shape (n_samples, n_components); return a float64 copy."""
    arr = np.array(Y, dtype=np.float64, copy=True)
    if arr.ndim != 2 or arr.shape != (n_samples, n_components):
        raise ValueError(f"{name} must have shape ({n_samples}, {n_components}) to match the data "
                         f"and n_components, got {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        n_bad, row = _describe_nonfinite(arr)
        raise ValueError(f"{name} contains {n_bad} NaN or infinite value(s) (first in row {row}).")
    return np.ascontiguousarray(arr)


def check_positive(value, name, *, allow_zero=False, integer=False):
    """Return ``value`` if it is a finite number > 0 (>= 0 with ``allow_zero``), else raise."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {'an integer' if integer else 'a number'}, got {value!r}.")
    if not np.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, got {value!r}.")
    return value


def check_n_jobs(n_jobs):
    """Resolve ``n_jobs`` (negative counts back from the number of cores, as in joblib)."""
    import os
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"n_jobs must be a non-zero integer (-1 for all cores), got {n_jobs!r}.")
    n_cores = os.cpu_count() or 1
    if n_jobs < 0:
        n_jobs = max(1, n_cores + 1 + n_jobs)
    return int(n_jobs)


def check_random_state(seed):
    """Turn None / an int / a Generator / a RandomState into a ``numpy.random.Generator``."""
    if seed is None or isinstance(seed, (numbers.Integral, np.integer)):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(2**31))
    raise ValueError(f"random_state must be None, an int or a numpy Generator, got {seed!r}.")


def check_n_iter(n_iter):
    """``n_iter`` unchanged, or a ValueError unless it is a non-negative integer."""
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}.")


def check_callbacks(callbacks):
    """A tuple of the callables given (one, several or None)."""
    if callbacks is None:
        return ()
    if callable(callbacks):
        return (callbacks,)
    callbacks = tuple(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables f(iteration, kl, positions), got {cb!r}.")
    return callbacks
