"""The TSNE front door: neighbours -> affinities -> initial positions -> optimisation."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Union

import numpy as np
from numpy.typing import ArrayLike

from . import gradients as _gradients
from . import neighbors as _neighbors
from ._params import TSNE_PARAMS, InvalidParameterError, check, doc, resolved
from ._validation import check_data_owned, check_positions, handed_over
from .affinity import AffinityModel, Multiscale, PerplexityBasedNN
from .embedding import Embedding
from .gradients.exact import MAX_EXACT_SAMPLES, ExactGradient
from .initialization import initial_positions
from .gradients.base import NegativeGradient
from .neighbors.base import NeighborBackend
from .optim import fit_schedule
from .partial import Callbacks
from .progress import phase, reporting

__all__ = ["TSNE"]


class TSNE:
    __doc__ = f"""t-distributed stochastic neighbour embedding.

    Every parameter is checked when :meth:`fit` (or :meth:`prepare_initial`) starts, before
    the neighbour search: a bad value raises
    :class:`~fasttsne._params.InvalidParameterError` (a ``ValueError`` and a ``TypeError``).

    Parameters
    ----------
{doc(TSNE_PARAMS)}
    """

    def __init__(self, n_components: int = 2, perplexity: Union[float, List[float]] = 30,
                 learning_rate: Union[float, str] = "auto", early_exaggeration_iter: Union[int, str] = 150,
                 early_exaggeration: Union[float, str] = 12, anneal_iter: Union[int, str] = "auto",
                 n_iter: Union[int, str] = 600,
                 exaggeration: Optional[float] = None, dof: float = 1, theta: float = 0.5,
                 n_interpolation_points: int = 4, min_num_intervals: int = 50, ints_in_interval: float = 0.8,
                 initialization: Union[str, ArrayLike] = "pca", metric: Union[str, Any] = "euclidean",
                 metric_params: Optional[Dict[str, Any]] = None, initial_momentum: float = 0.8,
                 final_momentum: float = 0.8, max_grad_norm: Optional[float] = None,
                 max_step_norm: Optional[float] = 5,
                 neighbors: Union[str, NeighborBackend, type] = "auto",
                 negative_gradient_method: Union[str, NegativeGradient] = "auto", n_jobs: Optional[int] = 1,
                 random_state: Any = None, verbose: bool = False, callbacks: Callbacks = None,
                 callbacks_every_iters: int = 50, tol: float = 1e-3, max_iter: int = 2000,
                 knn_kwargs: Optional[Dict[str, Any]] = None) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.learning_rate = learning_rate
        self.early_exaggeration_iter = early_exaggeration_iter
        self.early_exaggeration = early_exaggeration
        self.anneal_iter = anneal_iter
        self.n_iter = n_iter
        self.tol = tol
        self.max_iter = max_iter
        self.exaggeration = exaggeration
        self.dof = dof
        self.theta = theta
        self.n_interpolation_points = n_interpolation_points
        self.min_num_intervals = min_num_intervals
        self.ints_in_interval = ints_in_interval
        self.initialization = initialization
        self.metric = metric
        self.metric_params = metric_params
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.max_grad_norm = max_grad_norm
        self.max_step_norm = max_step_norm
        self.neighbors = neighbors
        self.knn_kwargs = knn_kwargs
        self.negative_gradient_method = negative_gradient_method
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.callbacks_every_iters = callbacks_every_iters

    def get_params(self) -> Dict[str, Any]:
        """The constructor's parameters as a dict (name -> value as given)."""
        return {name: getattr(self, name) for name in TSNE_PARAMS}

    def check_params(self) -> None:
        """Check every parameter against the table; raise InvalidParameterError on the first bad one.

        Cheap: :meth:`fit` runs it first; front ends (the command line) may run it before
        reading their data.
        """
        check(TSNE_PARAMS, self.get_params())

    def _gradient_params(self) -> Dict[str, Any]:
        return dict(theta=self.theta, n_interpolation_points=self.n_interpolation_points,
                    min_num_intervals=self.min_num_intervals, ints_in_interval=self.ints_in_interval)

    def prepare_initial(self, X: Optional[ArrayLike] = None, affinities: Optional[AffinityModel] = None,
                        initialization: Union[None, str, ArrayLike] = None) -> Embedding:
        """Validate ``X``, compute affinities and initial positions; no optimisation.

        ``X`` may be left out when ``affinities`` are given already fitted (openTSNE's
        ``fit(affinities=...)``); the initialisation is then spectral, as it is for
        ``metric="precomputed"`` (PCA of a distance matrix or of nothing makes no sense).

        Returns
        -------
        Embedding
        """
        self.check_params()
        init = self.initialization if initialization is None else initialization
        check(TSNE_PARAMS, {"initialization": init})
        if X is None:
            return self._prepare_from_affinities(affinities, init)
        data, owned = check_data_owned(X, accept_sparse=True)
        n = data.shape[0]
        # resolve the backends first: a bad name, metric, dimension or size fails before any work
        backend = resolved(_gradients.get_gradient, self.negative_gradient_method, n_samples=n,
                            n_components=self.n_components, defaults=self._gradient_params())
        _check_exact_size(backend, n, self.n_components)
        if affinities is None:
            # the backend the model will make, made here so a bad name, metric or knn_kwargs key fails first
            resolved(_neighbors.get_backend, self.neighbors, n_samples=n, metric=self.metric,
                     metric_params=self.metric_params, sparse=_is_sparse(data), n_jobs=self.n_jobs,
                     random_state=self.random_state, n_features=data.shape[1], knn_kwargs=self.knn_kwargs)
        else:
            self._check_no_knn_kwargs()
        if not isinstance(init, str):
            init = check_positions(init, n, self.n_components)
        with reporting(self.verbose):  # the affinity model times "neighbours" and "affinities" itself
            if affinities is None:
                model = Multiscale if isinstance(self.perplexity, (list, tuple)) else PerplexityBasedNN
                # keep_graph=False: the graph is freed as P is built (set_perplexity then needs a new model)
                affinities = model(self.perplexity, neighbors=self.neighbors, knn_kwargs=self.knn_kwargs,
                                   metric=self.metric, metric_params=self.metric_params, n_jobs=self.n_jobs,
                                   random_state=self.random_state, keep_graph=False)
            if not isinstance(affinities, AffinityModel):
                raise InvalidParameterError(
                    f"affinities must be a fasttsne.affinity.AffinityModel, got {affinities!r}.")
            if affinities.P is None:
                with handed_over(data, owned):  # a copy converted above is the index's to keep
                    affinities.fit(data)
            elif affinities.P.shape[0] != n:
                raise ValueError(f"the affinities were fitted on {affinities.P.shape[0]} points, X has {n}.")
        if _is_pca(init) and self.metric == "precomputed":
            init = "spectral"
        return self._embedding(init, data, affinities)

    def _check_no_knn_kwargs(self) -> None:
        if self.knn_kwargs:
            raise InvalidParameterError("knn_kwargs configure the neighbour search, which fit does not run "
                                        "when affinities are given: configure the affinities' backend instead.")

    def _prepare_from_affinities(self, affinities: Optional[AffinityModel], init: Any) -> Embedding:
        """The initial Embedding of already fitted ``affinities`` alone (no data)."""
        self._check_no_knn_kwargs()
        if not isinstance(affinities, AffinityModel) or affinities.P is None:
            raise InvalidParameterError("without X, pass fitted affinities (a fasttsne.affinity.AffinityModel "
                                        f"whose P is computed), got {affinities!r}.")
        n = affinities.P.shape[0]
        backend = resolved(_gradients.get_gradient, self.negative_gradient_method, n_samples=n,
                            n_components=self.n_components, defaults=self._gradient_params())
        _check_exact_size(backend, n, self.n_components)
        if not isinstance(init, str):
            init = check_positions(init, n, self.n_components)
        return self._embedding("spectral" if _is_pca(init) else init, None, affinities)

    def _embedding(self, init: Any, X: Any, affinities: AffinityModel) -> Embedding:
        """The Embedding starting at ``init`` on fitted ``affinities`` (and data ``X``, or None)."""
        with phase("initialisation", self.verbose):
            Y = initial_positions(init, X, self.n_components, self.random_state, P=affinities.P)
        return Embedding(Y, affinities, negative_gradient_method=self.negative_gradient_method,
                         gradient_params=self._gradient_params(), dof=self.dof, n_jobs=self.n_jobs,
                         random_state=self.random_state, n_features=None if X is None else X.shape[1])

    def fit(self, X: Optional[ArrayLike] = None, affinities: Optional[AffinityModel] = None,
            initialization: Union[None, str, ArrayLike] = None) -> Embedding:
        """Embed ``X``.

        Parameters
        ----------
        X : (N, D) array-like (or CSR where the neighbour backend accepts it), optional
            May be left out when ``affinities`` are given fitted.
        affinities : AffinityModel, optional
            Use these affinities (fitted, or fitted here on X) instead of the default
            ``PerplexityBasedNN(perplexity)``.
        initialization : optional
            Overrides the constructor's ``initialization``.

        Returns
        -------
        Embedding
            ``phases_`` and ``learning_rate_`` record the phases run and the learning rate used;
            ``kl_history`` the KL by iteration.
        """
        embedding = self.prepare_initial(X, affinities, initialization)
        settings = {name: getattr(self, name) for name in _SCHEDULE}
        if isinstance(self.early_exaggeration, str):  # "auto", openTSNE's rule
            settings["early_exaggeration"] = max(12, self.exaggeration or 0)
        schedule = fit_schedule(**settings)
        with phase("optimisation", self.verbose):
            embedding._run(schedule, callbacks=self.callbacks, callbacks_every_iters=self.callbacks_every_iters,
                           verbose=self.verbose)
        return embedding

    def fit_transform(self, X: Optional[ArrayLike] = None, affinities: Optional[AffinityModel] = None,
                      initialization: Union[None, str, ArrayLike] = None) -> np.ndarray:
        """Embed ``X`` and return the positions as an (N, n_components) float64 array."""
        return np.array(self.fit(X, affinities, initialization))


#: The parameters that shape the optimisation schedule (see :func:`fasttsne.optim.fit_schedule`).
_SCHEDULE = ("early_exaggeration_iter", "early_exaggeration", "anneal_iter", "n_iter", "exaggeration",
             "learning_rate", "initial_momentum", "final_momentum", "max_grad_norm", "max_step_norm", "tol", "max_iter")


def _is_pca(init: Any) -> bool:
    return isinstance(init, str) and init == "pca"


def _is_sparse(X: Any) -> bool:
    return not isinstance(X, np.ndarray)


def _check_exact_size(backend: NegativeGradient, n_samples: int, n_components: int) -> None:
    """Refuse the exact gradient above its size limit now, not after the neighbour search."""
    if isinstance(backend, ExactGradient) and n_samples > MAX_EXACT_SAMPLES:
        instead = ("use 'fft' or 'bh'" if n_components <= 3 else
                   f"the approximate gradients ('bh', 'fft') need n_components <= 3, got {n_components}")
        raise InvalidParameterError(f"negative_gradient_method='exact' is O(N^2) and would take hours at "
                                    f"N={n_samples} (limit {MAX_EXACT_SAMPLES}); {instead}.")
