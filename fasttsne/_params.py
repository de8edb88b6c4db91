"""Every user-facing parameter, described once, and the one check every front door runs.

Each parameter has one :class:`Param`: the values it accepts (constraints), its default and one
line of documentation. ``TSNE``, ``Embedding.optimize``/``transform``/``prepare_partial``,
``PartialEmbedding.optimize``, the scikit-learn estimator, ``fasttsne.tl`` and the command line
check their arguments with :func:`check` against the tables at the end of this module, before
any expensive work starts, and report a bad value with :class:`InvalidParameterError` and one
message style: ``"<name> must be <constraint>, got <value!r>."``. The same tables write the
"Parameters" sections of those front doors' docstrings (:func:`doc`).

Whether a *name* (a neighbour backend, a gradient method) is registered is the registries'
business; the front door resolves names right after this check, still before any work.
"""
import dataclasses
import math
import numbers
import textwrap

import numpy as np

__all__ = ["InvalidParameterError", "Param", "REQUIRED", "check", "resolved", "doc", "TSNE_PARAMS", "OPTIMIZE_PARAMS",
           "PARTIAL_PARAMS", "TRANSFORM_PARAMS", "PREPARE_PARTIAL_PARAMS", "GRID_PARAMS"]


class InvalidParameterError(ValueError, TypeError):
    """A parameter has a value of the wrong type or outside its allowed range.

    A subclass of both ``ValueError`` and ``TypeError`` (as in scikit-learn), so code that
    catches either keeps working whichever kind of mistake it was.
    """


# ---------------------------------------------------------------------- constraints
class _Interval:
    """Numbers of one kind (``integral``: integers only) between ``low`` and ``high``."""

    def __init__(self, integral, low=None, high=None, closed="both"):
        self.integral, self.low, self.high, self.closed = integral, low, high, closed

    def accepts(self, value):
        kind = numbers.Integral if self.integral else numbers.Real
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
            return False
        if not math.isfinite(value):
            return False
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return False
        if self.high is not None and (value > self.high or (value == self.high and not right)):
            return False
        return True

    def __str__(self):
        noun = "integer" if self.integral else "number"
        left = self.closed in ("both", "left")
        if self.high is None and self.low == 0:
            return f"a non-negative {noun}" if left else f"a positive {noun}"
        if self.high is None and self.integral and self.low == 1 and left:
            return "a positive integer"
        if self.high is None and self.low is not None:
            return f"an {noun} >{'=' if left else ''} {self.low}" if self.integral else \
                f"a {noun} >{'=' if left else ''} {self.low}"
        brackets = ("[" if left else "(") + f"{self.low}, {self.high}" + \
            ("]" if self.closed in ("both", "right") else ")")
        return f"{'an' if self.integral else 'a'} {noun} in {brackets}"

    type_name = property(lambda self: "int" if self.integral else "float")


class _Options:
    """One of a few strings."""

    def __init__(self, *names):
        self.names = names

    def accepts(self, value):
        return isinstance(value, str) and value in self.names

    def __str__(self):
        quoted = [repr(n) for n in self.names]
        return quoted[0] if len(quoted) == 1 else "one of " + ", ".join(quoted)

    type_name = property(lambda self: " or ".join(repr(n) for n in self.names))


class _Kind:
    """Values passing ``test``, described by ``text`` (errors) and ``type_name`` (docs)."""

    def __init__(self, test, text, type_name):
        self.accepts, self.text, self.type_name = test, text, type_name

    def __str__(self):
        return self.text


def _is_callables(value):
    if callable(value):
        return True
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return False
    return all(callable(v) for v in value)


def _is_backend(*methods):
    """A registry name, or a class or instance with the protocol's ``methods``."""
    return lambda v: isinstance(v, str) or all(callable(getattr(v, m, None)) for m in methods)


#: Largest |n_jobs| accepted; equal to ``fasttsne._threads.MAX_N_JOBS`` (a test checks), which
#: cannot be imported here: ``_threads`` imports this module.
_MAX_N_JOBS = 4096
#: Largest n_interpolation_points; equal to ``gradients.fft.MAX_INTERPOLATION_POINTS`` (tested).
_MAX_INTERPOLATION_POINTS = 16


def _is_threads(value):
    return value is None or (_Interval(True, -_MAX_N_JOBS, _MAX_N_JOBS).accepts(value) and value != 0)


NONE = _Kind(lambda v: v is None, "None", "None")
POSITIVE = _Interval(False, 0, None, "neither")
NON_NEGATIVE = _Interval(False, 0, None)
POSITIVE_INT = _Interval(True, 1)
NON_NEGATIVE_INT = _Interval(True, 0)
MOMENTUM = _Interval(False, 0, 1, "left")
BOOL = _Kind(lambda v: isinstance(v, (bool, np.bool_)), "True or False", "bool")
STRING = _Kind(lambda v: isinstance(v, str), "a string", "str")
CALLABLE = _Kind(callable, "a callable", "callable")
ARRAY = _Kind(lambda v: not isinstance(v, str) and (hasattr(v, "__array__") or isinstance(v, (list, tuple))),
              "an array of positions", "array")
DICT = _Kind(lambda v: isinstance(v, dict), "a dict", "dict")
KEYWORDS = _Kind(lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
                 "a dict of keyword arguments (str keys)", "dict")
CALLABLES = _Kind(_is_callables, "a callable f(iteration, kl, positions) or a list of them",
                  "callable or list of callables")
SEED = _Kind(lambda v: isinstance(v, (np.random.Generator, np.random.RandomState))
             or (isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))),
             "an int or a numpy Generator", "int or Generator")
THREADS = _Kind(_is_threads, "None or a non-zero integer between -4096 and 4096 (-1: all usable cores)",
                "int or None")


# ---------------------------------------------------------------------- the description
#: The default of a parameter that has none (a required argument).
REQUIRED = type("Required", (), {"__repr__": lambda self: "required"})()

@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter: the values it accepts, its default, one line of documentation.

    Attributes
    ----------
    name : str
    constraints : tuple
        The value must satisfy one of these.
    default : object
    doc : str
        One sentence (units where there are any).
    """

    name: str
    constraints: tuple
    default: object
    doc: str

    def accepts(self, value):
        return any(c.accepts(value) for c in self.constraints)

    def describe(self):
        """What the value must be, e.g. ``"a positive number or 'auto'"``."""
        return " or ".join(str(c) for c in self.constraints)

    def with_(self, **changes):
        """This parameter with another default, doc line or set of constraints."""
        return dataclasses.replace(self, **changes)


def _table(*params):
    return {p.name: p for p in params}


def check(table, values):
    """Check ``values`` (name -> value) against ``table``; return them unchanged.

    Raises
    ------
    InvalidParameterError
        For the first value that no constraint of its parameter accepts, or a name that is
        not in the table.
    """
    for name, value in values.items():
        param = table.get(name)
        if param is None:
            raise InvalidParameterError(f"unknown parameter {name!r}; valid: {', '.join(table)}.")
        if not param.accepts(value):
            raise InvalidParameterError(f"{name} must be {param.describe()}, got {_short(value)}.")
    return values


def resolved(resolve, *args, **kwargs):
    """``resolve(*args, **kwargs)``, a ``ValueError`` or ``TypeError`` it raises reported as an
    :class:`InvalidParameterError`.

    For resolving the user's names and settings (a backend name, a metric it lacks, a
    dimension it cannot serve): such a failure is a bad parameter value.
    """
    try:
        return resolve(*args, **kwargs)
    except InvalidParameterError:
        raise
    except (ValueError, TypeError) as e:
        raise InvalidParameterError(str(e)) from None


def _short(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def doc(table, names=None, indent=4):
    """The numpy-style "Parameters" entries of ``table`` (``names``: a subset, in that order)."""
    lines = []
    for name in names or table:
        p = table[name]
        types = " or ".join(c.type_name for c in p.constraints)
        lines.append(f"{name} : {types}" + ("" if p.default is REQUIRED else f", default {p.default!r}"))
        lines.extend(textwrap.wrap(p.doc, 92, initial_indent="    ", subsequent_indent="    "))
    return textwrap.indent("\n".join(lines), " " * indent)


# ---------------------------------------------------------------------- the parameters
_N_ITER = Param("n_iter", (NON_NEGATIVE_INT,), 500, "Iterations of the main phase (after early exaggeration).")
_AUTO = _Options("auto")
_N_ITER_AUTO = _N_ITER.with_(constraints=(NON_NEGATIVE_INT, _AUTO),
                             doc="Iterations of the main phase (after early exaggeration); 'auto': until KL "
                                 "has converged (see tol), at most max_iter (docs/convergence.md).")
_TOL = Param("tol", (POSITIVE,), 1e-3,
             "With n_iter='auto': the main phase ends when KL fell by less than this fraction over the "
             "last 50 iterations.")
_MAX_ITER = Param("max_iter", (POSITIVE_INT,), 2000, "With n_iter='auto': most iterations of the main phase.")
_LEARNING_RATE = Param("learning_rate", (POSITIVE, _Options("auto")), "auto",
                       "Step size; 'auto' is max(N / exaggeration, 1) in each phase (the gradient is "
                       "divided by 4, as in openTSNE). The value used is recorded as ``learning_rate_``.")
_EXAGGERATION = Param("exaggeration", (NONE, POSITIVE), None,
                      "Multiplies the attraction in the main phase (None: 1).")
_EARLY_EXAGGERATION = Param("early_exaggeration", (POSITIVE,), 12, "Exaggeration of the first phase.")
_ANNEAL_ITER = Param("anneal_iter", (NON_NEGATIVE_INT,), 0,
                     "Iterations at the start of this phase over which the exaggeration falls in geometric "
                     "steps from anneal_from to exaggeration, at this phase's learning rate (0: no "
                     "annealing); counted in n_iter.")
_ANNEAL_FROM = Param("anneal_from", (NONE, POSITIVE), None,
                     "Exaggeration at the start of the annealing (None: no annealing).")
_EARLY_EXAGGERATION_ITER = Param("early_exaggeration_iter", (NON_NEGATIVE_INT,), 250,
                                 "Iterations of the early-exaggeration phase (0: none).")
_INITIAL_MOMENTUM = Param("initial_momentum", (MOMENTUM,), 0.8, "Momentum of the early-exaggeration phase.")
_FINAL_MOMENTUM = Param("final_momentum", (MOMENTUM,), 0.8, "Momentum of the main phase.")
_MAX_GRAD_NORM = Param("max_grad_norm", (NONE, POSITIVE), None,
                       "Per-point clipping of the gradient, embedding units (None: no clipping).")
_MAX_STEP_NORM = Param("max_step_norm", (NONE, POSITIVE), 5,
                       "Per-point clipping of each step, embedding units (None: no clipping).")
_DOF = Param("dof", (POSITIVE,), 1, "Degrees of freedom of the output kernel (< 1: heavier tails, more clusters).")
_N_JOBS = Param("n_jobs", (THREADS,), 1,
                "Threads: kept as given and resolved at each call (negative values count back from the "
                "usable cores, OMP_NUM_THREADS and cgroup limits included).")
_RANDOM_STATE = Param("random_state", (NONE, SEED), None, "Seed of every random choice.")
_VERBOSE = Param("verbose", (BOOL,), False,
                 "Log one line per phase with its timing (logger 'fasttsne', shown on stderr) and show a "
                 "progress bar during the optimisation.")
_CALLBACKS = Param("callbacks", (NONE, CALLABLES), None,
                   "Called as f(iteration, kl, positions) every callbacks_every_iters iterations; True "
                   "from any of them stops the optimisation, keeping the positions so far.")
_CALLBACKS_EVERY = Param("callbacks_every_iters", (POSITIVE_INT,), 50, "Iterations between callback calls.")
_PERPLEXITY = Param("perplexity", (POSITIVE,), 30, "Effective number of neighbours per point.")
_NEGATIVE_GRADIENT = Param(
    "negative_gradient_method",
    (_Kind(_is_backend("reference"), "a method name or a NegativeGradient", "str or NegativeGradient"),),
    "auto", "Repulsion backend: 'auto', 'exact', 'bh', 'fft' or a NegativeGradient instance.")

#: openTSNE's multiscale shorthand: several perplexities.
PERPLEXITIES = _Kind(lambda v: isinstance(v, (list, tuple)) and len(v) > 0 and all(
    isinstance(p, (int, float, np.integer, np.floating)) and not isinstance(p, bool) and np.isfinite(p) and p > 0
    for p in v), "a non-empty list of positive numbers", "list of float")

TSNE_PARAMS = _table(
    Param("n_components", (POSITIVE_INT,), 2, "Embedding dimension (1, 2 or 3 for 'bh' and 'fft')."),
    _PERPLEXITY.with_(constraints=(POSITIVE, PERPLEXITIES),
                      doc=_PERPLEXITY.doc + " A list: the multiscale mixture of those perplexities."),
    _LEARNING_RATE,
    _EARLY_EXAGGERATION_ITER.with_(
        default=150, constraints=(NON_NEGATIVE_INT, _AUTO),
        doc="Iterations of the early-exaggeration phase (0: none); 'auto': until KL's relative decrease "
            "per iteration, having been fast, falls below 1e-4 (opt-SNE), at most 500."),
    _EARLY_EXAGGERATION.with_(constraints=(POSITIVE, _Options("auto")),
                              doc=_EARLY_EXAGGERATION.doc + " 'auto' (openTSNE's): max(12, exaggeration)."),
    _ANNEAL_ITER.with_(default="auto", constraints=(NON_NEGATIVE_INT, _AUTO),
                       doc="Iterations at the start of the main phase over which the exaggeration falls in "
                           "geometric steps from early_exaggeration to exaggeration, at the main phase's learning "
                           "rate ('auto': N / exaggeration); 0: it drops at once; none without early "
                           "exaggeration; counted in n_iter. 'auto': 100 when the main phase has at least 600 "
                           "iterations (or n_iter='auto'), else 0: shorter runs end with a lower KL without it."),
    _N_ITER_AUTO.with_(default=600),
    _TOL,
    _MAX_ITER,
    _EXAGGERATION,
    _DOF,
    Param("theta", (NON_NEGATIVE,), 0.5, "Barnes-Hut accuracy (0: exact); used by 'bh'."),
    Param("n_interpolation_points", (_Interval(True, 1, _MAX_INTERPOLATION_POINTS),), 4,
          "Interpolation nodes per grid interval and axis; used by 'fft'."),
    Param("min_num_intervals", (POSITIVE_INT,), 50, "Fewest grid intervals per axis; used by 'fft'."),
    Param("ints_in_interval", (POSITIVE,), 0.8, "Grid interval width, embedding units; used by 'fft'."),
    Param("initialization", (_Options("pca", "spectral", "random"), ARRAY), "pca",
          "Initial positions: 'pca', 'spectral' (of P; used instead of 'pca' for precomputed distances "
          "and when only affinities are given), 'random' or an (N, n_components) array."),
    Param("metric", (STRING, CALLABLE), "euclidean", "Input distance (a name or a callable)."),
    Param("metric_params", (NONE, DICT), None, "Extra keyword arguments of the metric."),
    _INITIAL_MOMENTUM,
    _FINAL_MOMENTUM,
    _MAX_GRAD_NORM,
    _MAX_STEP_NORM,
    Param("neighbors", (_Kind(_is_backend("build", "query"), "a backend name or a NeighborBackend",
                              "str or NeighborBackend"),), "auto",
          "Neighbour search: 'auto' (exact below a size that depends on the metric and input, else "
          "approximate), 'approx' (openTSNE's name: the approximate search 'auto' picks for large data, "
          "rpforest, Annoy or pynndescent by metric and input, at any size; exact for precomputed "
          "distances and plain Python callables), a registered name ('exact', 'rpforest', 'annoy', "
          "'pynndescent'), or a NeighborBackend class or instance."),
    Param("knn_kwargs", (NONE, KEYWORDS), None,
          "Further keyword arguments of the neighbour backend's constructor (e.g. n_trees); a key the "
          "chosen backend does not take is an error."),
    _NEGATIVE_GRADIENT,
    _N_JOBS,
    _RANDOM_STATE,
    _VERBOSE,
    _CALLBACKS,
    _CALLBACKS_EVERY,
)

#: ``Embedding.optimize``: one phase continuing an embedding.
OPTIMIZE_PARAMS = _table(
    _N_ITER_AUTO.with_(default=REQUIRED, doc="Iterations to run; 'auto': until KL has converged (see tol), at "
                                             "most max_iter."),
    _TOL,
    _MAX_ITER,
    _EXAGGERATION.with_(doc="Multiplies the attraction (None or 1: none; early exaggeration is ~12)."),
    _ANNEAL_FROM,
    _ANNEAL_ITER,
    _LEARNING_RATE,
    Param("momentum", (MOMENTUM,), 0.8, "Momentum of this phase."),
    _MAX_GRAD_NORM,
    _MAX_STEP_NORM,
    Param("min_gain", (NON_NEGATIVE,), 0.01, "Smallest per-coordinate gain of delta-bar-delta."),
    _DOF.with_(constraints=(NONE, POSITIVE), default=None,
               doc="Kernel degrees of freedom from here on (None: keep the embedding's)."),
    _NEGATIVE_GRADIENT.with_(constraints=(NONE,) + _NEGATIVE_GRADIENT.constraints, default=None,
                             doc="Repulsion backend from here on (None: keep the embedding's)."),
    _N_JOBS.with_(default=None, doc="Threads from here on (None: keep the embedding's), resolved at each call."),
    _CALLBACKS,
    _CALLBACKS_EVERY,
    Param("inplace", (BOOL,), False, "Update this object instead of returning a new one."),
    _VERBOSE.with_(doc="Show a progress bar and log one summary line (logger 'fasttsne')."),
    Param("propagate_exception", (BOOL,), False,
          "openTSNE's: raise OptimizationInterrupt when a callback stops the run (returns True or raises "
          "it); False: return the result reached then."),
    *(TSNE_PARAMS[name].with_(constraints=(NONE,) + TSNE_PARAMS[name].constraints, default=None,
                              doc=TSNE_PARAMS[name].doc + " From here on (None: keep the embedding's).")
      for name in ("theta", "n_interpolation_points", "min_num_intervals", "ints_in_interval")),
)

#: The parameters of ``optimize`` that configure the repulsion backend.
GRADIENT_PARAM_NAMES = ("theta", "n_interpolation_points", "min_num_intervals", "ints_in_interval")

#: ``PartialEmbedding.optimize``: as ``optimize``, with the transform step defaults.
PARTIAL_PARAMS = _table(*(p for n, p in OPTIMIZE_PARAMS.items()
                          if n not in ("dof", "negative_gradient_method", "verbose", "tol", "max_iter", "anneal_from",
                                       "anneal_iter")
                          + GRADIENT_PARAM_NAMES))
PARTIAL_PARAMS["n_iter"] = _N_ITER.with_(default=REQUIRED, doc="Iterations to run.")
PARTIAL_PARAMS["learning_rate"] = _LEARNING_RATE.with_(constraints=(POSITIVE,), default=0.1,
                                                       doc="Step size of the new points.")
PARTIAL_PARAMS["max_grad_norm"] = _MAX_GRAD_NORM.with_(default=0.25)
PARTIAL_PARAMS["max_step_norm"] = _MAX_STEP_NORM.with_(default=None)
PARTIAL_PARAMS["n_jobs"] = _N_JOBS.with_(default=None, doc="Threads of this call (None: the reference's n_jobs).")

#: ``Embedding.prepare_partial``: affinities and starting positions of new points.
PREPARE_PARTIAL_PARAMS = _table(
    Param("initialization", (_Options("median", "weighted", "random"), ARRAY), "median",
          "Starting positions: 'median' of the k nearest reference points, 'weighted' (P-weighted "
          "mean), 'random' or an (M, d) array."),
    Param("k", (POSITIVE_INT,), 25, "Reference neighbours used by the 'median' initialisation."),
    _PERPLEXITY.with_(constraints=(NONE, POSITIVE), default=None,
                      doc="Perplexity of the new points' affinities to the reference, for models that "
                          "have one (None: the model's own, 5 for PerplexityBasedNN: small, so each new "
                          "point stays close to its nearest reference points)."),
    _RANDOM_STATE,
    _N_JOBS.with_(default=None, doc="Threads of the neighbour query and the affinity calibration "
                                    "(None: the embedding's n_jobs), resolved now."),
)

#: ``Embedding.transform``: new points placed into a fixed map (openTSNE's defaults).
TRANSFORM_PARAMS = _table(
    PREPARE_PARTIAL_PARAMS["perplexity"],
    PREPARE_PARTIAL_PARAMS["initialization"],
    PREPARE_PARTIAL_PARAMS["k"],
    PARTIAL_PARAMS["learning_rate"],
    _EARLY_EXAGGERATION.with_(default=4.0),
    _EARLY_EXAGGERATION_ITER.with_(default=0),
    _EXAGGERATION.with_(constraints=(NONE, POSITIVE), default=1.5),
    _N_ITER.with_(default=250),
    _INITIAL_MOMENTUM,
    _FINAL_MOMENTUM,
    PARTIAL_PARAMS["max_grad_norm"],
    PARTIAL_PARAMS["max_step_norm"],
    _N_JOBS.with_(default=None, doc="Threads of every stage of this call: neighbour query, affinity "
                                    "calibration, reference repulsion, optimisation (None: the "
                                    "embedding's n_jobs)."),
    _RANDOM_STATE,
    _CALLBACKS,
    _CALLBACKS_EVERY,
)

#: ``Embedding.prepare_interpolation_grid``: the FFT reference repulsion built ahead of transform.
GRID_PARAMS = _table(
    Param("padding", (NON_NEGATIVE,), 0.2,
          "Margin of the grid around the map on each side, as a fraction of half the map's extent per "
          "axis (openTSNE's meaning; its default is 0.25). 0.2 is the grid transform builds when none "
          "was prepared. New points inside the margin are interpolated, those beyond it summed exactly."),
    _N_JOBS.with_(default=None, doc="Threads of the build (None: the embedding's n_jobs), resolved now; the "
                                    "grid does not depend on them."),
)
