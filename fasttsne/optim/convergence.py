"""When to end a phase by watching KL(P || Q): the "auto" schedules, and the KL record.

Two rules end a phase before its cap of iterations:

- :func:`exaggeration_settled` ends early exaggeration (Belkina et al. 2019, "opt-SNE"):
  under exaggeration the KL first falls steeply while the clusters form, then flattens; the
  phase is left at the first check where KL's relative decrease per iteration, having been
  fast, drops below a threshold.
- :func:`converged` ends the main phase when KL's relative decrease over the last
  ``CONVERGENCE_WINDOW`` iterations is below ``tol``.

Both read the KL at every ``CHECK_EVERY`` iterations. The KL is a by-product of an iteration's
passes (the attraction sums p log w over P's entries as it computes the forces, the repulsion
returns Z), but the logarithms make the attraction pass dearer, so it is computed only at
checks (docs/convergence.md gives the cost).
"""
import collections

import numpy as np

__all__ = ["KLHistory", "CHECK_EVERY", "CONVERGENCE_WINDOW", "EXAGGERATION_TOL", "stop_rule",
           "exaggeration_settled", "converged"]

#: Iterations between two KL checks of an "auto" phase.
CHECK_EVERY = 10
#: Iterations over which the main phase's relative KL change is compared with ``tol``.
CONVERGENCE_WINDOW = 50
#: Relative KL decrease per iteration below which early exaggeration is left.
EXAGGERATION_TOL = 1e-4
#: The decrease must first have been this many times faster (the clusters were forming), so a
#: slow start from a small initialisation does not end the phase before anything happened.
_FAST = 10.0


class KLHistory(collections.namedtuple("KLHistory", ["iterations", "values"])):
    """KL(P || Q) by iteration over an embedding's whole history.

    Attributes
    ----------
    iterations : (K,) int64
        Iterations done when each value was computed (0: the initial positions).
    values : (K,) float64
        KL(P || Q) in nats at those iterations (of the un-exaggerated P, so values during early
        exaggeration are comparable with the later ones).
    """

    __slots__ = ()

    def plot(self, ax=None, **kwargs):
        """Draw KL against iterations on ``ax`` (default: the current matplotlib axes).

        ``kwargs`` go to ``ax.plot``. Returns the axes.
        """
        import matplotlib.pyplot as plt  # optional dependency
        ax = plt.gca() if ax is None else ax
        ax.plot(self.iterations, self.values, **kwargs)
        ax.set_xlabel("iteration")
        ax.set_ylabel("KL(P || Q), nats")
        return ax

    @classmethod
    def from_pairs(cls, pairs):
        """From ``(iteration, kl)`` pairs in order; a repeated iteration keeps its last value."""
        kept = {}
        for it, kl in pairs:
            kept[int(it)] = float(kl)
        iterations = np.fromiter(kept.keys(), dtype=np.int64, count=len(kept))
        values = np.fromiter(kept.values(), dtype=np.float64, count=len(kept))
        return cls(iterations, values)


def exaggeration_settled(values, tol=EXAGGERATION_TOL, every=CHECK_EVERY):
    """Whether early exaggeration can end, from the KL at this phase's checks so far.

    Parameters
    ----------
    values : sequence of float
        KL at this phase's checks, ``every`` iterations apart, the phase's start first.
    tol : float
        Relative decrease per iteration below which the phase ends.
    every : int

    Returns
    -------
    bool
        True once the latest relative decrease per iteration is below ``tol`` after some
        earlier one reached ``10 * tol`` (an increase counts as below).
    """
    if len(values) < 3:
        return False
    rates = [(a - b) / (abs(a) * every) for a, b in zip(values[:-1], values[1:])]
    return rates[-1] < tol and max(rates[:-1]) >= _FAST * tol


def converged(values, tol, every=CHECK_EVERY, window=CONVERGENCE_WINDOW):
    """Whether the main phase has converged, from the KL at its checks so far.

    Parameters
    ----------
    values : sequence of float
        KL at this phase's checks, ``every`` iterations apart, the phase's start first.
    tol : float
        Largest relative decrease of KL over ``window`` iterations that counts as converged.

    Returns
    -------
    bool
        True when the phase has run at least ``window`` iterations and KL fell by less than
        ``tol`` (relative) over the last ``window`` of them (a rise counts as converged).
    """
    back = -(-window // every)
    if len(values) <= back:
        return False
    before, now = values[-1 - back], values[-1]
    return (before - now) / abs(before) < tol


def stop_rule(until, tol):
    """The rule of a phase's ``until`` field: a callable ``f(values) -> bool`` or None.

    ``until`` is None (run the phase's iterations), "settled" (:func:`exaggeration_settled`)
    or "converged" (:func:`converged` with ``tol``).
    """
    if until is None:
        return None
    if until == "settled":
        return exaggeration_settled
    if until == "converged":
        return lambda values: converged(values, tol)
    raise ValueError(f"unknown stopping rule {until!r}.")
