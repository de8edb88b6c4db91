"""Gradient descent for t-SNE: momentum, delta-bar-delta gains, per-point clipping.

All gradients in fasttsne are the KL gradient divided by 4 (the convention of openTSNE,
for which the "auto" learning rate N / exaggeration is tuned; Belkina et al. 2019 write
the same rule as N / (4 * exaggeration) with the factor kept).
"""
import math
from dataclasses import dataclass

import numpy as np

from ._ext import _attractive, _optimizer
from .affinity import sum_p_log_p
from .locality import REORDER_EVERY, SpatialOrder

__all__ = ["OptimizationInterrupt", "OptimizerState", "FitObjective", "PartialObjective", "gradient_descent", "kl_divergence", "MIN_GAIN"]

#: Smallest per-coordinate gain of delta-bar-delta.
MIN_GAIN = 0.01


class OptimizationInterrupt(KeyboardInterrupt):
    """Ctrl-C during an optimisation: carries the (usable) result so far.

    Follows openTSNE's model: catch it to keep the work done,

    >>> try:                                           # doctest: +SKIP
    ...     embedding = tsne.fit(X)
    ... except fasttsne.OptimizationInterrupt as interrupt:
    ...     embedding = interrupt.embedding

    Attributes
    ----------
    embedding : Embedding or PartialEmbedding
        The positions reached when the interrupt arrived, with consistent optimiser state.
    kl_divergence : float or None
        Always None: the KL was not computed at the interrupted positions.
    """

    def __init__(self, embedding=None, kl_divergence=None):
        super().__init__("optimisation interrupted; the result so far is in .embedding")
        self.embedding = embedding
        self.kl_divergence = kl_divergence


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


class FitObjective:
    """KL(P || Q) of a whole embedding: attraction over P, repulsion from a backend.

    Parameters
    ----------
    P : (N, N) CSR, int32 indices, summing to 1
    sum_p_log_p : float
        Constant part of the KL.
    gradient : NegativeGradient
    dof : float
    n_jobs : int
    """

    def __init__(self, P, sum_p_log_p, gradient, dof, n_jobs):
        self.P, self.sum_p_log_p, self.gradient, self.dof, self.n_jobs = P, sum_p_log_p, gradient, dof, n_jobs
        self._per_point = np.empty(P.shape[0])
        self._order = None

    def spatial_order(self, n_components):
        """A :class:`~fasttsne.locality.SpatialOrder` for a fit this large, else None.

        While it is entered, :meth:`evaluate` takes positions in its order.
        """
        if not SpatialOrder.worthwhile(self.P.shape[0], n_components):
            return None
        self._order = SpatialOrder(self.P, self.n_jobs)
        return self._order

    def evaluate(self, Y, attractive, repulsive, with_kl):
        """Fill the (N, d) force arrays; return (KL or None, 1 / Z).

        ``repulsive`` is left unnormalised: the step multiplies it by the returned 1 / Z.
        """
        P = self.P if self._order is None or self._order.rows is None else self._order.P_local
        s = _attractive.attractive_forces(P.indptr, P.indices, P.data, Y, self.dof, attractive,
                                          self._per_point, with_kl, self.n_jobs)
        Z = self.gradient(Y, self.dof, repulsive, self.n_jobs)
        # KL(P || Q) = sum p log p - sum p log w + log Z, with the un-exaggerated P (sum P = 1)
        kl = self.sum_p_log_p - s + math.log(Z) if with_kl else None
        return kl, 1.0 / Z


class PartialObjective:
    """Sum over new points of KL(P_i || Q_i), each against the fixed reference.

    Each new point has its own affinity row P_i (summing to 1) over the reference points and
    its own normalisation z_i = sum_j w_ij over the reference, so new points do not interact:
    a batch behaves exactly like its points optimised one by one.

    Parameters
    ----------
    P : (M, N_ref) CSR, int32 indices, rows summing to 1
    Y_ref : (N_ref, d) float64, the fixed reference positions (never modified)
    repulsion : ReferenceRepulsion from the gradient backend's ``reference(Y_ref, dof)``
    dof : float
    n_jobs : int
    """

    def __init__(self, P, Y_ref, repulsion, dof, n_jobs):
        self.P, self.Y_ref, self.repulsion, self.dof, self.n_jobs = P, Y_ref, repulsion, dof, n_jobs
        self.sum_p_log_p = sum_p_log_p(P.data)
        self._per_point = np.empty(P.shape[0])
        self._z = np.empty(P.shape[0])

    def spatial_order(self, n_components):
        """None: new points read the reference, whose order is fixed."""
        return None

    def evaluate(self, Y, attractive, repulsive, with_kl):
        """Fill the (M, d) forces, the repulsion already normalised per point; return (KL or None, 1)."""
        P = self.P
        _attractive.attractive_forces_to_reference(P.indptr, P.indices, P.data, Y, self.Y_ref, self.dof,
                                                   attractive, self._per_point, with_kl, self.n_jobs)
        self.repulsion(Y, repulsive, self._z, self.n_jobs)
        repulsive /= self._z[:, None]
        kl = None
        if with_kl:
            kl = self.sum_p_log_p - float(self._per_point.sum()) + float(np.log(self._z) @ _row_sums(P))
        return kl, 1.0


def _row_sums(P):
    return np.asarray(P.sum(axis=1)).ravel()


def kl_divergence(Y, P, sum_p_log_p, gradient, dof=1.0, n_jobs=1):
    """KL(P || Q) in nats for positions ``Y`` (N, d), using ``gradient`` for Z."""
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    objective = FitObjective(P, sum_p_log_p, gradient, dof, n_jobs)
    return objective.evaluate(Y, np.empty_like(Y), np.empty_like(Y), True)[0]


def gradient_descent(Y, objective, state, n_iter, *, exaggeration=1.0, learning_rate, momentum=0.8,
                     min_gain=MIN_GAIN, max_grad_norm=None, max_step_norm=5.0, n_jobs=1, callbacks=(),
                     callbacks_every_iters=50, center=True, progress=None):
    """Run ``n_iter`` steps, moving ``Y`` and ``state`` in place.

    Parameters
    ----------
    Y : (N, d) float64, C-contiguous
        Positions, updated in place.
    objective : FitObjective or PartialObjective
        Computes the forces (P is never modified: exaggeration multiplies the attraction).
    state : OptimizerState
    n_iter : int
    exaggeration, learning_rate, momentum, min_gain : float
    max_grad_norm, max_step_norm : float or None
        Per-point clipping of the gradient / the step; None disables it.
    n_jobs : int
    callbacks : sequence of callables ``f(iteration, kl, positions) -> bool``
        Called every ``callbacks_every_iters`` iterations (``iteration`` counts the
        embedding's whole history) with the KL at the current positions and a copy of
        them; a callback returning True stops the run.
    center : bool
        Re-centre the positions on the origin after every step (not for new points placed
        into a reference, whose frame is the reference's).
    progress : fasttsne.progress.IterationProgress, optional
        Told of every step taken, with the KL every ``progress.kl_every`` iterations.

    Returns
    -------
    kl : float
        The objective at the final positions.
    stopped : bool
        Whether a callback stopped the run early.

    Raises
    ------
    OptimizationInterrupt
        On Ctrl-C. The kernels run without the GIL but return every iteration, so the
        interrupt is seen within about one iteration, between steps: ``Y`` and ``state`` are
        then consistent (the last step was applied completely or not at all).

    Notes
    -----
    Large fits run on copies of ``Y`` and ``state`` numbered along a space-filling curve
    (:mod:`fasttsne.locality`), written back when the run ends, however it ends.
    """
    args = (n_iter, exaggeration, learning_rate, momentum, min_gain, max_grad_norm, max_step_norm, n_jobs,
            callbacks, callbacks_every_iters, center, progress)
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


def _descend(Y, objective, state, order, n_iter, exaggeration, learning_rate, momentum, min_gain,
             max_grad_norm, max_step_norm, n_jobs, callbacks, callbacks_every_iters, center, progress):
    """:func:`gradient_descent` on positions in the order ``order`` keeps (None: the user's)."""
    attractive = np.empty_like(Y)
    repulsive = np.empty_like(Y)
    gmax = float(max_grad_norm) if max_grad_norm else -1.0
    smax = float(max_step_norm) if max_step_norm else -1.0
    every = max(1, int(callbacks_every_iters))
    start = state.n_iter
    for it in range(n_iter + 1):
        stepped = False
        try:
            due = bool(callbacks) and it > 0 and it % every == 0
            final = it == n_iter
            shown = progress is not None and it > 0 and it % progress.kl_every == 0
            kl, inv_z = objective.evaluate(Y, attractive, repulsive, due or final or shown)
            if progress is not None and it > 0:
                progress.update(kl)
            if due and _run_callbacks(callbacks, state.n_iter, kl,
                                      Y.copy if order is None else lambda: order.user_order(Y)):
                return kl, True
            if final:
                return kl, False
            _optimizer.gradient_step(Y, attractive, repulsive, float(exaggeration), inv_z,
                                     state.update, state.gains, float(learning_rate), float(momentum),
                                     float(min_gain), gmax, smax, n_jobs)
            stepped = True
            if center:
                _center(Y)
            state.n_iter = start + it + 1
            if order is not None and (it + 1) % REORDER_EVERY == 0 and it + 1 < n_iter:
                order.refresh()
        except KeyboardInterrupt:
            # Python raises it between bytecodes, never inside a kernel: a step is either
            # applied completely or not at all; the count is set idempotently to match
            if stepped:
                state.n_iter = start + it + 1
            raise OptimizationInterrupt() from None


def _center(Y):
    _optimizer.center(Y)


def _run_callbacks(callbacks, iteration, kl, positions):
    """Call each callback with its own copy of the positions, from ``positions()`` (a new
    (N, d) array in the user's order each call)."""
    stop = False
    for cb in callbacks:
        stop = bool(cb(iteration, kl, positions())) or stop
    return stop
