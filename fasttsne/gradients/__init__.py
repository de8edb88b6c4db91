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


#: Below this many points "auto" uses the exact gradient: a whole run costs a few seconds at
#: most and the result carries no approximation error.
AUTO_EXACT_MAX_SAMPLES = 1_000
#: From this many points "auto" uses FFT interpolation (1-D/2-D): measured crossover of whole
#: optimisation runs against Barnes-Hut on MNIST subsets, see docs/gradients.md.
AUTO_FFT_MIN_SAMPLES = 40_000


def choose_auto(n_samples, n_components):
    """The method "auto" picks for ``n_samples`` points in ``n_components`` dimensions.

    exact below ``AUTO_EXACT_MAX_SAMPLES`` points; otherwise FFT interpolation for 1-D and 2-D
    embeddings of at least ``AUTO_FFT_MIN_SAMPLES`` points and Barnes-Hut for the rest (3-D
    always: the 3-D FFT grid, bounded in size, serves only compact maps and measured slower in
    whole runs, docs/gradients.md; beyond 3-D only the exact method exists).
    """
    if n_samples < AUTO_EXACT_MAX_SAMPLES or n_components > 3:
        return "exact"
    if n_components <= 2 and n_samples >= AUTO_FFT_MIN_SAMPLES:
        return "fft"
    return "bh"


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
