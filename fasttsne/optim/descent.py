"""Gradient descent for t-SNE: momentum, delta-bar-delta gains, per-point clipping, and the
loop that runs a schedule of phases.

The step itself is one fused kernel (``ext/_optimizer.pyx``); this module runs it, calls the
callbacks, shows progress and keeps the optimiser state consistent when Ctrl-C arrives.
"""
import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from .._ext import _optimizer
from .._params import OPTIMIZE_PARAMS
from ..progress import KL_EVERY, IterationProgress, info
from .convergence import CHECK_EVERY, stop_rule
from .divergence import MAX_COORDINATE, held_back
from .locality import REORDER_EVERY
from .phase import annealed

__all__ = ["OptimizationInterrupt", "OptimizerState", "gradient_descent", "run_phases", "MIN_GAIN"]

#: Smallest per-coordinate gain of delta-bar-delta (the ``min_gain`` default).
MIN_GAIN = OPTIMIZE_PARAMS["min_gain"].default

class OptimizationInterrupt(KeyboardInterrupt):
    """Ctrl-C during an optimisation: carries the (usable) result so far.

    Follows openTSNE's model: catch it to keep the work done,

    >>> try:                                           # doctest: +SKIP
    ...     embedding = tsne.fit(X)
    ... except fasttsne.OptimizationInterrupt as interrupt:
    ...     embedding = interrupt.embedding

    A callback may raise it too, as in openTSNE (``OptimizationInterrupt(error=kl,
    final_embedding=...)``), to stop with a result: ``optimize`` then returns the result
    unless ``propagate_exception=True``.

    Attributes
    ----------
    embedding, final_embedding : Embedding or PartialEmbedding
        The positions reached when the interrupt arrived, with consistent optimiser state.
    kl_divergence, error : float or None
        None after Ctrl-C (the KL was not computed at the interrupted positions); the value a
        raising callback gave.
    """

    def __init__(self, error=None, final_embedding=None):
        super().__init__("optimisation interrupted; the result so far is in .embedding")
        self.embedding = final_embedding
        self.kl_divergence = error
        #: True when a callback raised it (openTSNE's way to stop with a result), False for Ctrl-C
        self.from_callback = False

    @property
    def error(self):
        """openTSNE's name of :attr:`kl_divergence`."""
        return self.kl_divergence

    @property
    def final_embedding(self):
        """openTSNE's name of :attr:`embedding`."""
        return self.embedding


@dataclass
class OptimizerState:
    """What gradient descent carries from one call to the next.

    Attributes
    ----------
    update : (N, d) float64
        The last step (momentum term).
    gains : (N, d) float64
        Per-coordinate delta-bar-delta gains.
    n_iter : int
        Iterations done so far over the embedding's whole history.
    """

    update: np.ndarray
    gains: np.ndarray
    n_iter: int = 0

    @classmethod
    def fresh(cls, n_samples, n_components):
        return cls(np.zeros((n_samples, n_components)), np.ones((n_samples, n_components)), 0)

    def copy(self):
        return OptimizerState(self.update.copy(), self.gains.copy(), self.n_iter)


def gradient_descent(Y, objective, state, n_iter, *, exaggeration=1.0, learning_rate, momentum=0.8,
                     min_gain=MIN_GAIN, max_grad_norm=None, max_step_norm=5.0, n_jobs=1, callbacks=(),
                     callbacks_every_iters=50, center=True, progress=None, until=None, tol=None, history=None,
                     anneal_from=None, anneal_iter=0):
    """Run ``n_iter`` steps (or fewer, see ``until``), moving ``Y`` and ``state`` in place.

    Parameters
    ----------
    Y : (N, d) float64, C-contiguous
        Positions, updated in place.
    objective : FitObjective or PartialObjective (:mod:`fasttsne.optim.objective`)
        Computes the forces (P is never modified: exaggeration multiplies the attraction).
    state : OptimizerState
    n_iter : int
    exaggeration, learning_rate, momentum, min_gain : float
    max_grad_norm, max_step_norm : float or None
        Per-point clipping of the gradient / the step; None disables it.
    n_jobs : int
        Threads, already resolved (a count >= 1).
    callbacks : sequence of callables ``f(iteration, kl, positions) -> bool``
        Called every ``callbacks_every_iters`` iterations (``iteration`` counts the
        embedding's whole history) with the KL at the current positions and a copy of
        them; a callback returning True stops the run.
    center : bool
        Re-centre the positions on the origin after every step (not for new points placed
        into a reference, whose frame is the reference's).
    progress : fasttsne.progress.IterationProgress, optional
        Told of every step taken, with the KL every ``progress.kl_every`` iterations.
    until : None, "settled" or "converged"
        Stop at the first KL check (every ``convergence.CHECK_EVERY`` iterations) where this
        rule of :mod:`fasttsne.optim.convergence` holds; ``n_iter`` is then a cap.
    tol : float, optional
        The "converged" rule's tolerance.
    history : list, optional
        ``(iteration, kl)`` is appended for every KL computed: every ``progress.KL_EVERY``
        iterations, at every check, at the callbacks and at the end (``iteration`` counts the
        embedding's whole history). Computing the KL does not change the steps.
    anneal_from : float, optional
        Start the exaggeration at this value and lower it to ``exaggeration`` over the first
        ``anneal_iter`` steps (:func:`fasttsne.optim.phase.annealed`).
    anneal_iter : int
        Steps of that annealing (at most ``n_iter``: a shorter run anneals over its length),
        at ``learning_rate``.

    Returns
    -------
    kl : float
        The objective at the final positions.
    stopped : bool
        Whether a callback stopped the run early (not ``until``'s rule).

    Raises
    ------
    DivergenceError
        When a step would take positions beyond ``divergence.MAX_COORDINATE`` or to NaN (the
        points concerned are not moved), or the normalisation underflows: positions never
        become non-finite.
    OptimizationInterrupt
        On Ctrl-C. The kernels run without the GIL but return every iteration, so the
        interrupt is seen within about one iteration, between steps: ``Y`` and ``state`` are
        then consistent (the last step was applied completely or not at all).

    Notes
    -----
    Large fits run on copies of ``Y`` and ``state`` numbered along a space-filling curve
    (:mod:`fasttsne.optim.locality`), written back when the run ends, however it ends.
    """
    if anneal_from is None or anneal_iter <= 0:
        factors = [(float(exaggeration), float(learning_rate))]
    else:
        steps = min(int(anneal_iter), n_iter)
        factors = [(annealed(float(anneal_from), float(exaggeration), i, steps), float(learning_rate))
                   for i in range(steps)]
    args = (n_iter, factors, momentum, min_gain, max_grad_norm, max_step_norm, n_jobs,
            callbacks, callbacks_every_iters, center, progress, stop_rule(until, tol),
            [] if history is None else history)
    # nothing to gain from renumbering for a run that only evaluates the objective
    order = objective.spatial_order(Y.shape[1]) if n_iter > 0 else None
    if order is None:
        return _descend(Y, objective, state, None, *args)
    try:
        try:
            order.enter(Y, state)
            return _descend(order.Y, objective, order.state, order, *args)
        finally:
            order.leave(Y, state)
    except OptimizationInterrupt:
        raise
    except KeyboardInterrupt:
        # arrived while the positions were being renumbered or written back
        raise OptimizationInterrupt() from None


def _descend(Y, objective, state, order, n_iter, factors, momentum, min_gain,
             max_grad_norm, max_step_norm, n_jobs, callbacks, callbacks_every_iters, center, progress, rule,
             history):
    """:func:`gradient_descent` on positions in the order ``order`` keeps (None: the user's);
    ``factors``: (exaggeration, learning rate) of the first steps, the last pair kept after them."""
    attractive = np.empty_like(Y)
    repulsive = np.empty_like(Y)
    gmax = float(max_grad_norm) if max_grad_norm else -1.0
    smax = float(max_step_norm) if max_step_norm else -1.0
    every = max(1, int(callbacks_every_iters))
    start = state.n_iter
    checked = []  # KL at this run's checks, for the rule
    for it in range(n_iter + 1):
        stepped = False
        try:
            due = bool(callbacks) and it > 0 and it % every == 0
            final = it == n_iter
            shown = progress is not None and it > 0 and it % progress.kl_every == 0
            check = rule is not None and it % CHECK_EVERY == 0
            recorded = state.n_iter % KL_EVERY == 0
            kl, inv_z = objective.evaluate(Y, attractive, repulsive, due or final or shown or check or recorded)
            if kl is not None:
                history.append((state.n_iter, kl))
            if progress is not None and it > 0:
                progress.update(kl)
            if due and _run_callbacks(callbacks, state.n_iter, kl,
                                      Y.copy if order is None else lambda: order.user_order(Y)):
                return kl, True
            if check:
                checked.append(kl)
                final = final or rule(checked)
            if final:
                return kl, False
            exaggeration, learning_rate = factors[min(it, len(factors) - 1)]
            blocked = _optimizer.gradient_step(Y, attractive, repulsive, exaggeration, inv_z,
                                               state.update, state.gains, learning_rate, float(momentum),
                                               float(min_gain), gmax, smax, MAX_COORDINATE, n_jobs)
            stepped = True
            if center:
                _center(Y)
            state.n_iter = start + it + 1
            if blocked:
                raise held_back(state.n_iter, blocked, learning_rate, smax > 0)
            if order is not None and (it + 1) % REORDER_EVERY == 0 and it + 1 < n_iter:
                order.refresh()
        except KeyboardInterrupt as interrupt:
            # Python raises it between bytecodes, never inside a kernel: a step is either
            # applied completely or not at all; the count is set idempotently to match
            if stepped:
                state.n_iter = start + it + 1
            if isinstance(interrupt, OptimizationInterrupt):
                raise  # a callback's own, kept with what it carries
            raise OptimizationInterrupt() from None


def _center(Y):
    _optimizer.center(Y)


def _run_callbacks(callbacks, iteration, kl, positions):
    """Call each callback with its own copy of the positions, from ``positions()`` (a new
    (N, d) array in the user's order each call)."""
    stop = False
    for cb in callbacks:
        try:
            stop = bool(cb(iteration, kl, positions())) or stop
        except OptimizationInterrupt as interrupt:
            interrupt.from_callback = True
            raise
    return stop


def run_phases(Y, objective, state, phases, *, n_jobs, callbacks=(), callbacks_every_iters=50, center=True,
               verbose=False, ran=None, history=None):
    """Run the :class:`~fasttsne.optim.phase.Phase` list ``phases`` one after the other.

    Parameters
    ----------
    Y, objective, state, n_jobs, callbacks, callbacks_every_iters, center
        As in :func:`gradient_descent`.
    phases : sequence of Phase
        Each with a numeric learning rate (see :meth:`Phase.resolved`).
    callbacks : None, a callable or a sequence of callables
        As in :func:`gradient_descent` (checked by the caller).
    verbose : bool
        Show a progress bar per phase and log one line when each ends (logger "fasttsne").
    ran : list, optional
        The phases run are appended to it (all of them, or up to the one a callback stopped);
        a phase that ended by its ``until`` rule with the iterations it ran as ``n_iter``.
    history : list, optional
        ``(iteration, kl)`` pairs are appended to it (see :func:`gradient_descent`).

    Returns
    -------
    kl : float or None
        The objective at the final positions (None when ``phases`` is empty).
    stopped : bool
        Whether a callback stopped the run; the later phases were then not run.
    n_iter : int
        ``state.n_iter`` afterwards: iterations over the embedding's whole history.
    """
    callbacks = () if callbacks is None else (callbacks,) if callable(callbacks) else tuple(callbacks)
    kl, stopped = None, False
    for phase in phases:
        t0 = time.perf_counter()
        before = state.n_iter
        progress = IterationProgress(phase.n_iter, phase.label) if verbose else None
        try:
            kl, stopped = gradient_descent(
                Y, objective, state, int(phase.n_iter), exaggeration=phase.exaggeration,
                learning_rate=phase.learning_rate, momentum=phase.momentum, min_gain=phase.min_gain,
                max_grad_norm=phase.max_grad_norm, max_step_norm=phase.max_step_norm, n_jobs=n_jobs,
                callbacks=callbacks, callbacks_every_iters=callbacks_every_iters, center=center,
                progress=progress, until=phase.until, tol=phase.tol, history=history,
                anneal_from=phase.anneal_from, anneal_iter=phase.anneal_iter)
        finally:
            if progress is not None:
                progress.close()
        if phase.until is not None:
            phase = dataclasses.replace(phase, n_iter=state.n_iter - before)
        if ran is not None:
            ran.append(phase)
        if verbose:
            info("%5d iterations, KL %.4f (%s, learning rate %g, %.2f s)%s", state.n_iter, kl, phase.label,
                      phase.learning_rate, time.perf_counter() - t0, ", stopped by a callback" if stopped else "")
        if stopped:
            break
    return kl, stopped, state.n_iter
