"""The neighbour-backend protocol every backend implements."""
import contextvars
import functools
import numbers
import pickle

import numpy as np
import scipy.sparse as sp

from .._ext import _knn
from .._sparse import check_csr
from .._threads import check_n_jobs, effective_n_jobs
from .._validation import is_handed_over

__all__ = ["NeighborBackend", "canonical_metric", "seed_from", "sort_rows", "state_array", "check_ids", "owned"]

#: Other spellings of metric names, mapped to the name backends declare.
METRIC_ALIASES = {"l2": "euclidean", "l1": "manhattan", "cityblock": "manhattan", "taxicab": "manhattan"}


def canonical_metric(metric):
    """The backend-facing name of ``metric`` (aliases resolved); callables pass through."""
    if callable(metric):
        return metric
    if not isinstance(metric, str):
        raise TypeError(f"metric must be a string or a callable, got {metric!r}.")
    return METRIC_ALIASES.get(metric, metric)


def seed_from(random_state):
    """A 31-bit integer seed drawn from ``random_state`` (None: fresh entropy).

    Parameters
    ----------
    random_state : None, int, numpy Generator or RandomState
    """
    if random_state is None:
        return int(np.random.default_rng().integers(2 ** 31 - 1))
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        return int(random_state) % (2 ** 31 - 1)
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2 ** 31 - 1))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2 ** 31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}.")


#: The ``n_jobs`` of the query in progress in this thread (None: the backend's own).
_QUERY_N_JOBS = contextvars.ContextVar("fasttsne_query_n_jobs", default=None)


def _with_query_threads(query):
    """``query(X_new, k)`` that also takes ``n_jobs=``: the threads of that one call."""
    @functools.wraps(query)
    def wrapper(self, X_new, k, n_jobs=None):
        token = _QUERY_N_JOBS.set(check_n_jobs(n_jobs))
        try:
            return query(self, X_new, k)
        finally:
            _QUERY_N_JOBS.reset(token)
    wrapper.with_query_threads = True
    return wrapper


class NeighborBackend:
    """k-nearest-neighbour search over a reference set.

    Subclasses set the class attributes and implement :meth:`build` and :meth:`query`; their
    ``query(X_new, k)`` also takes ``n_jobs=`` (added by this class), and they read the thread
    count from :attr:`threads`.
    Backends pickle (``pickle.dumps(backend)``) without touching the file system, and
    :meth:`to_bytes` / :meth:`from_bytes` wrap that.

    Attributes
    ----------
    name : str
        Registry name.
    metrics : frozenset of str
        Metric names the backend supports (after :data:`METRIC_ALIASES`).
    supports_callable : bool
        Whether ``metric`` may be a callable.
    supports_sparse : bool
        Whether :meth:`build` / :meth:`query` accept scipy CSR input.

    Parameters
    ----------
    metric : str or callable
        Distance metric.
    metric_params : dict, optional
        Extra keyword arguments for the metric.
    n_jobs : None or int
        Threads (or processes) used for building and querying: kept (and saved) as given,
        resolved by :attr:`threads` at each call.
    random_state : None, int or numpy Generator
        Seed of any randomised index.
    """

    name = "base"
    metrics = frozenset()
    supports_callable = False
    supports_sparse = False

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None):
        metric = canonical_metric(metric)
        if callable(metric):
            if not self.supports_callable:
                raise ValueError(f"neighbour backend {self.name!r} does not take a callable metric; "
                                 "use neighbors='pynndescent' (numba-compiled callables).")
        elif metric not in self.metrics:
            raise ValueError(f"neighbour backend {self.name!r} does not support metric {metric!r}; "
                             f"it supports: {', '.join(sorted(self.metrics))}.")
        self.metric = metric
        self.metric_params = dict(metric_params or {})
        self.n_jobs = check_n_jobs(n_jobs)
        self.random_state = random_state
        self.n_samples_ = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        query = cls.__dict__.get("query")
        if query is not None and not getattr(query, "with_query_threads", False):
            cls.query = _with_query_threads(query)

    @property
    def threads(self):
        """Threads for the work in progress: the ``n_jobs`` given to the current :meth:`query`,
        else this backend's ``n_jobs``, resolved now (:func:`fasttsne._threads.effective_n_jobs`)."""
        override = _QUERY_N_JOBS.get()
        return effective_n_jobs(self.n_jobs if override is None else override)

    def build(self, X, k):
        """Index ``X`` and return the k nearest neighbours of each of its points.

        Parameters
        ----------
        X : (N, D) array (or CSR when ``supports_sparse``)
        k : int, 1 <= k < N

        Returns
        -------
        indices : (N, k) int64
            Neighbour indices, self excluded, sorted by increasing distance.
        distances : (N, k) float64
            The matching distances in the metric's units.
        """
        raise NotImplementedError

    def query(self, X_new, k, n_jobs=None):
        """Return the k nearest indexed points of each row of ``X_new``.

        ``n_jobs``: threads of this call (None: the backend's ``n_jobs``); subclasses
        implement ``query(X_new, k)`` and read :attr:`threads`.

        Returns
        -------
        indices : (M, k) int64, distances : (M, k) float64, sorted by increasing distance.
        """
        raise NotImplementedError

    @classmethod
    def check_saved_state(cls, state):
        """Check a saved state before :func:`fasttsne.load` restores it: a fitted index through
        :meth:`check_state`, an unfitted one (``n_samples_`` None: a backend instance the user
        passed as ``neighbors=``, kept by the affinity model as its setting) through
        :meth:`check_unfitted_state`.

        Raises
        ------
        ValueError
        """
        if state.get("n_samples_") is None:
            cls.check_unfitted_state(state)
        else:
            cls.check_state(state)

    @classmethod
    def _check_settings(cls, state):
        """The settings every saved backend has, fitted or not: a metric it supports, a dict of
        metric parameters, a valid ``n_jobs``."""
        metric = state.get("metric")
        if not isinstance(metric, str) or metric not in cls.metrics:
            raise ValueError(f"neighbour backend {cls.name!r} does not support metric {metric!r:.40}.")
        if not isinstance(state.get("metric_params") or {}, dict):
            raise ValueError("metric_params is not a dict.")
        check_n_jobs(state.get("n_jobs", 1))

    @classmethod
    def check_unfitted_state(cls, state):
        """Refuse a saved unfitted backend holding anything but its settings: its metric must be
        one it supports, and every other entry a plain setting (None, a number, a string, or the
        metric's parameters); no index, graph or data, which only :meth:`build` may make.

        Raises
        ------
        ValueError
        """
        cls._check_settings(state)
        for key, value in state.items():
            if key == "metric_params" or value is None or isinstance(value, (bool, int, float, str)):
                continue
            raise ValueError(f"the unfitted neighbour index holds {key!r:.40} of type "
                             f"{type(value).__name__}, not a setting.")

    @classmethod
    def check_state(cls, state):
        """Refuse a saved state (the attribute dict :func:`fasttsne.load` is about to restore)
        that this backend, or the compiled library behind it, could not use safely.

        Subclasses extend it with their own index structures; every array a compiled kernel
        indexes is checked for shape, dtype and range here, before any kernel sees it.

        Raises
        ------
        ValueError
        """
        cls._check_settings(state)
        for key in ("n_samples_", "n_features_"):
            v = state.get(key)
            if type(v) is not int or not 1 <= v < 2 ** 31:
                raise ValueError(f"the neighbour index's {key} is {v!r:.40}, not a positive integer.")
        seed = state.get("random_state")
        if seed is not None and type(seed) is not int:
            raise ValueError(f"the neighbour index's random_state is {seed!r:.40}, not an integer.")
        reference = state.get("_reference")
        if reference is not None:
            shape = (state["n_samples_"], state["n_features_"])
            if sp.issparse(reference):
                if not cls.supports_sparse and not state.get("supports_sparse"):
                    raise ValueError(f"neighbour backend {cls.name!r} does not take sparse data.")
                check_csr(reference, shape, "the indexed data")
            else:
                state_array(state, "_reference", shape, "f", "the indexed data")

    def to_bytes(self):
        """The fitted backend as bytes (a pickle; no temporary files)."""
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)

    @classmethod
    def from_bytes(cls, data):
        """Inverse of :meth:`to_bytes`. Only load bytes you trust: this unpickles."""
        backend = pickle.loads(data)
        if not isinstance(backend, cls):
            raise TypeError(f"the bytes hold a {type(backend).__name__}, not a {cls.__name__}.")
        return backend

    def _check_k(self, k, n):
        if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)):
            raise TypeError(f"k must be an integer, got {k!r}.")
        if not 1 <= k <= n:
            raise ValueError(f"cannot find {k} neighbours among {n} points.")

    def _check_input(self, X, what="X"):
        """Reject sparse input with a message naming a backend that takes it."""
        if sp.issparse(X) and not self.supports_sparse:
            raise TypeError(f"neighbour backend {self.name!r} does not take sparse input ({what} is a "
                            f"scipy sparse matrix); use neighbors='pynndescent', or pass "
                            f"{what}.toarray() if it fits in memory.")

    def _dense_input(self, X, what):
        """``X`` as a C-contiguous 2-D float32/float64 array (others become float64); sparse
        input refused unless the backend takes it (see :meth:`_check_input`)."""
        self._check_input(X, what)
        X = np.asarray(X)
        if X.ndim != 2:
            raise ValueError(f"{what} must be 2-D, got shape {X.shape}.")
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        return np.ascontiguousarray(X)

    def _check_fitted(self):
        if self.n_samples_ is None:
            raise RuntimeError(f"neighbour backend {self.name!r} has no index yet; call build(X, k) first.")

    def _check_query_width(self, X_new, n_features):
        if X_new.ndim != 2 or X_new.shape[1] != n_features:
            raise ValueError(f"X_new must have {n_features} columns like the indexed data, "
                             f"got shape {X_new.shape}.")


def owned(kept, given):
    """``kept`` (data an index keeps), copied unless it is memory of the index's own.

    An index that kept a view of the caller's array would change when the caller changes
    that array in place. An array the backend made itself (normalised, converted, fancy
    indexed) owns its memory and is kept as it is, and so is ``given`` itself when the code
    that made it handed it over (:func:`fasttsne._validation.handed_over`: a copy converted
    at the door); the caller's array or any view is copied.

    Parameters
    ----------
    kept : ndarray or scipy sparse matrix
    given : the input the caller passed to ``build``
    """
    def mine(a, theirs):
        return (a is not theirs and a.flags.owndata) or is_handed_over(a)

    if sp.issparse(kept):
        parts = ("data", "indices", "indptr")
        if all(mine(getattr(kept, p), getattr(given, p, None)) for p in parts):
            return kept
        copy = sp.csr_matrix(kept.shape, dtype=kept.dtype)
        # field by field: scipy's copy may narrow int64 indices, which the kernels are typed for
        copy.data, copy.indices, copy.indptr = (getattr(kept, p).copy() for p in parts)
        return copy
    return kept if mine(kept, given) else kept.copy()


def state_array(state, key, shape, kinds, what):
    """``state[key]`` if it is an array of ``shape`` (None: any length) whose dtype kind is
    in ``kinds``; raises ValueError naming ``what`` otherwise."""
    a = state.get(key)
    if (not isinstance(a, np.ndarray) or a.dtype.kind not in kinds or a.ndim != len(shape)
            or any(s is not None and s != t for s, t in zip(shape, a.shape))):
        got = f"shape {a.shape} {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
        raise ValueError(f"{what} ({key}) is {got}, expected shape {tuple(shape)}.")
    return a


def check_ids(a, n, what):
    """Raise ValueError unless every entry of the integer array ``a`` is in [0, n)."""
    if a.size and (a.min() < 0 or a.max() >= n):
        raise ValueError(f"{what} holds indices outside [0, {n}).")


def sort_rows(indices, distances):
    """Sort each row by distance, ties by index, so the order never depends on the search.

    Parameters
    ----------
    indices : (M, k) int64
    distances : (M, k) float64

    Returns
    -------
    indices, distances : (M, k), rows in increasing (distance, index) order.
    """
    indices = np.array(indices, dtype=np.int64, order="C")
    distances = np.array(distances, dtype=np.float64, order="C")
    _knn.sort_rows_inplace(indices, distances)
    return indices, distances
