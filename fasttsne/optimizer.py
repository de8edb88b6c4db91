"""Gradient descent for t-SNE: momentum, delta-bar-delta gains, per-point clipping.

All gradients in fasttsne are the KL gradient divided by 4 (the convention of openTSNE,
for which the "auto" learning rate N / exaggeration is tuned; Belkina et al. 2019 write
the same rule as N / (4 * exaggeration) with the factor kept).
"""
import math
from dataclasses import dataclass

import numpy as np

from ._ext import _attractive, _optimizer

__all__ = ["OptimizerState", "gradient_descent", "kl_divergence", "MIN_GAIN"]

#: Smallest per-coordinate gain of delta-bar-delta.
MIN_GAIN = 0.01


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


class _Workspace:
    """Per-run scratch arrays, allocated once, reused every iteration."""

    def __init__(self, n, d):
        self.attractive = np.empty((n, d))
        self.repulsive = np.empty((n, d))
        self.per_point = np.empty(n)


def _objective_parts(Y, P, gradient, dof, ws, n_jobs, with_kl):
    """Fill the workspace's forces; return (sum p log w, Z)."""
    s = _attractive.attractive_forces(P.indptr, P.indices, P.data, Y, dof, ws.attractive,
                                      ws.per_point, with_kl, n_jobs)
    Z = gradient(Y, dof, ws.repulsive, n_jobs)
    return s, Z


def _kl(sum_p_log_p, sum_p_log_w, Z):
    # KL(P || Q) = sum p log p - sum p log w + log Z, with the un-exaggerated P (sum P = 1)
    return sum_p_log_p - sum_p_log_w + math.log(Z)


def kl_divergence(Y, P, sum_p_log_p, gradient, dof=1.0, n_jobs=1):
    """KL(P || Q) in nats for positions ``Y`` (N, d), using ``gradient`` for Z."""
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    ws = _Workspace(*Y.shape)
    s, Z = _objective_parts(Y, P, gradient, dof, ws, n_jobs, True)
    return _kl(sum_p_log_p, s, Z)


def gradient_descent(Y, P, sum_p_log_p, state, n_iter, *, gradient, exaggeration=1.0,
                     learning_rate, momentum=0.8, min_gain=MIN_GAIN, max_grad_norm=None,
                     max_step_norm=5.0, dof=1.0, n_jobs=1, callbacks=(), callbacks_every_iters=50,
                     center=True):
    """Run ``n_iter`` steps, moving ``Y`` and ``state`` in place.

    Parameters
    ----------
    Y : (N, d) float64, C-contiguous
        Positions, updated in place.
    P : (N, N) CSR, int32 indices
        Symmetric affinities summing to 1 (never modified; exaggeration multiplies forces).
    sum_p_log_p : float
        Constant part of the KL.
    state : OptimizerState
    n_iter : int
    gradient : NegativeGradient
    exaggeration, learning_rate, momentum, min_gain : float
    max_grad_norm, max_step_norm : float or None
        Per-point clipping of the gradient / the step; None disables it.
    dof : float
    n_jobs : int
    callbacks : sequence of callables ``f(iteration, kl, positions) -> bool``
        Called every ``callbacks_every_iters`` iterations (``iteration`` counts the
        embedding's whole history) with the KL at the current positions and a copy of
        them; a callback returning True stops the run.
    center : bool
        Re-centre the positions on the origin after every step.

    Returns
    -------
    kl : float
        KL(P || Q) at the final positions.
    stopped : bool
        Whether a callback stopped the run early.
    """
    n, d = Y.shape
    ws = _Workspace(n, d)
    gmax = float(max_grad_norm) if max_grad_norm else -1.0
    smax = float(max_step_norm) if max_step_norm else -1.0
    every = max(1, int(callbacks_every_iters))
    for it in range(n_iter + 1):
        due = bool(callbacks) and it > 0 and it % every == 0
        final = it == n_iter
        s, Z = _objective_parts(Y, P, gradient, dof, ws, n_jobs, due or final)
        if due or final:
            kl = _kl(sum_p_log_p, s, Z)
            if due and _run_callbacks(callbacks, state.n_iter, kl, Y):
                return kl, True
            if final:
                return kl, False
        _optimizer.gradient_step(Y, ws.attractive, ws.repulsive, float(exaggeration), 1.0 / Z,
                                 state.update, state.gains, float(learning_rate), float(momentum),
                                 float(min_gain), gmax, smax, n_jobs)
        if center:
            Y -= Y.mean(axis=0)
        state.n_iter += 1


def _run_callbacks(callbacks, iteration, kl, Y):
    stop = False
    for cb in callbacks:
        stop = bool(cb(iteration, kl, Y.copy())) or stop
    return stop
