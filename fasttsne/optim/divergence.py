"""A run that diverges stops with :class:`DivergenceError`, never with non-finite positions.

Steps far too long for the map (a learning rate of 1e308, say, or a large one without step
clipping) would overflow: positions beyond about 1e154 have squared distances that overflow
float64, every kernel value then underflows to 0 and the normalisation Z with it. The step
kernel leaves a point where it is rather than move it past :data:`MAX_COORDINATE` (or to
NaN) and says how many it held back; the objectives check Z. Either way the run stops here
with an error that names the cause, and the positions stay finite.
"""

__all__ = ["DivergenceError", "MAX_COORDINATE", "held_back", "no_repulsion"]

#: Largest coordinate magnitude a step may reach: 2 ** 500, so that the squared distance of
#: two points stays finite in float64 in up to 3 dimensions ((2 * 2 ** 500) ** 2 * 3 < 2 ** 1024)
#: and sums of a coordinate over any realistic number of points too.
MAX_COORDINATE = 2.0 ** 500


class DivergenceError(ValueError):
    """The optimisation diverged: a step would have left float64's usable range.

    Raised by ``fit``, ``optimize`` and ``transform`` in place of positions that would have
    become infinite or NaN. The embedding's positions stay finite (points whose step
    overflowed were not moved); an in-place ``optimize`` leaves ``kl_divergence`` None.
    Usually the learning rate is far too large, or step clipping (``max_step_norm``) is off.
    """


def _advice(learning_rate, clipped):
    return (f"use a smaller learning_rate (it was {learning_rate:g})"
            + ("" if clipped else " or clip the steps with max_step_norm") + ".")


def held_back(iteration, n_points, learning_rate, clipped):
    """The error for a step the kernel refused for ``n_points`` points at ``iteration``."""
    return DivergenceError(
        f"the optimisation diverged at iteration {iteration}: the step would have moved {n_points} "
        f"point(s) beyond +-2^500 or to NaN (they were left where they were); "
        + _advice(learning_rate, clipped))


def no_repulsion(what):
    """The error for a normalisation that underflowed: ``what`` says which (``"Z = 0"``)."""
    return DivergenceError(
        f"the optimisation diverged: the points lie so far apart that every kernel value underflows "
        f"({what}); the learning rate is far too large, or step clipping (max_step_norm) is off.")
