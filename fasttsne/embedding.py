"""The Embedding: positions, the affinities behind them, and the optimiser state."""
from __future__ import annotations

import copy
import dataclasses
import functools
import os
import threading
import warnings
from typing import IO, Any, Callable, Dict, Iterable, Optional, Sequence, Tuple, Union, cast

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import gradients as _gradients, persist, registry
from ._params import (GRADIENT_PARAM_NAMES, GRID_PARAMS, OPTIMIZE_PARAMS, PREPARE_PARTIAL_PARAMS, TRANSFORM_PARAMS,
                      TSNE_PARAMS, InvalidParameterError, check, doc, resolved)
from ._threads import effective_n_jobs
from ._positions import PositionsArray
from ._validation import check_data
from .optim import (AUTO, FitObjective, KLHistory, OptimizerState, Phase, run_on, run_stoppable,
                    transform_schedule)
from .affinity import AffinityModel
from .gradients.base import NegativeGradient, ReferenceRepulsion
from .partial import SETTLED_STEP, Callbacks, PartialEmbedding, initial_partial_positions
from .quality import QualityReport, report

__all__ = ["Embedding"]


#: What an Embedding's constructor stores for :meth:`Embedding.optimize` (openTSNE's
#: ``gradient_descent_params``).
STORED_OPTIMIZE_PARAMS = ("exaggeration", "learning_rate", "momentum", "max_grad_norm", "max_step_norm", "min_gain",
                          "callbacks", "callbacks_every_iters", "verbose", "tol", "max_iter") + GRADIENT_PARAM_NAMES


def _with_stored_defaults(optimize: Callable[..., Embedding]) -> Callable[..., Embedding]:
    """``optimize`` with the embedding's stored defaults filling the keywords not given
    (the signature, read through ``__wrapped__``, still shows the table's defaults)."""
    @functools.wraps(optimize)
    def with_defaults(self: Embedding, *args: Any, **kwargs: Any) -> Embedding:
        return optimize(self, *args, **{**(self.optimize_params or {}), **kwargs})
    return with_defaults


class Embedding(PositionsArray):
    """A t-SNE embedding that can be continued (:meth:`optimize`).

    ``np.asarray(embedding)`` is the (N, d) float64 array of positions (read-only: the
    Embedding never changes once made; :meth:`optimize` returns a new one).

    Parameters
    ----------
    positions : (N, d) array
    affinities : AffinityModel
        Fitted model holding P and the neighbour index.
    negative_gradient_method : str or NegativeGradient, default "auto"
        A backend instance is copied, so one instance can be given to several embeddings,
        also ones optimised in parallel threads.
    gradient_params : dict, optional
        Parameters of the gradient backend (theta, n_interpolation_points, ...).
    dof : float, default 1
        Degrees of freedom of the output kernel (1 is standard t-SNE; < 1 heavier tails).
    n_jobs : None or int, default 1
        Threads, kept (and saved) as given and resolved at each call, so a map saved with
        ``n_jobs=-1`` uses the cores of the machine that loads it.
    random_state : None, int or Generator
    optimizer_state : OptimizerState, optional
    kl_divergence : float, optional
        KL(P || Q) at these positions, if known.
    n_features : int, optional
        Number of features of the data the affinities were computed from; new points
        given to :meth:`transform` must have as many.
    **optimize_params
        openTSNE's ``TSNEEmbedding(embedding, affinities, learning_rate=..., ...)``: defaults
        of :meth:`optimize` for this embedding and the copies it returns, each overridden by
        the same keyword given to a call. Any of ``exaggeration``, ``learning_rate``,
        ``momentum``, ``max_grad_norm``, ``max_step_norm``, ``min_gain``, ``callbacks``,
        ``callbacks_every_iters``, ``verbose``, ``tol``, ``max_iter``; ``theta``,
        ``n_interpolation_points``, ``min_num_intervals`` and ``ints_in_interval`` join
        ``gradient_params``. Checked here, as :meth:`optimize` checks them. Saved with the
        map, except that a map storing ``callbacks`` (code) cannot be saved.

    Attributes
    ----------
    P : scipy.sparse.csr_matrix, the affinities' P.
    kl_divergence : float or None
    n_iter : int, iterations done so far.
    phases_ : tuple of fasttsne.optim.Phase
        The phases run so far, each with the learning rate actually used ("auto" resolved).
    learning_rate_ : float or None
        The learning rate of the last phase run.
    kl_history : KLHistory
        KL by iteration over the whole optimisation (``iterations``, ``values``; saved with
        the map); ``embedding.kl_history.plot()`` draws it.
    """

    _positions: np.ndarray
    affinities: AffinityModel
    negative_gradient_method: Union[str, NegativeGradient]
    gradient_params: Dict[str, Any]
    dof: float
    n_jobs: Optional[int]
    random_state: Any
    optimizer_state: OptimizerState
    kl_divergence: Optional[float]
    n_features: Optional[int]
    optimize_params: Optional[Dict[str, Any]] = None  # None in maps saved before it existed
    phases_: Tuple[Phase, ...]
    _gradient: Optional[NegativeGradient]
    _kl_iterations: np.ndarray
    _kl_values: np.ndarray
    _reference_cache: Optional[Tuple[NegativeGradient, float, ReferenceRepulsion]]

    def __init__(self, positions: ArrayLike, affinities: AffinityModel, *,
                 negative_gradient_method: Union[str, NegativeGradient] = "auto",
                 gradient_params: Optional[Dict[str, Any]] = None, dof: float = 1.0, n_jobs: Optional[int] = 1,
                 random_state: Any = None, optimizer_state: Optional[OptimizerState] = None,
                 kl_divergence: Optional[float] = None, n_features: Optional[int] = None,
                 **optimize_params: Any) -> None:
        Y = np.array(positions, dtype=np.float64, order="C", copy=True)
        if Y.ndim != 2 or affinities.P is None or Y.shape[0] != affinities.P.shape[0]:
            raise ValueError(f"positions of shape {Y.shape} do not match the affinities "
                             f"({None if affinities.P is None else affinities.P.shape[0]} points).")
        Y.setflags(write=False)
        self._positions = Y
        self.affinities = affinities
        self.negative_gradient_method = _own_backend(negative_gradient_method)
        self.gradient_params = dict(gradient_params or {})
        check(TSNE_PARAMS, {"dof": dof, "n_jobs": n_jobs})
        unknown = sorted(set(optimize_params) - set(STORED_OPTIMIZE_PARAMS))
        if unknown:
            raise InvalidParameterError(f"Embedding does not take {', '.join(unknown)}; it stores as optimize "
                                        f"defaults: {', '.join(STORED_OPTIMIZE_PARAMS)}.")
        check(OPTIMIZE_PARAMS, optimize_params)
        # openTSNE's gradient parameters go with the backend; the descent ones wait for optimize
        self.gradient_params.update({name: optimize_params.pop(name) for name in GRADIENT_PARAM_NAMES
                                     if optimize_params.get(name) is not None})
        self.optimize_params = {name: value for name, value in optimize_params.items()
                                if name not in GRADIENT_PARAM_NAMES}
        self.dof = dof
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.optimizer_state = optimizer_state or OptimizerState.fresh(*Y.shape)
        self.kl_divergence = kl_divergence
        self.n_features = n_features
        self.phases_ = ()
        self._gradient = None
        self._kl_iterations = np.empty(0, dtype=np.int64)
        self._kl_values = np.empty(0)

    # ---------------------------------------------------------------- array-like
    def __repr__(self) -> str:
        kl = "unknown" if self.kl_divergence is None else f"{self.kl_divergence:.4f}"
        return f"Embedding(n_samples={self.shape[0]}, n_components={self.shape[1]}, n_iter={self.n_iter}, kl={kl})"

    @property
    def P(self) -> sp.csr_matrix:
        return self.affinities.P

    @property
    def n_iter(self) -> int:
        return self.optimizer_state.n_iter

    @property
    def kl_history(self) -> KLHistory:
        """KL(P || Q) by iteration (a :class:`~fasttsne.optim.KLHistory` of copies)."""
        d = self.__dict__
        iterations = d.get("_kl_iterations", np.empty(0, dtype=np.int64))
        return KLHistory(np.array(iterations, dtype=np.int64), np.array(d.get("_kl_values", ()), dtype=np.float64))

    def _record_kl(self, pairs: Iterable[Tuple[int, float]]) -> None:
        """Add ``(iteration, kl)`` pairs to :attr:`kl_history` (a later value of an iteration wins)."""
        old = self.kl_history
        merged = KLHistory.from_pairs(list(zip(old.iterations.tolist(), old.values.tolist())) + list(pairs))
        self._kl_iterations, self._kl_values = merged

    @property
    def learning_rate_(self) -> Optional[float]:
        return cast(float, self.phases_[-1].learning_rate) if self.phases_ else None

    def _threads(self, n_jobs: Optional[int] = None) -> int:
        """Threads for the work now: ``n_jobs`` when given, else this embedding's, resolved now."""
        return effective_n_jobs(self.n_jobs if n_jobs is None else n_jobs)

    @property
    def gradient(self) -> NegativeGradient:
        """The resolved negative-gradient backend (built on first use)."""
        with self._lock():
            if self._gradient is None:
                n, d = self.shape
                self._gradient = _gradients.get_gradient(self.negative_gradient_method, n_samples=n,
                                                         n_components=d, defaults=self.gradient_params)
            return self._gradient

    def _lock(self) -> Any:
        """This embedding's lock for building its caches (created on first use)."""
        lock = self.__dict__.get("_cache_lock")
        if lock is None:
            with _LOCK_CREATION:
                lock = self.__dict__.setdefault("_cache_lock", threading.RLock())
        return lock

    # ---------------------------------------------------------------- optimisation
    @_with_stored_defaults
    def optimize(self, n_iter: Union[int, str], *, exaggeration: Optional[float] = None,
                 anneal_from: Optional[float] = None, anneal_iter: int = 0,
                 learning_rate: Union[float, str] = "auto", momentum: float = 0.8,
                 max_grad_norm: Optional[float] = None, max_step_norm: Optional[float] = 5.0,
                 min_gain: float = 0.01, dof: Optional[float] = None,
                 negative_gradient_method: Union[None, str, NegativeGradient] = None, n_jobs: Optional[int] = None,
                 callbacks: Callbacks = None, callbacks_every_iters: int = 50, inplace: bool = False,
                 verbose: bool = False, tol: float = 1e-3, max_iter: int = 2000, propagate_exception: bool = False,
                 theta: Optional[float] = None, n_interpolation_points: Optional[int] = None,
                 min_num_intervals: Optional[int] = None, ints_in_interval: Optional[float] = None) -> Embedding:
        """Continue the optimisation for ``n_iter`` iterations (one phase), or until KL has
        converged (``n_iter="auto"``).

        Parameters
        ----------
{params}

        Returns
        -------
        Embedding
            A new one (this one is unchanged) unless ``inplace``; its ``learning_rate_`` is
            the learning rate used.

        Raises
        ------
        InvalidParameterError
            For a bad parameter value, before any iteration.
        DivergenceError
            When a step would take positions out of float64's range (a learning rate far
            too large); the positions stay finite.
        OptimizationInterrupt
            On Ctrl-C, within about one iteration; its ``embedding`` attribute holds the
            result so far (a new Embedding unless ``inplace``).
        """
        params = check(OPTIMIZE_PARAMS, dict(
            n_iter=n_iter, exaggeration=exaggeration, anneal_from=anneal_from, anneal_iter=anneal_iter,
            learning_rate=learning_rate, momentum=momentum,
            max_grad_norm=max_grad_norm, max_step_norm=max_step_norm, min_gain=min_gain, dof=dof,
            negative_gradient_method=negative_gradient_method, n_jobs=n_jobs, callbacks=callbacks,
            callbacks_every_iters=callbacks_every_iters, inplace=inplace, verbose=verbose, tol=tol,
            max_iter=max_iter, propagate_exception=propagate_exception, theta=theta,
            n_interpolation_points=n_interpolation_points, min_num_intervals=min_num_intervals,
            ints_in_interval=ints_in_interval))
        new_gradient_params = {name: params[name] for name in GRADIENT_PARAM_NAMES if params[name] is not None}
        auto = n_iter == AUTO
        phase = Phase(max_iter if auto else cast(int, n_iter), 1.0 if exaggeration is None else exaggeration, momentum,
                      learning_rate, max_grad_norm, max_step_norm, min_gain, until="converged" if auto else None,
                      tol=tol if auto else None, anneal_from=anneal_from if anneal_iter else None,
                      anneal_iter=anneal_iter if anneal_from is not None else 0)
        target = self if inplace else self._copy()
        if dof is not None:
            target.dof = dof
        if negative_gradient_method is not None or new_gradient_params:
            if negative_gradient_method is not None:
                target.negative_gradient_method = _own_backend(negative_gradient_method)
            target.gradient_params.update(new_gradient_params)
            target._gradient = None
            target._resolve_gradient()  # a bad name or dimension fails before any iteration
        if n_jobs is not None:
            target.n_jobs = n_jobs
        return run_stoppable(target, lambda: target._run([phase], callbacks=params["callbacks"],
                                                          callbacks_every_iters=callbacks_every_iters,
                                                          verbose=verbose),
                             propagate_exception)

    def _resolve_gradient(self) -> NegativeGradient:
        """:attr:`gradient`, a name or dimension it cannot serve reported as a parameter error."""
        return resolved(getattr, self, "gradient")

    def _run(self, phases: Sequence[Phase], *, n_jobs: Optional[int] = None, callbacks: Callbacks = None,
             callbacks_every_iters: int = 50, verbose: bool = False) -> Tuple[Optional[float], bool]:
        """Run ``phases`` (:class:`~fasttsne.optim.Phase`) on this embedding, in place.

        Returns
        -------
        kl : float
        stopped : bool
            Whether a callback stopped the run (the later phases were then not run).
        """
        threads = self._threads(n_jobs)
        phases = [p.resolved(self.shape[0]) for p in phases]
        objective = FitObjective(self.P, self.affinities.sum_p_log_p, self._resolve_gradient(), self.dof, threads)
        ran: list = []
        history: list = []
        start = self.optimizer_state.n_iter
        try:
            return run_on(self, self._positions, objective, phases, n_jobs=threads, callbacks=callbacks,
                          callbacks_every_iters=callbacks_every_iters, verbose=verbose, ran=ran, history=history)
        finally:
            # a phase cut short by an exception is recorded with the iterations it ran
            cut = self.optimizer_state.n_iter - start - sum(p.n_iter for p in ran)
            if cut > 0 and len(ran) < len(phases):
                ran.append(dataclasses.replace(phases[len(ran)], n_iter=cut))
            self.phases_ = tuple(self.phases_) + tuple(ran)
            self._record_kl(history)
            self._reference_cache = None  # built from positions that have moved

    # ---------------------------------------------------------------- new points
    def reference_repulsion(self, n_jobs: Optional[int] = None) -> ReferenceRepulsion:
        """The repulsion of these (fixed) positions on new points, built once and cached.

        Thread-safe: concurrent ``transform`` calls on one Embedding build it once and share
        it (it is only read afterwards). ``n_jobs``: threads of the build (None: this
        embedding's), which do not change the result. :meth:`prepare_interpolation_grid`
        builds it ahead, with a padding of one's choice.
        """
        with self._lock():
            cache = getattr(self, "_reference_cache", None)
            # keyed by the backend object itself (not its id, which a new one could reuse)
            if cache is None or cache[0] is not self.gradient or cache[1] != self.dof:
                return self._build_reference(n_jobs)
            return cache[2]

    def _build_reference(self, n_jobs: Optional[int], **options: Any) -> ReferenceRepulsion:
        """Build and cache the reference repulsion (``options``: the backend's, e.g. padding)."""
        gradient = self.gradient
        built = gradient.reference(self._positions, self.dof, self._threads(n_jobs), **options)
        self._reference_cache = (gradient, self.dof, built)
        return built

    def prepare_interpolation_grid(self, padding: float = 0.2, *, n_jobs: Optional[int] = None) -> None:
        """Build now the interpolation grid that :meth:`transform` places new points with.

        openTSNE's method: with the FFT repulsion ("fft", or "auto" where it picks it), the
        map's grid potentials are computed once here, on a grid padded by ``padding``, and
        every later ``transform`` and ``PartialEmbedding.optimize`` of this Embedding reuses
        them. Without it the first ``transform`` builds the same grid at the default padding.
        Other repulsion backends have no grid: the call then does nothing and warns. Unlike
        openTSNE's, it does not move the map (openTSNE centres it first), and new points
        beyond the grid are summed exactly rather than kept inside it. The grid is not saved
        with the map (prepare it again after loading).

        Parameters
        ----------
{params}

        Raises
        ------
        InvalidParameterError
            For a bad value, before any work.
        """
        check(GRID_PARAMS, dict(padding=padding, n_jobs=n_jobs))
        with self._lock():
            gradient = self._resolve_gradient()
            if not gradient.reference_grid:
                warnings.warn(f"prepare_interpolation_grid: this map's repulsion backend is {gradient.name!r}, "
                              "which places new points without an interpolation grid (only 'fft' has one); "
                              "nothing was prepared.", UserWarning, stacklevel=2)
                return
            self._build_reference(n_jobs, padding=padding)

    def prepare_partial(self, X_new: Optional[ArrayLike] = None, *, X: Optional[ArrayLike] = None,
                        initialization: Union[str, ArrayLike] = "median", k: int = 25,
                        perplexity: Optional[float] = None, random_state: Any = None,
                        n_jobs: Optional[int] = None) -> PartialEmbedding:
        """Affinities and initial positions of new points, ready for ``.optimize``.

        Parameters
        ----------
        X_new : (M, D) array-like, M >= 1, same features as the reference data
        X : (M, D) array-like
            openTSNE's name of ``X_new``; give one or the other.
{params}

        Returns
        -------
        PartialEmbedding
        """
        check(PREPARE_PARTIAL_PARAMS, dict(initialization=initialization, k=k, perplexity=perplexity,
                                           random_state=random_state, n_jobs=n_jobs))
        X_new = _new_points(X_new, X)
        index = self.affinities.index
        if index is None:
            raise ValueError("these affinities have no neighbour index (e.g. precomputed P), so new points "
                             "cannot be placed; pass initialization positions and affinities yourself.")
        X_new = check_data(X_new, name="X_new", accept_sparse=getattr(index, "supports_sparse", False),
                           min_samples=1)
        if self.n_features is not None and X_new.shape[1] != self.n_features:
            raise ValueError(f"X_new has {X_new.shape[1]} features but the reference was fitted on "
                             f"{self.n_features}.")
        if random_state is None:  # the embedding's own seed, so repeated calls agree
            random_state = self.random_state
        params = {} if perplexity is None else {"perplexity": perplexity}
        median = isinstance(initialization, str) and initialization == "median"
        k = int(min(k, self.shape[0])) if median else 0
        # one query for what the median and the affinities both need
        found = self.affinities.neighbors_of(X_new, max(k, self.affinities.neighbors_needed(**params)),
                                             n_jobs=n_jobs)
        P_new = self.affinities.to_new(X_new, neighbors=found, n_jobs=n_jobs, **params)
        Y0 = initial_partial_positions(initialization, self._positions, found[0][:, :k] if median else None,
                                       P_new, random_state)
        return PartialEmbedding(Y0, self, P_new)

    def transform(self, X_new: Optional[ArrayLike] = None, *, X: Optional[ArrayLike] = None,
                  perplexity: Optional[float] = None, initialization: Union[str, ArrayLike] = "median", k: int = 25,
                  learning_rate: float = 0.1, early_exaggeration: float = 4.0, early_exaggeration_iter: int = 0,
                  exaggeration: Optional[float] = 1.5, n_iter: int = 250, initial_momentum: float = 0.8,
                  final_momentum: float = 0.8, max_grad_norm: Optional[float] = 0.25,
                  max_step_norm: Optional[float] = None, n_jobs: Optional[int] = None, random_state: Any = None,
                  callbacks: Callbacks = None, callbacks_every_iters: int = 50) -> Any:
        """Place new points into this embedding without moving it.

        The new points' affinities to the reference come from the reference's own neighbour
        index and affinity model (same metric and preprocessing as at fit time). Only the new
        points move: they are attracted to their reference neighbours and repelled by the
        reference (not by each other), so a batch gives what its points give one by one.
        Defaults follow openTSNE's.

        Parameters
        ----------
        X_new : (M, D) array-like, M >= 1
            Same features as the reference data. Any real dtype, memory layout, memmap or
            DataFrame is accepted (and never modified); sparse input where the reference's
            neighbour backend takes it.
        X : (M, D) array-like
            openTSNE's name of ``X_new``; give one or the other.
{params}

        Returns
        -------
        (M, d) float64 ndarray
            Or, for a ``dask.array.Array`` ``X_new``, a lazy one with its row chunks (see
            :func:`fasttsne.dask.transform`).

        Raises
        ------
        InvalidParameterError
            For a bad parameter value, before any work.
        DivergenceError
            When a step would take the new points out of float64's range (a learning rate
            far too large).
        ValueError
            When ``X_new`` is not 2-D (a single point must be passed as one row,
            ``x.reshape(1, -1)``), has no rows (an empty batch is an error, as in
            scikit-learn, rather than an empty result), has a different number of features
            than the reference, or holds NaN or infinite values.
        """
        given = dict(
            perplexity=perplexity, initialization=initialization, k=k, learning_rate=learning_rate,
            early_exaggeration=early_exaggeration, early_exaggeration_iter=early_exaggeration_iter,
            exaggeration=exaggeration, n_iter=n_iter, initial_momentum=initial_momentum,
            final_momentum=final_momentum, max_grad_norm=max_grad_norm, max_step_norm=max_step_norm,
            n_jobs=n_jobs, random_state=random_state, callbacks=callbacks,
            callbacks_every_iters=callbacks_every_iters)
        params = check(TRANSFORM_PARAMS, given)
        X_new = _new_points(X_new, X)
        if hasattr(X_new, "__dask_graph__"):  # a Dask array: a lazy result, chunk by chunk (fasttsne.dask)
            from .dask import transform as transform_chunks
            return transform_chunks(self, X_new, **given)
        partial = self.prepare_partial(X_new, initialization=initialization, k=k, perplexity=perplexity,
                                       random_state=random_state, n_jobs=n_jobs)
        partial._run(transform_schedule(**params), n_jobs=n_jobs, callbacks=callbacks,
                     callbacks_every_iters=callbacks_every_iters, settled_step=SETTLED_STEP)
        return np.array(partial)

    # ---------------------------------------------------------------- copies
    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        state["_gradient"] = None  # scratch buffers and caches are rebuilt on demand
        state["_reference_cache"] = None
        state.pop("_cache_lock", None)
        state["phases_"] = [p.to_dict() for p in self.__dict__.get("phases_", ())]
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        """Restore from pickle or :func:`fasttsne.load`, checking the pieces fit together."""
        positions = np.array(state.get("_positions"), dtype=np.float64, order="C")
        affinities = state.get("affinities")
        P = getattr(affinities, "P", None)
        opt = state.get("optimizer_state")
        if positions.ndim != 2 or P is None or P.shape != (positions.shape[0],) * 2:
            raise ValueError("inconsistent embedding state: positions and P do not match.")
        if opt is None or opt.gains.shape != positions.shape or opt.update.shape != positions.shape:
            raise ValueError("inconsistent embedding state: optimizer state does not match the positions.")
        if not np.all(np.isfinite(positions)):
            raise ValueError("inconsistent embedding state: non-finite positions.")
        positions.setflags(write=False)
        self.__dict__.update(state)
        self.phases_ = tuple(Phase(**p) if isinstance(p, dict) else p for p in state.get("phases_", ()))
        self._positions = positions
        self._gradient = None
        self._reference_cache = None

    def save(self, path: Union[str, os.PathLike, IO[bytes]]) -> None:
        """Write this embedding to one file; read it back with :func:`fasttsne.load`.

        The file holds the positions, P, the parameters, the optimiser state and what the
        neighbour index needs to answer queries, so ``transform`` works after loading, in
        another process. See :mod:`fasttsne.persist` for the format.
        """
        persist.save(self, path)

    def _copy(self) -> Embedding:
        new = object.__new__(Embedding)
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_cache_lock", None)
        new._positions = self._positions.copy()
        new.optimizer_state = self.optimizer_state.copy()
        new.gradient_params = dict(self.gradient_params)
        new._reference_cache = None
        # a backend holds scratch buffers written by every call: the copy gets its own, so
        # optimising copies of one Embedding in several threads at once is safe
        new._gradient = None
        new.negative_gradient_method = _own_backend(self.negative_gradient_method)
        return new

    def quality(self, X: ArrayLike, labels: Optional[ArrayLike] = None, k: int = 10,
                **params: Any) -> QualityReport:
        """How faithful this map is to the data ``X`` it was made from: a QualityReport.

        ``X`` (N, D) row for row; ``labels`` add kNN accuracy and KNC; ``params`` are those of
        :func:`fasttsne.quality.report` (sample sizes, seed, n_jobs).
        """
        return report(X, self, labels=labels, k=k, **params)


registry.declare(persist.MODEL_KIND, Embedding, label="embedding class")
registry.register(persist.MODEL_KIND, persist.MODEL_NAME, Embedding)
Embedding.optimize.__doc__ = (Embedding.optimize.__doc__ or "").format(params=doc(OPTIMIZE_PARAMS, indent=8))
Embedding.prepare_partial.__doc__ = (Embedding.prepare_partial.__doc__ or "").format(
    params=doc(PREPARE_PARTIAL_PARAMS, indent=8))
Embedding.transform.__doc__ = (Embedding.transform.__doc__ or "").format(params=doc(TRANSFORM_PARAMS, indent=8))
Embedding.prepare_interpolation_grid.__doc__ = (Embedding.prepare_interpolation_grid.__doc__ or "").format(
    params=doc(GRID_PARAMS, indent=8))

#: Guards the creation of each Embedding's own cache lock.
_LOCK_CREATION = threading.Lock()


def _new_points(X_new: Optional[ArrayLike], X: Optional[ArrayLike]) -> ArrayLike:
    """The new points, given as ``X_new`` or as ``X`` (openTSNE's name), exactly once."""
    if X_new is not None and X is not None:
        raise InvalidParameterError("the new points were given twice: pass X_new or X (openTSNE's name), "
                                    "not both.")
    if X_new is not None:
        return X_new
    if X is None:
        raise InvalidParameterError("no new points: pass them as X_new (or X, openTSNE's name).")
    return X


def _own_backend(method: Any) -> Any:
    """``method`` itself if it is a name; a copy of it if it is a backend instance.

    A backend writes scratch buffers (trees, grids) on every call, so an instance shared by
    two embeddings optimised in two threads at once would be corrupted (or crash): each
    Embedding uses its own copy, which has the same parameters.
    """
    if isinstance(method, _gradients.NegativeGradient):
        return copy.deepcopy(method)
    return method
