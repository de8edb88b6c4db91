"""New points placed into a fixed reference embedding (``Embedding.transform``)."""
import numpy as np

from ._params import PARTIAL_PARAMS, check, doc
from ._positions import PositionsArray
from ._validation import check_positions, check_random_state
from ._sparse import sum_p_log_p
from .optim import OptimizationInterrupt, OptimizerState, PartialObjective, Phase, run_phases

__all__ = ["PartialEmbedding", "initial_partial_positions", "run_stoppable", "SETTLED_STEP", "SETTLE_EVERY"]

#: ``Embedding.transform`` stops moving a new point once its step is shorter than this
#: (embedding units) at a check: most new points reach their place in a fraction of the
#: iterations and then move by less and less, while a few travel far and need all of them
#: (docs/transform.md has the measurements).
SETTLED_STEP = 1e-5
#: Iterations between two checks for settled points.
SETTLE_EVERY = 10


def run_stoppable(target, run, propagate_exception):
    """``run()`` (which returns (kl, stopped)) on ``target``, callback stops handled as openTSNE does.

    A callback that stops the run (returns True, or raises
    :class:`~fasttsne.OptimizationInterrupt`) ends it with the result reached: ``target`` is
    returned, or, with ``propagate_exception``, an OptimizationInterrupt carrying it is raised.
    Ctrl-C always propagates.
    """
    try:
        kl, stopped = run()
    except OptimizationInterrupt as interrupt:
        if propagate_exception or not interrupt.from_callback:
            raise
        return target
    if stopped and propagate_exception:
        interrupt = OptimizationInterrupt(kl, target)
        interrupt.from_callback = True
        raise interrupt
    return target


def initial_partial_positions(initialization, Y_ref, neighbors, P_new, random_state=None):
    """Starting positions of new points.

    Parameters
    ----------
    initialization : "median", "weighted", "random" or (M, d) array
        "median": coordinate-wise median of the positions of each point's k nearest
        reference points; "weighted": the P-weighted mean of its reference neighbours;
        "random": Gaussian with standard deviation 1e-4 around the reference's centre.
    Y_ref : (N_ref, d) float64
    neighbors : (M, k) int
        Indices of each new point's nearest reference points.
    P_new : (M, N_ref) CSR, rows summing to 1

    Returns
    -------
    (M, d) float64
    """
    m, d = P_new.shape[0], Y_ref.shape[1]
    if isinstance(initialization, str):
        if initialization == "median":
            return np.ascontiguousarray(np.median(Y_ref[neighbors], axis=1))
        if initialization == "weighted":
            return np.ascontiguousarray(P_new @ Y_ref)
        if initialization == "random":
            rng = check_random_state(random_state)
            return Y_ref.mean(axis=0) + rng.normal(0.0, 1e-4, size=(m, d))
        raise ValueError(f"unknown initialization {initialization!r}; use 'median', 'weighted', 'random' "
                         f"or an array of shape ({m}, {d}).")
    return check_positions(initialization, m, d)


class PartialEmbedding(PositionsArray):
    """Positions of new points optimised against a fixed reference :class:`Embedding`.

    ``np.asarray(partial)`` is the (M, d) positions (read-only). :meth:`optimize` returns a
    new PartialEmbedding and never touches the reference: its positions, P and optimiser
    state are only read.

    Parameters
    ----------
    positions : (M, d) array
    reference : Embedding
    P : (M, N_ref) CSR, rows summing to 1
        Affinities of the new points to the reference points (explicit zeros are dropped,
        from a copy).
    optimizer_state : OptimizerState, optional
    """

    def __init__(self, positions, reference, P, optimizer_state=None, kl_divergence=None):
        Y = np.array(positions, dtype=np.float64, order="C", copy=True)
        Y.setflags(write=False)
        self._positions = Y
        self.reference = reference
        if P.nnz and not np.all(P.data > 0):
            # explicit zeros (when a new point's nearest reference points lie at distance 0 and
            # the perplexity cannot be reached, its other neighbours' affinities underflow to 0)
            # carry no affinity but make 0 * log 0 = NaN in the KL: drop them, from a copy
            P = P.copy()
            P.eliminate_zeros()
        self.P = P
        self.optimizer_state = optimizer_state or OptimizerState.fresh(*Y.shape)
        self.kl_divergence = kl_divergence

    def __repr__(self):
        return f"PartialEmbedding(n_samples={self.shape[0]}, n_components={self.shape[1]}, n_iter={self.n_iter})"

    @property
    def n_iter(self):
        return self.optimizer_state.n_iter

    def optimize(self, n_iter, *, exaggeration=None, learning_rate=0.1, momentum=0.8, max_grad_norm=0.25,
                 max_step_norm=None, min_gain=0.01, n_jobs=None, callbacks=None, callbacks_every_iters=50,
                 inplace=False, propagate_exception=False):
        """Move the new points for ``n_iter`` iterations (one phase); the reference stays fixed.

        The KL reported is the sum over new points of KL(P_i || Q_i).

        Parameters
        ----------
{params}

        Returns
        -------
        PartialEmbedding
        """
        check(PARTIAL_PARAMS, dict(
            n_iter=n_iter, exaggeration=exaggeration, learning_rate=learning_rate, momentum=momentum,
            max_grad_norm=max_grad_norm, max_step_norm=max_step_norm, min_gain=min_gain, n_jobs=n_jobs,
            callbacks=callbacks, callbacks_every_iters=callbacks_every_iters, inplace=inplace,
            propagate_exception=propagate_exception))
        phase = Phase(n_iter, 1.0 if exaggeration is None else exaggeration, momentum, learning_rate,
                      max_grad_norm, max_step_norm, min_gain)
        target = self if inplace else PartialEmbedding(self._positions, self.reference, self.P,
                                                       self.optimizer_state.copy())
        return run_stoppable(target, lambda: target._run([phase], n_jobs=n_jobs, callbacks=callbacks,
                                                          callbacks_every_iters=callbacks_every_iters),
                             propagate_exception)

    def _run(self, phases, *, n_jobs=None, callbacks=None, callbacks_every_iters=50, settled_step=None):
        """Run ``phases`` on these points, in place; return (kl, stopped) as ``Embedding._run``.

        ``n_jobs`` (None: the reference's) sets the threads of every stage: the reference
        repulsion's build (when not cached yet) and each step. ``settled_step``: a point whose
        step is shorter than this at a check (every ``SETTLE_EVERY`` iterations) stops there
        (see :class:`~fasttsne.optim.PartialObjective`); None: every point runs every iteration.
        """
        ref = self.reference
        threads = ref._threads(n_jobs)
        settle = None if settled_step is None else (self.optimizer_state.update, settled_step, SETTLE_EVERY)
        objective = PartialObjective(self.P, sum_p_log_p(self.P.data), ref.positions,
                                     ref.reference_repulsion(n_jobs), ref.dof, threads, settle=settle)
        Y = self._positions
        Y.setflags(write=True)
        try:
            kl, stopped, _ = run_phases(Y, objective, self.optimizer_state, phases, n_jobs=threads,
                                        callbacks=callbacks, callbacks_every_iters=callbacks_every_iters,
                                        center=False)
        except OptimizationInterrupt as interrupt:
            self.kl_divergence = interrupt.kl_divergence  # None after Ctrl-C; a raising callback's value
            interrupt.embedding = self
            raise
        finally:
            Y.setflags(write=False)
        self.kl_divergence = kl
        return kl, stopped


PartialEmbedding.optimize.__doc__ = PartialEmbedding.optimize.__doc__.format(params=doc(PARTIAL_PARAMS, indent=8))
