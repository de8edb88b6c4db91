"""Negative-gradient (repulsion) backends, registered by name."""
from .base import NegativeGradient
from .exact import ExactGradient
from .bh import BarnesHut
from .fft import FFTInterpolation

__all__ = ["NegativeGradient", "ExactGradient", "register", "available", "get_gradient", "choose_auto"]

_REGISTRY = {"exact": ExactGradient}
_ALIASES = {}


def register(name, cls, aliases=()):
    """Make ``cls`` (a :class:`NegativeGradient` subclass) available by ``name`` and aliases."""
    if not (isinstance(cls, type) and issubclass(cls, NegativeGradient)):
        raise TypeError(f"a gradient backend must subclass fasttsne.gradients.NegativeGradient, got {cls!r}.")
    _REGISTRY[name] = cls
    for a in aliases:
        _ALIASES[a] = name


def available():
    """Registered method names, sorted."""
    return sorted(_REGISTRY)


def choose_auto(n_samples, n_components):
    """The method "auto" picks (exact until the approximate backends land)."""
    return "exact"


def get_gradient(method, *, n_samples, n_components, **params):
    """Return a backend instance for ``method`` (a name, "auto", or an instance).

    ``params`` are passed to the backend's constructor; those it does not take are ignored
    so one TSNE can carry the parameters of every backend (theta, n_interpolation_points, ...).
    """
    if isinstance(method, NegativeGradient):
        backend = method
    elif isinstance(method, str):
        name = choose_auto(n_samples, n_components) if method == "auto" else _ALIASES.get(method, method)
        if name not in _REGISTRY:
            raise ValueError(f"unknown negative_gradient_method {method!r}; available: "
                             f"{', '.join(['auto'] + available())}.")
        cls = _REGISTRY[name]
        import inspect
        accepted = inspect.signature(cls.__init__).parameters
        backend = cls(**{k: v for k, v in params.items() if k in accepted})
    else:
        raise TypeError(f"negative_gradient_method must be a name or a NegativeGradient instance, got {method!r}.")
    backend.check_components(n_components)
    return backend


register("bh", BarnesHut, aliases=("barnes-hut", "BH"))
register("fft", FFTInterpolation, aliases=("interpolation", "FFT"))
