"""scikit-learn's t-SNE schedule on a fasttsne Embedding: two phases and two stopping rules.

``sklearn.manifold.TSNE`` runs an exploration phase (early exaggeration, momentum 0.5) and
then the main phase (momentum 0.8) up to ``max_iter`` iterations in total. Every 50
iterations (counted over the whole run) it checks two rules:

- no progress: the phase's best KL is more than ``n_iter_without_progress`` iterations old
  (main phase only: in the exploration phase scikit-learn's patience is the phase length);
- small gradient: the norm of the gradient, multiplied by the delta-bar-delta gains and on
  scikit-learn's scale (4 times fasttsne's), is at most ``min_grad_norm`` (both phases).

A stop in the exploration phase still leads to the main phase, as in scikit-learn.

The phases run as :meth:`Embedding.optimize` calls that end on every multiple of 50, so at
each check the optimiser state (the gains) and the KL are those of the embedding itself,
whatever the size of the fit. One check evaluates the objective at the positions after
its 50th step (scikit-learn's check uses the positions just before that step); the number
of steps taken before a stop is the same.
"""
import math
import time

import numpy as np

from ._threads import effective_n_jobs
from .optim import FitObjective

__all__ = ["CHECK_EVERY", "SKLEARN_GRADIENT_SCALE", "run_schedule", "scaled_gradient_norm"]

#: Iterations between two checks of the stopping rules (scikit-learn's ``_N_ITER_CHECK``).
CHECK_EVERY = 50
#: scikit-learn's KL gradient is this many times fasttsne's (which is divided by 4).
SKLEARN_GRADIENT_SCALE = 4.0


def scaled_gradient_norm(embedding, exaggeration):
    """The gradient norm scikit-learn compares with ``min_grad_norm``.

    Parameters
    ----------
    embedding : fasttsne.Embedding
        Its positions, P, repulsion backend and optimiser gains are read, not changed.
    exaggeration : float
        The exaggeration of the phase (scikit-learn's gradient is that of the exaggerated P).

    Returns
    -------
    float
        ``|| 4 * g * gains ||`` over all N x d coordinates, ``g`` fasttsne's gradient (the KL
        gradient divided by 4), unclipped.
    """
    Y = np.array(embedding, dtype=np.float64, order="C")
    objective = FitObjective(embedding.P, embedding.affinities.sum_p_log_p, embedding.gradient, embedding.dof,
                             effective_n_jobs(embedding.n_jobs))
    attractive, repulsive = np.empty_like(Y), np.empty_like(Y)
    _, inv_z = objective.evaluate(Y, attractive, repulsive, False)
    gradient = exaggeration * attractive - inv_z * repulsive
    gradient *= embedding.optimizer_state.gains
    return SKLEARN_GRADIENT_SCALE * float(np.linalg.norm(gradient))


def run_schedule(embedding, *, exploration_iter, max_iter, early_exaggeration, exaggeration, learning_rate,
                 initial_momentum, final_momentum, n_iter_without_progress, min_grad_norm, verbose=0,
                 **step_params):
    """Optimise ``embedding`` in place with scikit-learn's schedule and stopping rules.

    Parameters
    ----------
    embedding : fasttsne.Embedding
        Freshly initialised (``n_iter == 0``); optimised in place.
    exploration_iter : int >= 0
        Length of the exploration phase (scikit-learn: 250).
    max_iter : int >= exploration_iter
        Iterations in total, exploration included.
    early_exaggeration : float
        Exaggeration of the exploration phase.
    exaggeration : float or None
        Exaggeration of the main phase (None: 1, scikit-learn's).
    learning_rate : float
        On fasttsne's scale (4 times scikit-learn's), the same in both phases.
    initial_momentum, final_momentum : float
        Momentum of the exploration / main phase (scikit-learn: 0.5, 0.8).
    n_iter_without_progress : int >= -1
    min_grad_norm : float >= 0
    verbose : int
        >= 1: one line per phase; >= 2: one line per check, as scikit-learn prints.
    **step_params
        ``max_grad_norm``, ``max_step_norm`` for :meth:`Embedding.optimize`.

    Returns
    -------
    kl_divergence : float
        KL(P || Q) at the final positions, nats.
    """
    common = dict(learning_rate=learning_rate, min_grad_norm=min_grad_norm, verbose=verbose, **step_params)
    _phase(embedding, exploration_iter, early_exaggeration, initial_momentum, None, **common)
    if verbose and exploration_iter > 0:
        print(f"[t-SNE] KL divergence after {embedding.n_iter} iterations with early exaggeration: "
              f"{embedding.kl_divergence:f}", flush=True)
    _phase(embedding, max_iter, exaggeration, final_momentum, n_iter_without_progress, **common)
    if verbose:
        print(f"[t-SNE] KL divergence after {embedding.n_iter} iterations: {embedding.kl_divergence:f}",
              flush=True)
    return embedding.kl_divergence


def _phase(embedding, end, exaggeration, momentum, patience, *, learning_rate, min_grad_norm, verbose,
           **step_params):
    """Run until ``end`` iterations in total or a stopping rule; ``patience`` None: no progress rule."""
    start = embedding.n_iter
    if end <= start:
        # a phase with no iterations still leaves the KL at the current positions known
        if embedding.kl_divergence is None:
            embedding.optimize(0, exaggeration=exaggeration, inplace=True)
        return
    best_kl, best_iter = math.inf, start
    tic = time.perf_counter()
    while embedding.n_iter < end:
        done = embedding.n_iter
        steps = min(CHECK_EVERY - done % CHECK_EVERY, end - done)
        embedding.optimize(steps, exaggeration=exaggeration, learning_rate=learning_rate, momentum=momentum,
                           inplace=True, **step_params)
        done = embedding.n_iter
        if done % CHECK_EVERY:
            continue  # the phase ended between two checks
        kl = embedding.kl_divergence
        grad_norm = scaled_gradient_norm(embedding, 1.0 if exaggeration is None else exaggeration)
        if verbose >= 2:
            toc = time.perf_counter()
            print(f"[t-SNE] Iteration {done}: error = {kl:.7f}, gradient norm = {grad_norm:.7f} "
                  f"({CHECK_EVERY} iterations in {toc - tic:.3f}s)", flush=True)
            tic = toc
        if kl < best_kl:
            best_kl, best_iter = kl, done
        elif patience is not None and done - best_iter > patience:
            if verbose >= 2:
                print(f"[t-SNE] Iteration {done}: did not make any progress during the last "
                      f"{patience} episodes. Finished.", flush=True)
            return
        if grad_norm <= min_grad_norm:
            if verbose >= 2:
                print(f"[t-SNE] Iteration {done}: gradient norm {grad_norm:f}. Finished.", flush=True)
            return
