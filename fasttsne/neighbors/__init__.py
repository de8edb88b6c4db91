"""Neighbour backends, registered by name.

``get_backend("exact", metric=..., n_jobs=...)`` builds a backend; ``register(name, cls)``
adds one. Third-party packages declare theirs under the entry-point group
``fasttsne.neighbors`` (``my-backend = my_package:MyBackend``); an entry point is loaded
the first time its name is asked for, so ``TSNE(neighbors="my-backend")`` works after
``pip install`` of the plugin.
"""
import copy
import inspect

from .. import registry
from .._params import InvalidParameterError
from .annoy import Annoy
from .base import NeighborBackend, canonical_metric
from .exact import BLAS_METRICS, SPARSE_METRICS, Exact
from .nndescent import NNDescent
from .opentsne import PrecomputedNeighbors
from .rpforest import RPForest

__all__ = ["NeighborBackend", "Exact", "Annoy", "NNDescent", "RPForest", "register", "available", "get_backend",
           "choose_auto", "choose_approx", "backend_parameters", "check_backend_params", "ENTRY_POINT_GROUP", "KIND"]

ENTRY_POINT_GROUP = "fasttsne.neighbors"
KIND = "neighbors"

#: "auto" searches exactly below this size for BLAS metrics: up to here exact search costs
#: about as much as rpforest's and has recall 1 (the measured crossover: docs/neighbors.md,
#: "Exact against rpforest").
AUTO_EXACT_MAX_SAMPLES = 10_000
#: The same crossover for metrics that go through scipy's cdist (no BLAS).
AUTO_EXACT_MAX_SAMPLES_SCIPY = 5_000
#: The crossover for sparse CSR input (exact sparse products against pynndescent).
AUTO_EXACT_MAX_SAMPLES_SPARSE = 20_000
#: Annoy metrics "auto" may pick: Annoy's hamming needs 0/1 data, which "auto" cannot assume.
AUTO_ANNOY_METRICS = frozenset(Annoy.metrics) - {"hamming"}
#: Above the exact crossover, dense data in these metrics go to rpforest, which finds the
#: graph faster than Annoy at a similar recall (docs/neighbors.md, "Measurements").
AUTO_RPFOREST_METRICS = frozenset(RPForest.metrics)

#: The parameters every backend's constructor takes, set by the front door itself (never
#: through ``knn_kwargs``).
COMMON_PARAMETERS = ("metric", "metric_params", "n_jobs", "random_state")

registry.declare(KIND, NeighborBackend, group=ENTRY_POINT_GROUP, label="neighbour backend",
                 choices=("auto", "approx"))


def register(name, cls):
    """Make ``cls`` (a :class:`NeighborBackend` subclass) available as ``neighbors=name``.

    Parameters
    ----------
    name : str
    cls : type
        Its constructor must take ``metric``, ``metric_params``, ``n_jobs`` and
        ``random_state`` keywords, like :class:`NeighborBackend`.
    """
    registry.register(KIND, name, cls)


def available():
    """Backend names: registered ones and installed plugins' entry points, sorted."""
    return registry.available(KIND)


def choose_auto(n_samples, metric, sparse, n_features=None):
    """The backend name "auto" picks for this data.

    Exact below the measured crossovers (always for precomputed distances); above them,
    rpforest for dense data in its metrics, Annoy for other dense data in a metric Annoy
    has, pynndescent for the rest (large sparse input, other metrics, numba-compiled
    callables); exact for plain Python callables. The
    thresholds are measured: see docs/neighbors.md. ``n_features`` does not change the
    choice at present (rpforest wins at every width measured); it is accepted so that
    callers pass what a width-dependent rule would need.
    """
    metric = canonical_metric(metric)
    if metric == "precomputed" or callable(metric):
        return choose_approx(metric, sparse, n_features)
    if sparse:
        small = n_samples < AUTO_EXACT_MAX_SAMPLES_SPARSE
        return "exact" if small and metric in SPARSE_METRICS else "pynndescent"
    if metric in Exact.metrics:
        limit = AUTO_EXACT_MAX_SAMPLES if metric in BLAS_METRICS else AUTO_EXACT_MAX_SAMPLES_SCIPY
        if n_samples < limit:
            return "exact"
    return choose_approx(metric, sparse, n_features)


def choose_approx(metric, sparse, n_features=None):
    """The backend name "approx" picks: the approximate search "auto" uses above its exact
    crossovers, whatever the size.

    rpforest for dense data in its metrics, Annoy for other dense data in a metric Annoy
    has, pynndescent for the rest (sparse input, other metrics, numba-compiled callables).
    Two cases stay exact, as under "auto": precomputed distances (nothing to approximate)
    and plain Python callables (pynndescent needs numba-compiled ones).
    """
    metric = canonical_metric(metric)
    if metric == "precomputed":
        return "exact"
    if callable(metric):
        # a plain Python callable crashes inside numba (pynndescent): exact search calls it
        # through scipy; a numba-compiled one (a dispatcher, with py_func) goes to pynndescent
        return "pynndescent" if hasattr(metric, "py_func") else "exact"
    if sparse:
        return "pynndescent"
    if metric in AUTO_RPFOREST_METRICS:
        return "rpforest"
    return "annoy" if metric in AUTO_ANNOY_METRICS else "pynndescent"


def backend_parameters(cls):
    """The names ``knn_kwargs`` may give to backend class ``cls``: its constructor's keywords
    other than :data:`COMMON_PARAMETERS`.

    A backend that hands further keywords on to a library names them with a classmethod
    ``parameter_names()`` (pynndescent's does); None when the set is open.
    """
    if hasattr(cls, "parameter_names"):
        names = cls.parameter_names()
        return None if names is None else tuple(names)
    params = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return tuple(p.name for p in params
                 if p.name != "self" and p.name not in COMMON_PARAMETERS
                 and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY))


def check_backend_params(cls, params, chosen_by=None):
    """Refuse ``knn_kwargs`` that ``cls`` does not take, naming those it does (and, when
    ``chosen_by`` is "auto" or "approx", that the choice was made for this data)."""
    accepted = backend_parameters(cls)
    reserved = sorted(set(params) & set(COMMON_PARAMETERS))
    unknown = sorted(set(params) - set(accepted)) if accepted is not None else []
    name = getattr(cls, "name", cls.__name__)
    if reserved:
        which = "that is a parameter" if len(reserved) == 1 else "those are parameters"
        raise InvalidParameterError(f"knn_kwargs may not set {', '.join(reserved)}: {which} of its own.")
    if unknown:
        takes = ", ".join(accepted) if accepted else "none"
        chosen = f" (neighbors={chosen_by!r} chose it for this data)" if chosen_by else ""
        raise InvalidParameterError(f"knn_kwargs: neighbour backend {name!r}{chosen} does not take "
                                    f"{', '.join(map(repr, unknown))}; it takes: {takes}.")


def get_backend(neighbors, *, n_samples, metric="euclidean", metric_params=None, sparse=False,
                n_jobs=1, random_state=None, n_features=None, knn_kwargs=None):
    """A backend instance for ``neighbors``: a name, "auto", "approx", a class or an instance.

    "auto" and "approx" are chosen by :func:`choose_auto` and :func:`choose_approx`.
    ``knn_kwargs`` (a dict) are further keyword arguments of the backend's constructor
    (``n_trees``, ...), for a backend made here from a name or class. An instance is copied
    (it carries its own metric and settings): each fit indexes into its own copy, so a
    second fit with the same instance leaves the first map's index as it was.

    Raises
    ------
    InvalidParameterError
        ``knn_kwargs`` the backend does not take, or given with an instance (which carries
        its own settings).
    ValueError
        Unknown name, or a metric the backend lacks.
    TypeError
        Sparse input to a backend without sparse support (the message names one with it).
    """
    knn_kwargs = dict(knn_kwargs or {})
    if isinstance(neighbors, NeighborBackend):
        if knn_kwargs:
            raise InvalidParameterError("knn_kwargs configure a backend made from a name; this one is an "
                                        f"instance ({neighbors!r:.60}): set them on it instead.")
        backend = copy.deepcopy(neighbors)
    else:
        if isinstance(neighbors, type) and issubclass(neighbors, NeighborBackend):
            cls = neighbors
        elif isinstance(neighbors, str):
            if neighbors == "auto":
                name = choose_auto(n_samples, metric, sparse, n_features)
            elif neighbors == "approx":
                name = choose_approx(metric, sparse, n_features)
            else:
                name = neighbors
            cls = registry.lookup(KIND, name)
        else:
            raise TypeError("neighbors must be a backend name, a NeighborBackend subclass or instance, "
                            f"got {neighbors!r}.")
        check_backend_params(cls, knn_kwargs, neighbors if neighbors in ("auto", "approx") else None)
        backend = cls(metric=metric, metric_params=metric_params, n_jobs=n_jobs, random_state=random_state,
                      **knn_kwargs)
    if sparse and not backend.supports_sparse and backend.metric != "precomputed":
        raise TypeError(f"neighbour backend {backend.name!r} does not take sparse input; use "
                        "neighbors='pynndescent' (or 'auto'), or pass a dense array.")
    return backend


for _name, _cls in (("exact", Exact), ("annoy", Annoy), ("pynndescent", NNDescent), ("rpforest", RPForest),
                   (PrecomputedNeighbors.name, PrecomputedNeighbors)):
    register(_name, _cls)
