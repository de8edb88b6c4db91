"""New points placed into a fixed reference embedding (``Embedding.transform``)."""
from __future__ import annotations

from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from ._params import PARTIAL_PARAMS, check, doc
from ._positions import PositionsArray
from ._validation import check_positions, check_random_state
from ._sparse import sum_p_log_p
from .optim import OptimizerState, PartialObjective, Phase, run_on, run_stoppable

__all__ = ["PartialEmbedding", "initial_partial_positions", "SETTLED_STEP", "SETTLE_EVERY"]

#: What a ``callbacks`` argument may be: one ``f(iteration, kl, positions)`` or several.
Callbacks = Union[None, Callable[..., Any], Iterable[Callable[..., Any]]]

#: ``Embedding.transform`` stops moving a new point once its step is shorter than this
#: (embedding units) at a check: most new points reach their place in a fraction of the
#: iterations and then move by less and less, while a few travel far and need all of them
#: (docs/transform.md has the measurements).
SETTLED_STEP = 1e-5
#: Iterations between two checks for settled points.
SETTLE_EVERY = 10


def initial_partial_positions(initialization: Union[str, ArrayLike], Y_ref: np.ndarray,
                              neighbors: Optional[np.ndarray], P_new: sp.csr_matrix,
                              random_state: Any = None) -> np.ndarray:
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

    def __init__(self, positions: ArrayLike, reference: Any, P: sp.csr_matrix,
                 optimizer_state: Optional[OptimizerState] = None, kl_divergence: Optional[float] = None) -> None:
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

    def __repr__(self) -> str:
        return f"PartialEmbedding(n_samples={self.shape[0]}, n_components={self.shape[1]}, n_iter={self.n_iter})"

    @property
    def n_iter(self) -> int:
        return self.optimizer_state.n_iter

    def optimize(self, n_iter: int, *, exaggeration: Optional[float] = None, learning_rate: float = 0.1,
                 momentum: float = 0.8, max_grad_norm: Optional[float] = 0.25, max_step_norm: Optional[float] = None,
                 min_gain: float = 0.01, n_jobs: Optional[int] = None, callbacks: Callbacks = None,
                 callbacks_every_iters: int = 50, inplace: bool = False,
                 propagate_exception: bool = False) -> PartialEmbedding:
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

    def _run(self, phases: Sequence[Phase], *, n_jobs: Optional[int] = None, callbacks: Callbacks = None,
             callbacks_every_iters: int = 50, settled_step: Optional[float] = None) -> Tuple[Optional[float], bool]:
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
        return run_on(self, self._positions, objective, phases, n_jobs=threads, callbacks=callbacks,
                      callbacks_every_iters=callbacks_every_iters, center=False)


PartialEmbedding.optimize.__doc__ = (PartialEmbedding.optimize.__doc__ or "").format(
    params=doc(PARTIAL_PARAMS, indent=8))
