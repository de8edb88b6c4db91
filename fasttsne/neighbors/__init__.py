"""Neighbour backends, registered by name.

``get_backend("exact", metric=..., n_jobs=...)`` builds a backend; ``register(name, cls)``
adds one. Third-party packages register theirs under the entry-point group
``fasttsne.neighbors``, looked up the first time an unknown name is asked for.
"""
from .base import NeighborBackend
from .exact import Exact

__all__ = ["NeighborBackend", "Exact", "register", "available", "get_backend", "choose_auto"]

_REGISTRY = {"exact": Exact}


def register(name, cls):
    """Make ``cls`` (a :class:`NeighborBackend` subclass) available as ``neighbors=name``."""
    if not (isinstance(cls, type) and issubclass(cls, NeighborBackend)):
        raise TypeError(f"a neighbour backend must subclass fasttsne.neighbors.NeighborBackend, got {cls!r}.")
    _REGISTRY[name] = cls


def available():
    """Registered backend names, sorted."""
    return sorted(_REGISTRY)


def choose_auto(n_samples, metric, sparse):
    """The backend "auto" picks for this data (exact for now; thresholds live in docs/)."""
    return "exact"


def get_backend(neighbors, *, n_samples, metric="euclidean", metric_params=None, sparse=False,
                n_jobs=1, random_state=None):
    """Return a backend instance for ``neighbors`` (a name, "auto", or an instance)."""
    if isinstance(neighbors, NeighborBackend):
        return neighbors
    if not isinstance(neighbors, str):
        raise TypeError(f"neighbors must be a backend name or a NeighborBackend instance, got {neighbors!r}.")
    name = choose_auto(n_samples, metric, sparse) if neighbors == "auto" else neighbors
    if name not in _REGISTRY:
        raise ValueError(f"unknown neighbour backend {name!r}; available: "
                         f"{', '.join(['auto'] + available())}.")
    return _REGISTRY[name](metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                          random_state=random_state)
