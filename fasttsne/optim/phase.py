"""Phases of an optimisation and the two schedules built from them.

A :class:`Phase` is a stretch of iterations with fixed settings. ``TSNE.fit`` and
``Embedding.transform`` both run an early-exaggeration phase and a main phase:
:func:`fit_schedule` and :func:`transform_schedule` build them here, from parameters whose
defaults live in one place, :mod:`fasttsne._params` (``TSNE_PARAMS``, ``TRANSFORM_PARAMS``).
"""
import dataclasses

from .._params import OPTIMIZE_PARAMS, TRANSFORM_PARAMS, TSNE_PARAMS

__all__ = ["Phase", "fit_schedule", "transform_schedule", "auto_learning_rate", "annealed", "AUTO",
           "AUTO_ANNEAL_ITER", "AUTO_ANNEAL_MIN_ITER", "MAX_AUTO_EXAGGERATION_ITER"]

#: The iteration count that asks for a phase to end by itself.
AUTO = "auto"
#: Cap of an "auto" early-exaggeration phase.
MAX_AUTO_EXAGGERATION_ITER = 500


@dataclasses.dataclass(frozen=True)
class Phase:
    """Settings of one stretch of gradient descent.

    Attributes
    ----------
    n_iter : int
        Iterations.
    exaggeration : float
        Multiplies the attraction (1: none).
    momentum : float in [0, 1)
    learning_rate : float or "auto"
        "auto" until :meth:`resolved`, which puts the number used in its place.
    max_grad_norm, max_step_norm : float or None
        Per-point clipping of the gradient / the step, embedding units; None: none.
    min_gain : float
        Smallest per-coordinate delta-bar-delta gain.
    until : None, "settled" or "converged"
        None: run ``n_iter`` iterations. Otherwise ``n_iter`` is a cap and the phase ends at the
        first KL check where its rule holds (:mod:`fasttsne.optim.convergence`).
    tol : float or None
        The tolerance of the "converged" rule.
    anneal_from : float or None
        Exaggeration at the phase's start, lowered to ``exaggeration`` over its first
        ``anneal_iter`` iterations (see :func:`annealed`); None: ``exaggeration`` throughout.
    anneal_iter : int
        Iterations of that annealing, counted in ``n_iter`` (fewer when the phase is shorter).
        The learning rate is ``learning_rate`` throughout.
    """

    n_iter: int
    exaggeration: float
    momentum: float
    learning_rate: object
    max_grad_norm: object
    max_step_norm: object
    min_gain: float
    until: object = None
    tol: object = None
    anneal_from: object = None
    anneal_iter: int = 0

    @property
    def label(self):
        """Short description for progress bars and log lines."""
        start = "" if self.anneal_from is None else f"{self.anneal_from:g} -> "
        return f"exaggeration {start}{self.exaggeration:g}" + ("" if self.until is None else f", until {self.until}")

    def resolved(self, n_samples):
        """This phase with "auto" replaced by :func:`auto_learning_rate` for ``n_samples`` points
        (at ``exaggeration``, the annealing's end, when it anneals)."""
        if isinstance(self.learning_rate, str):
            return dataclasses.replace(self, learning_rate=auto_learning_rate(n_samples, self.exaggeration))
        return self

    def to_dict(self):
        """The fields as a dict of plain values (for saving)."""
        return dataclasses.asdict(self)


def auto_learning_rate(n_samples, exaggeration):
    """N / exaggeration, at least 1 (the gradient is divided by 4; see :mod:`.objective`)."""
    return max(n_samples / exaggeration, 1.0)


#: ``anneal_iter="auto"``: the main phase's first ``AUTO_ANNEAL_ITER`` iterations anneal the
#: exaggeration when it has at least ``AUTO_ANNEAL_MIN_ITER`` iterations. Annealing pays off only
#: in long runs: on digits, 100 annealing iterations lowered the final KL at 600 main-phase
#: iterations and raised it at 300 and below, where the map has too little time left at the
#: final exaggeration (docs/convergence.md).
AUTO_ANNEAL_ITER = 100
AUTO_ANNEAL_MIN_ITER = 600


def annealed(start, end, step, n_steps):
    """The value at step ``step`` (0-based) of an annealing from ``start`` to ``end`` in
    ``n_steps`` geometric steps (equal ratios), so step ``n_steps - 1`` is at ``end``.

    Geometric steps leave the high exaggeration quickly and approach the final one slowly.

    Parameters
    ----------
    start, end : float > 0
        Value before the first step / at the last.
    step, n_steps : int
        ``0 <= step < n_steps``.

    Returns
    -------
    float
    """
    if step + 1 >= n_steps:
        return end  # exactly, whatever the rounding of the ratios
    return start * (end / start) ** ((step + 1) / n_steps)


def fit_schedule(**params):
    """The phases of ``TSNE.fit``: early exaggeration (when it has iterations), then the main phase.

    Parameters
    ----------
    **params
        ``TSNE`` parameters (``early_exaggeration_iter``, ``early_exaggeration``, ``anneal_iter``,
        ``n_iter``, ``exaggeration``, ``learning_rate``, ``initial_momentum``, ``final_momentum``,
        ``max_grad_norm``, ``max_step_norm``, ``tol``, ``max_iter``), already checked; the
        missing ones take ``TSNE``'s defaults. ``early_exaggeration_iter="auto"`` gives a phase
        of at most ``MAX_AUTO_EXAGGERATION_ITER`` iterations ending when KL has settled;
        ``n_iter="auto"`` a main phase of at most ``max_iter`` ending when KL has converged to
        ``tol``. After an early-exaggeration phase, the main phase's first ``anneal_iter``
        iterations lower the exaggeration from the early one to its own.

    Returns
    -------
    list of Phase
    """
    p = {name: params.get(name, TSNE_PARAMS[name].default) for name in ("tol", "max_iter", "anneal_iter")}
    phases = _two_phases(TSNE_PARAMS, params)
    early, main = phases[0], phases[-1]
    anneal_iter = p["anneal_iter"]
    if anneal_iter == AUTO:
        long_run = main.n_iter == AUTO or main.n_iter >= AUTO_ANNEAL_MIN_ITER
        anneal_iter = AUTO_ANNEAL_ITER if long_run else 0
    if len(phases) == 2 and anneal_iter > 0 and early.exaggeration != main.exaggeration:
        phases[-1] = dataclasses.replace(main, anneal_from=early.exaggeration, anneal_iter=anneal_iter)
    if phases[-1].n_iter == AUTO:
        phases[-1] = dataclasses.replace(phases[-1], n_iter=p["max_iter"], until="converged", tol=p["tol"])
    if phases[0].n_iter == AUTO:
        phases[0] = dataclasses.replace(phases[0], n_iter=MAX_AUTO_EXAGGERATION_ITER, until="settled")
    return phases


def transform_schedule(**params):
    """The phases of ``Embedding.transform``; as :func:`fit_schedule`, with the transform
    parameters and their defaults."""
    return _two_phases(TRANSFORM_PARAMS, params)


def _two_phases(table, params):
    p = {name: params.get(name, table[name].default) for name in _SCHEDULE_PARAMS}
    common = dict(learning_rate=p["learning_rate"], max_grad_norm=p["max_grad_norm"],
                  max_step_norm=p["max_step_norm"], min_gain=_MIN_GAIN)
    phases = []
    if p["early_exaggeration_iter"] == AUTO or p["early_exaggeration_iter"] > 0:
        phases.append(Phase(p["early_exaggeration_iter"], _factor(p["early_exaggeration"]),
                            p["initial_momentum"], **common))
    phases.append(Phase(p["n_iter"], _factor(p["exaggeration"]), p["final_momentum"], **common))
    return phases


def _factor(exaggeration):
    return 1.0 if exaggeration is None else exaggeration


_SCHEDULE_PARAMS = ("early_exaggeration_iter", "early_exaggeration", "n_iter", "exaggeration", "learning_rate",
                    "initial_momentum", "final_momentum", "max_grad_norm", "max_step_norm")
_MIN_GAIN = OPTIMIZE_PARAMS["min_gain"].default
