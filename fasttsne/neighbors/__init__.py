"""Neighbour backends, registered by name.

``get_backend("exact", metric=..., n_jobs=...)`` builds a backend; ``register(name, cls)``
adds one. Third-party packages declare theirs under the entry-point group
``fasttsne.neighbors`` (``my-backend = my_package:MyBackend``); an entry point is loaded
the first time its name is asked for, so ``TSNE(neighbors="my-backend")`` works after
``pip install`` of the plugin.
"""
from importlib import metadata

from .annoy import Annoy
from .base import NeighborBackend, canonical_metric
from .exact import BLAS_METRICS, SPARSE_METRICS, Exact
from .nndescent import NNDescent
from .rpforest import RPForest

__all__ = ["NeighborBackend", "Exact", "Annoy", "NNDescent", "RPForest", "register", "available", "get_backend",
           "choose_auto", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "fasttsne.neighbors"
#: "auto" searches exactly below this size (BLAS metrics), measured on this project's 2-core
#: machine against rpforest at k = 90, n_jobs=2 (docs/neighbors.md), wall s exact vs rpforest:
#: 100k x 50 mixture 0.30 vs 0.15 at N = 5,000, 0.80 vs 0.31 at 10,000, 2.59 vs 1.16 at 20,000,
#: 11.7 vs 3.2 at 50,000; MNIST (784-D) 2.0 vs 1.3 at 10,000, 6.2 vs 2.4 at 20,000, 23.0 vs 7.1
#: at 40,000. Below 10,000 points exact search costs at most about a second more and has
#: recall 1. (Against Annoy, before rpforest, the crossover was 50,000 on MNIST.)
AUTO_EXACT_MAX_SAMPLES = 10_000
#: The same crossover for metrics that go through scipy's cdist (no BLAS).
AUTO_EXACT_MAX_SAMPLES_SCIPY = 5_000
#: The crossover for sparse CSR input (exact sparse products against pynndescent).
AUTO_EXACT_MAX_SAMPLES_SPARSE = 20_000
#: Annoy metrics "auto" may pick: Annoy's hamming needs 0/1 data, which "auto" cannot assume.
AUTO_ANNOY_METRICS = frozenset(Annoy.metrics) - {"hamming"}

#: Above the exact crossover, dense data in these metrics go to rpforest: on the 100k x 50
#: mixture it found the 90-NN graph in 0.27 of Annoy's time (16.9 vs 63.0 s, one core) at a
#: higher recall (0.973 vs 0.960), on MNIST in 0.36 of Annoy's time (both searching 100
#: principal components) at recall 0.973 against Annoy's 0.982 and openTSNE's 0.955.
AUTO_RPFOREST_METRICS = frozenset(RPForest.metrics)

_REGISTRY = {"exact": Exact, "annoy": Annoy, "pynndescent": NNDescent, "rpforest": RPForest}


def register(name, cls):
    """Make ``cls`` (a :class:`NeighborBackend` subclass) available as ``neighbors=name``.

    Parameters
    ----------
    name : str
    cls : type
        Its constructor must take ``metric``, ``metric_params``, ``n_jobs`` and
        ``random_state`` keywords, like :class:`NeighborBackend`.
    """
    if not isinstance(name, str) or not name or name == "auto":
        raise ValueError(f"a backend name must be a non-empty string other than 'auto', got {name!r}.")
    if not (isinstance(cls, type) and issubclass(cls, NeighborBackend)):
        raise TypeError(f"a neighbour backend must subclass fasttsne.neighbors.NeighborBackend, got {cls!r}.")
    _REGISTRY[name] = cls


def _plugin_entry_points():
    eps = metadata.entry_points()
    if hasattr(eps, "select"):  # Python >= 3.10
        return list(eps.select(group=ENTRY_POINT_GROUP))
    return list(eps.get(ENTRY_POINT_GROUP, []))


def _load_plugin(name):
    """Register the entry point called ``name``; False when no installed package has one."""
    for ep in _plugin_entry_points():
        if ep.name == name:
            try:
                cls = ep.load()
            except Exception as e:
                raise ImportError(f"the neighbour backend plugin {name!r} ({ep.value}) failed to "
                                  f"load: {e}") from e
            register(name, cls)
            return True
    return False


def available():
    """Backend names: registered ones and installed plugins' entry points, sorted."""
    return sorted(set(_REGISTRY) | {ep.name for ep in _plugin_entry_points()})


def choose_auto(n_samples, metric, sparse, n_features=None):
    """The backend name "auto" picks for this data.

    Exact below the measured crossovers (always for precomputed distances); above them,
    rpforest for dense data in its metrics, Annoy for other dense data in a metric Annoy
    has, pynndescent for the rest (large sparse input, other metrics, callables). The
    thresholds are measured: see docs/neighbors.md. ``n_features`` does not change the
    choice at present (rpforest wins at every width measured); it is accepted so that
    callers pass what a width-dependent rule would need.
    """
    metric = canonical_metric(metric)
    if metric == "precomputed":
        return "exact"
    if callable(metric):
        return "pynndescent"
    if sparse:
        small = n_samples < AUTO_EXACT_MAX_SAMPLES_SPARSE
        return "exact" if small and metric in SPARSE_METRICS else "pynndescent"
    if metric in Exact.metrics:
        limit = AUTO_EXACT_MAX_SAMPLES if metric in BLAS_METRICS else AUTO_EXACT_MAX_SAMPLES_SCIPY
        if n_samples < limit:
            return "exact"
    if metric in AUTO_RPFOREST_METRICS:
        return "rpforest"
    return "annoy" if metric in AUTO_ANNOY_METRICS else "pynndescent"


def get_backend(neighbors, *, n_samples, metric="euclidean", metric_params=None, sparse=False,
                n_jobs=1, random_state=None, n_features=None):
    """A backend instance for ``neighbors``: a name, "auto", a class or an instance.

    An instance is returned as is (it carries its own metric and settings).

    Raises
    ------
    ValueError
        Unknown name, or a metric the backend lacks.
    TypeError
        Sparse input to a backend without sparse support (the message names one with it).
    """
    if isinstance(neighbors, NeighborBackend):
        backend = neighbors
    else:
        if isinstance(neighbors, type) and issubclass(neighbors, NeighborBackend):
            cls = neighbors
        elif isinstance(neighbors, str):
            name = choose_auto(n_samples, metric, sparse, n_features) if neighbors == "auto" else neighbors
            if name not in _REGISTRY and not _load_plugin(name):
                raise ValueError(f"unknown neighbour backend {name!r}; available: "
                                 f"{', '.join(['auto'] + available())}.")
            cls = _REGISTRY[name]
        else:
            raise TypeError("neighbors must be a backend name, a NeighborBackend subclass or instance, "
                            f"got {neighbors!r}.")
        backend = cls(metric=metric, metric_params=metric_params, n_jobs=n_jobs, random_state=random_state)
    if sparse and not backend.supports_sparse and backend.metric != "precomputed":
        raise TypeError(f"neighbour backend {backend.name!r} does not take sparse input; use "
                        "neighbors='pynndescent' (or 'auto'), or pass a dense array.")
    return backend
