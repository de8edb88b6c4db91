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
#: "auto" searches exactly below these sizes, measured on this project's 2-core machine
#: (docs/neighbors.md). Exact search costs ~N^2 D; Annoy ~N search_k D plus a per-candidate
#: overhead that weighs more at low D, so narrow data keeps exact search longer. MNIST
#: (784-D), wall s exact vs Annoy: 16.5 vs 23.6 at N = 30,000 and 68.0 vs 58.2 at 70,000 (one
#: quiet run; crossover ~54,000), 12.8 vs 27.2 at 20,000 and 42.6 vs 35.0 at 40,000 (a loaded
#: run). Near the crossover both cost the same and exact search has recall 1, hence 50,000.
AUTO_EXACT_MAX_SAMPLES = 50_000
#: The crossover for data with at most AUTO_NARROW_FEATURES columns. MNIST reduced to 50
#: principal components: exact 8.5 s vs Annoy 13.8 s at N = 40,000, 22.8 vs 31.4 at 70,000;
#: N^2 against ~N^1.2 puts the crossover near 100,000 (extrapolated: MNIST stops at 70,000).
AUTO_EXACT_MAX_SAMPLES_NARROW = 100_000
AUTO_NARROW_FEATURES = 100
#: The same crossover for metrics that go through scipy's cdist (no BLAS).
AUTO_EXACT_MAX_SAMPLES_SCIPY = 5_000
#: The crossover for sparse CSR input (exact sparse products against pynndescent).
AUTO_EXACT_MAX_SAMPLES_SPARSE = 20_000
#: Annoy metrics "auto" may pick: Annoy's hamming needs 0/1 data, which "auto" cannot assume.
AUTO_ANNOY_METRICS = frozenset(Annoy.metrics) - {"hamming"}

#: Above the exact crossover, data with at most this many features (and a metric rpforest has)
#: go to rpforest: on the 100k x 50 mixture it found the 90-NN graph in 0.27 of Annoy's time
#: (16.9 vs 63.0 s, one core) at a higher recall (0.973 vs 0.960) and less memory. Wider data
#: stay with Annoy: on MNIST (784 features, both searching 100 principal components) rpforest
#: took 0.36 of Annoy's time at recall 0.973 against 0.982 (docs/neighbors.md).
AUTO_RPFOREST_MAX_FEATURES = 200

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
    rpforest for dense data of at most ``AUTO_RPFOREST_MAX_FEATURES`` features in its
    metrics, Annoy for other dense data in a metric Annoy has, pynndescent for the rest
    (large sparse input, other metrics, callables). The thresholds are measured: see
    docs/neighbors.md.
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
        if metric not in BLAS_METRICS:
            limit = AUTO_EXACT_MAX_SAMPLES_SCIPY
        elif n_features is not None and n_features <= AUTO_NARROW_FEATURES:
            limit = AUTO_EXACT_MAX_SAMPLES_NARROW
        else:
            limit = AUTO_EXACT_MAX_SAMPLES
        if n_samples < limit:
            return "exact"
    if metric in RPForest.metrics and n_features is not None and n_features <= AUTO_RPFOREST_MAX_FEATURES:
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
