"""The Embedding: positions, the affinities behind them, and the optimiser state."""
import copy
import threading
import time

import numpy as np

from . import gradients as _gradients
from ._validation import check_n_jobs, check_positive
from .optimizer import FitObjective, OptimizationInterrupt, OptimizerState, gradient_descent
from .progress import IterationProgress

__all__ = ["Embedding"]


class PositionsArray:
    """Array behaviour of an object holding read-only (N, d) float64 ``_positions``.

    ``np.asarray(obj)`` is the positions themselves (read-only); ``np.array(obj)`` a
    writable copy.
    """

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._positions, dtype=dtype, copy=True)
        return self._positions if dtype is None else self._positions.astype(dtype)

    @property
    def positions(self):
        """(N, d) float64, read-only."""
        return self._positions

    @property
    def shape(self):
        return self._positions.shape

    def __len__(self):
        return self._positions.shape[0]


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
    n_jobs : int, default 1
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
        self.dof = check_positive(dof, "dof")
        self.n_jobs = check_n_jobs(n_jobs)
        self.random_state = random_state
        self.optimizer_state = optimizer_state or OptimizerState.fresh(*Y.shape)
        self.kl_divergence = kl_divergence
        self.n_features = n_features
        self._gradient = None

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
    def gradient(self):
        """The resolved negative-gradient backend (built on first use)."""
        with self._lock():
            if self._gradient is None:
                n, d = self.shape
                self._gradient = _gradients.get_gradient(self.negative_gradient_method, n_samples=n,
                                                         n_components=d, **self.gradient_params)
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
                 callbacks_every_iters=50, inplace=False, verbose=False):
        """Continue the optimisation for ``n_iter`` iterations.

        Parameters
        ----------
        n_iter : int >= 0
        exaggeration : float, optional
            Multiplies the attractive forces (None or 1: none). Early exaggeration is this
            with a value around 12.
        learning_rate : float or "auto"
            "auto" is N / exaggeration (the gradient here is divided by 4).
        momentum : float in [0, 1)
        max_grad_norm, max_step_norm : float or None
            Per-point clipping of the gradient / of the step, in embedding units.
        min_gain : float
        dof : float, optional
            Override the kernel's degrees of freedom from here on.
        negative_gradient_method : str or NegativeGradient, optional
            Switch repulsion backend from here on.
        n_jobs : int, optional
        callbacks : callable or list of callables, optional
            ``f(iteration, kl, positions) -> bool``; True stops early.
        callbacks_every_iters : int
        inplace : bool
            Update this Embedding instead of returning a new one (used internally by TSNE
            to avoid copies; the public default keeps the original unchanged).
        verbose : bool
            Show a progress bar (iteration, KL, ETA) and print one summary line.

        Returns
        -------
        Embedding

        Raises
        ------
        OptimizationInterrupt
            On Ctrl-C, within about one iteration; its ``embedding`` attribute holds the
            result so far (a new Embedding unless ``inplace``).
        """
        _check_n_iter(n_iter)
        exaggeration = 1.0 if exaggeration is None else check_positive(exaggeration, "exaggeration")
        n = self.shape[0]
        if isinstance(learning_rate, str):
            if learning_rate != "auto":
                raise ValueError(f"learning_rate must be a positive number or 'auto', got {learning_rate!r}.")
            learning_rate = max(n / exaggeration, 1.0)
        check_positive(learning_rate, "learning_rate")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}.")
        callbacks = _as_callbacks(callbacks)
        target = self if inplace else self._copy()
        if dof is not None:
            target.dof = check_positive(dof, "dof")
        if negative_gradient_method is not None:
            target.negative_gradient_method = _own_backend(negative_gradient_method)
            target._gradient = None
        if n_jobs is not None:
            target.n_jobs = check_n_jobs(n_jobs)

        Y = target._positions
        Y.setflags(write=True)
        t0 = time.perf_counter()
        progress = IterationProgress(n_iter, f"exaggeration {exaggeration:g}") if verbose else None
        try:
            objective = FitObjective(target.P, target.affinities.sum_p_log_p, target.gradient, target.dof,
                                     target.n_jobs)
            kl, stopped = gradient_descent(
                Y, objective, target.optimizer_state, int(n_iter), exaggeration=exaggeration,
                learning_rate=learning_rate, momentum=momentum, min_gain=min_gain,
                max_grad_norm=max_grad_norm, max_step_norm=max_step_norm, n_jobs=target.n_jobs,
                callbacks=callbacks, callbacks_every_iters=callbacks_every_iters, progress=progress)
        except OptimizationInterrupt as interrupt:
            target.kl_divergence = None
            interrupt.embedding = target
            raise
        finally:
            Y.setflags(write=False)
            if progress is not None:
                progress.close()
        target.kl_divergence = kl
        if verbose:
            print(f"fasttsne: {target.n_iter:5d} iterations, KL {kl:.4f} "
                  f"(exaggeration {exaggeration:g}, {time.perf_counter() - t0:.2f} s)"
                  + (", stopped by a callback" if stopped else ""), flush=True)
        return target

    # ---------------------------------------------------------------- new points
    def reference_repulsion(self):
        """The repulsion of these (fixed) positions on new points, built once and cached.

        Thread-safe: concurrent ``transform`` calls on one Embedding build it once and share
        it (it is only read afterwards).
        """
        with self._lock():
            gradient = self.gradient
            cache = getattr(self, "_reference_cache", None)
            # keyed by the backend object itself (not its id, which a new one could reuse)
            if cache is None or cache[0] is not gradient or cache[1] != self.dof:
                cache = (gradient, self.dof, gradient.reference(self._positions, self.dof))
                self._reference_cache = cache
            return cache[2]

    def prepare_partial(self, X_new, *, initialization="median", k=25, perplexity=5.0, random_state=None):
        """Affinities and initial positions of new points, ready for ``.optimize``.

        Parameters
        ----------
        X_new : (M, D) array-like, M >= 1, same features as the reference data
        initialization : "median", "weighted", "random" or (M, d) array, default "median"
        k : int, default 25
            Reference neighbours used by the "median" initialisation.
        perplexity : float, default 5
            Perplexity of the new points' affinities to the reference (a small value keeps
            each new point close to its nearest reference points).
        random_state : None, int or Generator

        Returns
        -------
        PartialEmbedding
        """
        from ._validation import check_data
        from .affinity import NEIGHBORS_PER_PERPLEXITY, _NeighborModel
        from .partial import PartialEmbedding, initial_partial_positions
        index = self.affinities.index
        if index is None:
            raise ValueError("these affinities have no neighbour index (e.g. precomputed P), so new points "
                             "cannot be placed; pass initialization positions and affinities yourself.")
        X_new = check_data(X_new, name="X_new", accept_sparse=getattr(index, "supports_sparse", False),
                           min_samples=1)
        if self.n_features is not None and X_new.shape[1] != self.n_features:
            raise ValueError(f"X_new has {X_new.shape[1]} features but the reference was fitted on "
                             f"{self.n_features}.")
        check_positive(perplexity, "perplexity")
        neighbors, extra = None, {}
        if isinstance(initialization, str) and initialization == "median":
            k = int(min(check_positive(k, "k", integer=True), self.shape[0]))
            shared = isinstance(self.affinities, _NeighborModel)
            # one query for both the median's k and the affinities' 3 * perplexity (a model
            # needing more neighbours than that queries again for itself)
            k_query = min(self.shape[0], max(k, int(NEIGHBORS_PER_PERPLEXITY * perplexity))) if shared else k
            found = index.query(X_new, k_query)
            neighbors = found[0][:, :k]
            if shared:
                extra = {"neighbors": found}
        P_new = self.affinities.to_new(X_new, perplexity=perplexity, **extra)
        Y0 = initial_partial_positions(initialization, self._positions, neighbors, P_new, random_state)
        return PartialEmbedding(Y0, self, P_new)

    def transform(self, X_new, *, perplexity=5.0, initialization="median", k=25, learning_rate=0.1,
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
        perplexity, initialization, k, random_state : see :meth:`prepare_partial`
        learning_rate : float, default 0.1
        early_exaggeration : float, default 4
        early_exaggeration_iter : int, default 0
        exaggeration : float, default 1.5
        n_iter : int, default 250
        initial_momentum, final_momentum : float, default 0.8
        max_grad_norm : float or None, default 0.25
        max_step_norm : float or None
        n_jobs : int, optional
        callbacks, callbacks_every_iters : see :meth:`optimize`

        Returns
        -------
        (M, d) float64 ndarray

        Raises
        ------
        ValueError
            When ``X_new`` is not 2-D (a single point must be passed as one row,
            ``x.reshape(1, -1)``), has no rows (an empty batch is an error, as in
            scikit-learn, rather than an empty result), has a different number of features
            than the reference, or holds NaN or infinite values.
        """
        partial = self.prepare_partial(X_new, initialization=initialization, k=k, perplexity=perplexity,
                                       random_state=random_state)
        common = dict(learning_rate=learning_rate, max_grad_norm=max_grad_norm, max_step_norm=max_step_norm,
                      n_jobs=n_jobs, callbacks=callbacks, callbacks_every_iters=callbacks_every_iters,
                      inplace=True)
        if early_exaggeration_iter > 0:
            partial.optimize(early_exaggeration_iter, exaggeration=early_exaggeration,
                             momentum=initial_momentum, **common)
        if partial.n_iter == early_exaggeration_iter:  # not stopped by a callback
            partial.optimize(n_iter, exaggeration=exaggeration, momentum=final_momentum, **common)
        return np.array(partial)

    # ---------------------------------------------------------------- copies
    def __getstate__(self):
        state = self.__dict__.copy()
        state["_gradient"] = None  # scratch buffers and caches are rebuilt on demand
        state["_reference_cache"] = None
        state.pop("_cache_lock", None)
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
        self._positions = positions
        self._gradient = None
        self._reference_cache = None

    def save(self, path):
        """Write this embedding to one file; read it back with :func:`fasttsne.load`.

        The file holds the positions, P, the parameters, the optimiser state and what the
        neighbour index needs to answer queries, so ``transform`` works after loading, in
        another process. See :mod:`fasttsne.io` for the format.
        """
        from .io import save
        save(self, path)

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
        from .quality import report
        return report(X, self, labels=labels, k=k, **params)


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


def _check_n_iter(n_iter):
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
        raise ValueError(f"n_iter must be a non-negative integer, got {n_iter!r}.")


def _as_callbacks(callbacks):
    if callbacks is None:
        return ()
    if callable(callbacks):
        return (callbacks,)
    callbacks = tuple(callbacks)
    for cb in callbacks:
        if not callable(cb):
            raise TypeError(f"callbacks must be callables f(iteration, kl, positions), got {cb!r}.")
    return callbacks
