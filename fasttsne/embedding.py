"""The Embedding: positions, the affinities behind them, and the optimiser state."""
import copy
import dataclasses
import threading

import numpy as np

from . import gradients as _gradients, persist, registry
from ._params import (GRADIENT_PARAM_NAMES, OPTIMIZE_PARAMS, PREPARE_PARTIAL_PARAMS, TRANSFORM_PARAMS, TSNE_PARAMS,
                      InvalidParameterError, check, doc)
from ._threads import effective_n_jobs
from ._positions import PositionsArray
from ._validation import check_data
from .optim import (AUTO, FitObjective, KLHistory, OptimizationInterrupt, OptimizerState, Phase, run_phases,
                    transform_schedule)
from .partial import SETTLED_STEP, PartialEmbedding, initial_partial_positions, run_stoppable
from .quality import report

__all__ = ["Embedding"]


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

    def __init__(self, positions, affinities, *, negative_gradient_method="auto", gradient_params=None,
                 dof=1.0, n_jobs=1, random_state=None, optimizer_state=None, kl_divergence=None,
                 n_features=None):
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
    def __repr__(self):
        kl = "unknown" if self.kl_divergence is None else f"{self.kl_divergence:.4f}"
        return f"Embedding(n_samples={self.shape[0]}, n_components={self.shape[1]}, n_iter={self.n_iter}, kl={kl})"

    @property
    def P(self):
        return self.affinities.P

    @property
    def n_iter(self):
        return self.optimizer_state.n_iter

    @property
    def kl_history(self):
        """KL(P || Q) by iteration (a :class:`~fasttsne.optim.KLHistory` of copies)."""
        d = self.__dict__
        iterations = d.get("_kl_iterations", np.empty(0, dtype=np.int64))
        return KLHistory(np.array(iterations, dtype=np.int64), np.array(d.get("_kl_values", ()), dtype=np.float64))

    def _record_kl(self, pairs):
        """Add ``(iteration, kl)`` pairs to :attr:`kl_history` (a later value of an iteration wins)."""
        old = self.kl_history
        merged = KLHistory.from_pairs(list(zip(old.iterations.tolist(), old.values.tolist())) + list(pairs))
        self._kl_iterations, self._kl_values = merged

    @property
    def learning_rate_(self):
        return self.phases_[-1].learning_rate if self.phases_ else None

    def _threads(self, n_jobs=None):
        """Threads for the work now: ``n_jobs`` when given, else this embedding's, resolved now."""
        return effective_n_jobs(self.n_jobs if n_jobs is None else n_jobs)

    @property
    def gradient(self):
        """The resolved negative-gradient backend (built on first use)."""
        with self._lock():
            if self._gradient is None:
                n, d = self.shape
                self._gradient = _gradients.get_gradient(self.negative_gradient_method, n_samples=n,
                                                         n_components=d, defaults=self.gradient_params)
            return self._gradient

    def _lock(self):
        """This embedding's lock for building its caches (created on first use)."""
        lock = self.__dict__.get("_cache_lock")
        if lock is None:
            with _LOCK_CREATION:
                lock = self.__dict__.setdefault("_cache_lock", threading.RLock())
        return lock

    # ---------------------------------------------------------------- optimisation
    def optimize(self, n_iter, *, exaggeration=None, learning_rate="auto", momentum=0.8,
                 max_grad_norm=None, max_step_norm=5.0, min_gain=0.01, dof=None,
                 negative_gradient_method=None, n_jobs=None, callbacks=None,
                 callbacks_every_iters=50, inplace=False, verbose=False, tol=1e-3, max_iter=2000,
                 propagate_exception=False, theta=None, n_interpolation_points=None, min_num_intervals=None,
                 ints_in_interval=None):
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
        OptimizationInterrupt
            On Ctrl-C, within about one iteration; its ``embedding`` attribute holds the
            result so far (a new Embedding unless ``inplace``).
        """
        params = check(OPTIMIZE_PARAMS, dict(
            n_iter=n_iter, exaggeration=exaggeration, learning_rate=learning_rate, momentum=momentum,
            max_grad_norm=max_grad_norm, max_step_norm=max_step_norm, min_gain=min_gain, dof=dof,
            negative_gradient_method=negative_gradient_method, n_jobs=n_jobs, callbacks=callbacks,
            callbacks_every_iters=callbacks_every_iters, inplace=inplace, verbose=verbose, tol=tol,
            max_iter=max_iter, propagate_exception=propagate_exception, theta=theta,
            n_interpolation_points=n_interpolation_points, min_num_intervals=min_num_intervals,
            ints_in_interval=ints_in_interval))
        new_gradient_params = {name: params[name] for name in GRADIENT_PARAM_NAMES if params[name] is not None}
        auto = n_iter == AUTO
        phase = Phase(max_iter if auto else n_iter, 1.0 if exaggeration is None else exaggeration, momentum,
                      learning_rate, max_grad_norm, max_step_norm, min_gain, until="converged" if auto else None,
                      tol=tol if auto else None)
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

    def _resolve_gradient(self):
        """:attr:`gradient`, a name or dimension it cannot serve reported as a parameter error."""
        try:
            return self.gradient
        except InvalidParameterError:
            raise
        except (ValueError, TypeError) as e:
            raise InvalidParameterError(str(e)) from None

    def _run(self, phases, *, n_jobs=None, callbacks=None, callbacks_every_iters=50, verbose=False):
        """Run ``phases`` (:class:`~fasttsne.optim.Phase`) on this embedding, in place.

        Returns
        -------
        kl : float
        stopped : bool
            Whether a callback stopped the run (the later phases were then not run).
        """
        threads = self._threads(n_jobs)
        phases = [p.resolved(self.shape[0]) for p in phases]
        ran, history = [], []
        start = self.optimizer_state.n_iter
        Y = self._positions
        Y.setflags(write=True)
        try:
            objective = FitObjective(self.P, self.affinities.sum_p_log_p, self._resolve_gradient(), self.dof,
                                     threads)
            kl, stopped, _ = run_phases(Y, objective, self.optimizer_state, phases, n_jobs=threads,
                                        callbacks=callbacks, callbacks_every_iters=callbacks_every_iters, verbose=verbose, ran=ran,
                                        history=history)
        except OptimizationInterrupt as interrupt:
            self.kl_divergence = interrupt.kl_divergence  # None after Ctrl-C; a raising callback's value
            interrupt.embedding = self
            raise
        except BaseException:
            # whatever stopped the run (a callback that raised, a MemoryError), the positions
            # may have moved: the KL of the old ones no longer describes them
            self.kl_divergence = None
            raise
        finally:
            Y.setflags(write=False)
            # a phase cut short by an exception is recorded with the iterations it ran
            cut = self.optimizer_state.n_iter - start - sum(p.n_iter for p in ran)
            if cut > 0 and len(ran) < len(phases):
                ran.append(dataclasses.replace(phases[len(ran)], n_iter=cut))
            self.phases_ = tuple(self.phases_) + tuple(ran)
            self._record_kl(history)
            self._reference_cache = None  # built from positions that have moved
        self.kl_divergence = kl
        return kl, stopped

    # ---------------------------------------------------------------- new points
    def reference_repulsion(self, n_jobs=None):
        """The repulsion of these (fixed) positions on new points, built once and cached.

        Thread-safe: concurrent ``transform`` calls on one Embedding build it once and share
        it (it is only read afterwards). ``n_jobs``: threads of the build (None: this
        embedding's), which do not change the result.
        """
        with self._lock():
            gradient = self.gradient
            cache = getattr(self, "_reference_cache", None)
            # keyed by the backend object itself (not its id, which a new one could reuse)
            if cache is None or cache[0] is not gradient or cache[1] != self.dof:
                cache = (gradient, self.dof, gradient.reference(self._positions, self.dof, self._threads(n_jobs)))
                self._reference_cache = cache
            return cache[2]

    def prepare_partial(self, X_new, *, initialization="median", k=25, perplexity=None, random_state=None,
                        n_jobs=None):
        """Affinities and initial positions of new points, ready for ``.optimize``.

        Parameters
        ----------
        X_new : (M, D) array-like, M >= 1, same features as the reference data
{params}

        Returns
        -------
        PartialEmbedding
        """
        check(PREPARE_PARTIAL_PARAMS, dict(initialization=initialization, k=k, perplexity=perplexity,
                                           random_state=random_state, n_jobs=n_jobs))
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
        found = index.query(X_new, max(k, self.affinities.neighbors_needed(**params)), n_jobs=n_jobs)
        P_new = self.affinities.to_new(X_new, neighbors=found, n_jobs=n_jobs, **params)
        Y0 = initial_partial_positions(initialization, self._positions, found[0][:, :k] if median else None,
                                       P_new, random_state)
        return PartialEmbedding(Y0, self, P_new)

    def transform(self, X_new, *, perplexity=None, initialization="median", k=25, learning_rate=0.1,
                  early_exaggeration=4.0, early_exaggeration_iter=0, exaggeration=1.5, n_iter=250,
                  initial_momentum=0.8, final_momentum=0.8, max_grad_norm=0.25, max_step_norm=None,
                  n_jobs=None, random_state=None, callbacks=None, callbacks_every_iters=50):
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
        if hasattr(X_new, "__dask_graph__"):  # a Dask array: a lazy result, chunk by chunk (fasttsne.dask)
            from .dask import transform as transform_chunks
            return transform_chunks(self, X_new, **given)
        partial = self.prepare_partial(X_new, initialization=initialization, k=k, perplexity=perplexity,
                                       random_state=random_state, n_jobs=n_jobs)
        partial._run(transform_schedule(**params), n_jobs=n_jobs, callbacks=callbacks,
                     callbacks_every_iters=callbacks_every_iters, settled_step=SETTLED_STEP)
        return np.array(partial)

    # ---------------------------------------------------------------- copies
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_gradient"] = None  # scratch buffers and caches are rebuilt on demand
        state["_reference_cache"] = None
        state.pop("_cache_lock", None)
        state["phases_"] = [p.to_dict() for p in self.__dict__.get("phases_", ())]
        return state

    def __setstate__(self, state):
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

    def save(self, path):
        """Write this embedding to one file; read it back with :func:`fasttsne.load`.

        The file holds the positions, P, the parameters, the optimiser state and what the
        neighbour index needs to answer queries, so ``transform`` works after loading, in
        another process. See :mod:`fasttsne.persist` for the format.
        """
        persist.save(self, path)

    def _copy(self):
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

    def quality(self, X, labels=None, k=10, **params):
        """How faithful this map is to the data ``X`` it was made from: a QualityReport.

        ``X`` (N, D) row for row; ``labels`` add kNN accuracy and KNC; ``params`` are those of
        :func:`fasttsne.quality.report` (sample sizes, seed, n_jobs).
        """
        return report(X, self, labels=labels, k=k, **params)


registry.declare(persist.MODEL_KIND, Embedding, label="embedding class")
registry.register(persist.MODEL_KIND, persist.MODEL_NAME, Embedding)
Embedding.optimize.__doc__ = Embedding.optimize.__doc__.format(params=doc(OPTIMIZE_PARAMS, indent=8))
Embedding.prepare_partial.__doc__ = Embedding.prepare_partial.__doc__.format(
    params=doc(PREPARE_PARTIAL_PARAMS, indent=8))
Embedding.transform.__doc__ = Embedding.transform.__doc__.format(params=doc(TRANSFORM_PARAMS, indent=8))

#: Guards the creation of each Embedding's own cache lock.
_LOCK_CREATION = threading.Lock()


def _own_backend(method):
    """``method`` itself if it is a name; a copy of it if it is a backend instance.

    A backend writes scratch buffers (trees, grids) on every call, so an instance shared by
    two embeddings optimised in two threads at once would be corrupted (or crash): each
    Embedding uses its own copy, which has the same parameters.
    """
    if isinstance(method, _gradients.NegativeGradient):
        return copy.deepcopy(method)
    return method
