"""Negative-gradient (repulsion) backends, registered by name.

``get_gradient("bh", n_samples=..., n_components=..., theta=0.5)`` builds a backend;
``register(name, cls, aliases)`` adds one. Third-party packages declare theirs under the
entry-point group ``fasttsne.gradients`` (``my-method = my_package:MyGradient``), loaded the
first time the name is asked for.
"""
import inspect

from .. import registry
from .._params import InvalidParameterError
from .base import NegativeGradient
from .exact import ExactGradient
from .bh import BarnesHut
from .fft import FFTInterpolation

__all__ = ["NegativeGradient", "ExactGradient", "BarnesHut", "FFTInterpolation", "register", "available",
           "get_gradient", "choose_auto", "ENTRY_POINT_GROUP", "KIND"]

ENTRY_POINT_GROUP = "fasttsne.gradients"
KIND = "gradients"

registry.declare(KIND, NegativeGradient, group=ENTRY_POINT_GROUP, label="negative_gradient_method",
                 choices=("auto",))


def register(name, cls, aliases=()):
    """Make ``cls`` (a :class:`NegativeGradient` subclass) available by ``name`` and aliases."""
    registry.register(KIND, name, cls, aliases)


def available():
    """Registered method names and installed plugins' entry points, sorted (aliases not listed)."""
    return registry.available(KIND)


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
    always: 3-D FFT interpolation with its split kernel measured 3.3-3.5x Barnes-Hut's CPU
    time per call up to 70,000 points and a 70,000-point fit 8% slower, docs/gradients.md;
    beyond 3-D only the exact method exists).
    """
    if n_samples < AUTO_EXACT_MAX_SAMPLES or n_components > 3:
        return "exact"
    if n_components <= 2 and n_samples >= AUTO_FFT_MIN_SAMPLES:
        return "fft"
    return "bh"


def get_gradient(method, *, n_samples, n_components, defaults=None, **params):
    """Return a backend instance for ``method`` (a name, an alias, "auto", or an instance).

    Parameters
    ----------
    method : str or NegativeGradient
        An instance is used as is (it carries its own parameters).
    n_samples, n_components : int
        Size of the embedding, for "auto" and the dimension check.
    defaults : dict, optional
        Values for whichever of these parameters the chosen class takes; the others are
        ignored, so that a front end can carry the parameters of every backend (``theta``,
        ``n_interpolation_points``, ...) whichever one "auto" picks. Every name must be a
        parameter of some registered backend.
    **params
        Parameters set for this method: each must be one the chosen class takes.

    Raises
    ------
    InvalidParameterError
        Unknown method, a parameter the chosen class does not take (or no backend takes), or
        parameters given with a backend instance.
    ValueError
        ``n_components`` beyond what the backend supports.
    """
    if isinstance(method, NegativeGradient):
        if params:
            raise InvalidParameterError(
                f"parameters {sorted(params)} were given with a negative_gradient_method instance "
                f"({method!r}); set them on the instance instead.")
        backend = method
    elif isinstance(method, str):
        name = choose_auto(n_samples, n_components) if method == "auto" else method
        cls = registry.lookup(KIND, name)
        accepted = _parameters(cls)
        unknown = sorted(set(params) - accepted)
        if unknown:
            takes = ", ".join(sorted(accepted)) or "no parameters"
            raise InvalidParameterError(
                f"negative_gradient_method={registry.name_of(KIND, cls)!r} does not take "
                f"{', '.join(unknown)} (it takes {takes}).")
        defaults = dict(defaults or {})
        unused = sorted(set(defaults).difference(*map(_parameters, registry.registered(KIND).values())))
        if unused:
            raise InvalidParameterError(f"no negative_gradient_method takes {', '.join(unused)}.")
        kwargs = {k: v for k, v in defaults.items() if k in accepted}
        kwargs.update(params)
        backend = cls(**kwargs)
    else:
        raise InvalidParameterError("negative_gradient_method must be a name or a NegativeGradient instance, "
                                    f"got {method!r}.")
    backend.check_components(n_components)
    return backend


def _parameters(cls):
    """Names of the keyword parameters of ``cls``'s constructor."""
    return {name for name, p in inspect.signature(cls.__init__).parameters.items()
            if name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


register("exact", ExactGradient)
register("bh", BarnesHut, aliases=("barnes-hut", "BH"))
register("fft", FFTInterpolation, aliases=("interpolation", "FFT"))
