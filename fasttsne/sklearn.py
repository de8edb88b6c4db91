"""``sklearn.manifold.TSNE``'s interface on fasttsne (needs scikit-learn >= 1.6).

Change one import, ``from fasttsne.sklearn import TSNE``, and a script written for
scikit-learn runs with the same parameters, values and meanings (see ``docs/sklearn.md``).
Unlike scikit-learn's, this estimator has a real :meth:`TSNE.transform`: new points are
placed into the fitted map, which stays fixed. It fits in a ``Pipeline``, clones, pickles
and supports ``set_output(transform="pandas")``.

>>> from sklearn.pipeline import make_pipeline            # doctest: +SKIP
>>> from sklearn.decomposition import PCA                 # doctest: +SKIP
>>> pipe = make_pipeline(PCA(50), TSNE(random_state=0))   # doctest: +SKIP
>>> Y = pipe.fit_transform(X)                             # doctest: +SKIP
>>> Y_new = pipe.transform(X_new)                         # doctest: +SKIP
"""
from __future__ import annotations

try:
    from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
    from sklearn.utils.validation import check_is_fitted, check_non_negative, validate_data
except ImportError:  # validate_data is new in scikit-learn 1.6
    raise ImportError("fasttsne.sklearn needs scikit-learn >= 1.6: pip install -U scikit-learn "
                      "(or pip install 'fasttsne[sklearn]').") from None
import numbers
from typing import Any, Dict, NoReturn, Optional, Union

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from . import tsne as _tsne
from .affinity import PerplexityBasedNN
from ._params import TRANSFORM_PARAMS, InvalidParameterError, check
from ._sklearn_schedule import SKLEARN_GRADIENT_SCALE, run_schedule
from ._threads import check_n_jobs
from .embedding import Embedding
from .neighbors.base import NeighborBackend

__all__ = ["TSNE", "METHODS"]

#: scikit-learn's (and fasttsne's own) ``method`` values -> fasttsne's negative-gradient backends.
METHODS = {"barnes_hut": "bh", "exact": "exact", "fft": "fft", "auto": "auto"}


class TSNE(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """t-SNE with ``sklearn.manifold.TSNE``'s parameters and meanings, and a real ``transform``.

    The parameters up to ``n_jobs`` are scikit-learn's (1.6 - 1.9), with its defaults except
    ``method``; the keyword-only ones after them are fasttsne's own.

    Parameters
    ----------
    n_components : int, default 2
        Dimension of the embedding.
    perplexity : float, default 30.0
        Effective number of neighbours. Where scikit-learn refuses ``perplexity >= n_samples``,
        fasttsne lowers it to ``(n_samples - 1) / 3`` with a warning.
    early_exaggeration : float >= 1, default 12.0
        Exaggeration of the attraction during the exploration phase.
    learning_rate : float > 0 or "auto", default "auto"
        On scikit-learn's scale: a number takes the step scikit-learn's same number takes
        (fasttsne's optimiser, whose gradient is divided by 4, gets 4 times it). "auto" is
        ``max(n_samples / early_exaggeration / 4, 50)``, in both phases, as in scikit-learn.
    max_iter : int, default 1000
        Iterations in total, the ``early_exaggeration_iter`` (250) exploration iterations
        included; at least ``early_exaggeration_iter``.
    n_iter_without_progress : int >= -1, default 300
        Stop the main phase when its best KL is more than this many iterations old. Checked
        every 50 iterations, as in scikit-learn.
    min_grad_norm : float >= 0, default 1e-7
        Stop a phase when the norm of the gradient, multiplied by the optimiser's gains and
        on scikit-learn's scale, is at most this (checked every 50 iterations).
    metric : str or callable, default "euclidean"
        A metric name, a callable ``f(x, y) -> float`` on two rows, or "precomputed" (X is
        then a square distance matrix, dense, or sparse holding each point's neighbours).
    metric_params : dict, optional
        Keyword arguments of the metric.
    init : "pca", "random" or (n_samples, n_components) ndarray, default "pca"
        PCA and random positions are scaled to a first-coordinate standard deviation of
        1e-4, as in scikit-learn; an array is used as given. "pca" cannot be used with
        ``metric="precomputed"``.
    verbose : int, default 0
        1: timings of the phases and the KL after each; 2: also the KL and gradient norm at
        every check.
    random_state : None, int, RandomState or Generator
    method : "auto", "barnes_hut", "exact" or "fft", default "auto"
        The repulsion's gradient. **Differs from scikit-learn's default** ("barnes_hut"):
        "auto" picks the exact gradient for small data, Barnes-Hut in between and the FFT
        interpolation for large data. "exact", as in scikit-learn, computes the exact gradient
        of affinities over all pairs of points; the other methods use the affinities of each
        point's ``3 * perplexity`` nearest neighbours.
    angle : float in [0, 1], default 0.5
        Barnes-Hut's accuracy (theta); used by "barnes_hut".
    n_jobs : None or int
        Threads for every phase (scikit-learn: the neighbour search only); None means 1,
        -1 all usable cores.
    early_exaggeration_iter : int, default 250
        Length of the exploration phase (fixed to 250 in scikit-learn).
    exaggeration : float, optional
        Exaggeration of the main phase (None: 1, i.e. none).
    dof : float, default 1
        Degrees of freedom of the output kernel ``(1 + d^2 / dof)^-dof`` (< 1: heavier tails,
        more clusters). scikit-learn uses a Student-t with ``max(n_components - 1, 1)``
        degrees of freedom; the two agree for 1 and 2 components.
    neighbors : str or NeighborBackend, default "auto"
        fasttsne's neighbour search (see :func:`fasttsne.neighbors.get_backend`); "auto" with
        a callable metric searches exactly.
    n_interpolation_points, min_num_intervals, ints_in_interval
        Grid of the "fft" method (see :class:`fasttsne.TSNE`).
    initial_momentum, final_momentum : float in [0, 1), default 0.5, 0.8
        Momentum of the exploration / main phase (scikit-learn's values).
    max_grad_norm : float, optional
        Per-point clipping of the gradient (fasttsne's scale); None: none, as in scikit-learn.
    max_step_norm : float, default 5
        Per-point clipping of a step, in embedding units; scikit-learn has none (None).
    transform_params : dict, optional
        Keyword arguments of :meth:`fasttsne.Embedding.transform`, e.g. ``{"n_iter": 100}``.

    Attributes
    ----------
    embedding_ : (n_samples, n_components) float64 ndarray
        Positions of the training points.
    kl_divergence_ : float
        KL(P || Q) at the final positions, nats.
    n_iter_ : int
        Iterations run (scikit-learn reports one less: the index of its last iteration).
    learning_rate_ : float
        The learning rate used, on scikit-learn's scale.
    n_features_in_ : int
        Features seen in :meth:`fit` (``n_samples`` with ``metric="precomputed"``).
    feature_names_in_ : (n_features,) ndarray of str
        Only when fitted on a DataFrame whose column names are all strings.
    embedding_object_ : fasttsne.Embedding
        The fitted map: optimise it further, ``save`` it, or place points with its
        ``transform``.
    """

    def __init__(self, n_components: int = 2, *, perplexity: float = 30.0, early_exaggeration: float = 12.0,
                 learning_rate: Union[float, str] = "auto", max_iter: int = 1000, n_iter_without_progress: int = 300,
                 min_grad_norm: float = 1e-7, metric: Union[str, Any] = "euclidean",
                 metric_params: Optional[Dict[str, Any]] = None, init: Union[str, np.ndarray] = "pca",
                 verbose: Union[int, bool] = 0, random_state: Any = None, method: str = "auto", angle: float = 0.5,
                 n_jobs: Optional[int] = None, early_exaggeration_iter: int = 250,
                 exaggeration: Optional[float] = None, dof: float = 1,
                 neighbors: Union[str, NeighborBackend, type] = "auto", n_interpolation_points: int = 4,
                 min_num_intervals: int = 50, ints_in_interval: float = 0.8, initial_momentum: float = 0.5,
                 final_momentum: float = 0.8, max_grad_norm: Optional[float] = None,
                 max_step_norm: Optional[float] = 5, transform_params: Optional[Dict[str, Any]] = None) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.n_iter_without_progress = n_iter_without_progress
        self.min_grad_norm = min_grad_norm
        self.metric = metric
        self.metric_params = metric_params
        self.init = init
        self.verbose = verbose
        self.random_state = random_state
        self.method = method
        self.angle = angle
        self.n_jobs = n_jobs
        self.early_exaggeration_iter = early_exaggeration_iter
        self.exaggeration = exaggeration
        self.dof = dof
        self.neighbors = neighbors
        self.n_interpolation_points = n_interpolation_points
        self.min_num_intervals = min_num_intervals
        self.ints_in_interval = ints_in_interval
        self.initial_momentum = initial_momentum
        self.final_momentum = final_momentum
        self.max_grad_norm = max_grad_norm
        self.max_step_norm = max_step_norm
        self.transform_params = transform_params

    # ---------------------------------------------------------------- parameters
    def _check_params(self) -> None:
        """Refuse bad parameter values before any work, with scikit-learn's wording."""
        _check_int(self, "n_components", 1)
        _check_real(self, "perplexity", 0, closed_low=False)
        _check_real(self, "early_exaggeration", 1)
        if not (isinstance(self.learning_rate, str) and self.learning_rate == "auto"):
            _check_real(self, "learning_rate", 0, closed_low=False, also="'auto' or ")
        _check_int(self, "early_exaggeration_iter", 0)
        _check_int(self, "max_iter", self.early_exaggeration_iter)
        _check_int(self, "n_iter_without_progress", -1)
        _check_real(self, "min_grad_norm", 0)
        if not (isinstance(self.metric, str) or callable(self.metric)):
            _refuse("metric", "a str or a callable", self.metric)
        if self.metric_params is not None and not isinstance(self.metric_params, dict):
            _refuse("metric_params", "a dict or None", self.metric_params)
        if isinstance(self.init, str):
            if self.init not in ("pca", "random"):
                _refuse("init", "a str among {'pca', 'random'} or an ndarray", self.init)
        elif not isinstance(self.init, np.ndarray):
            _refuse("init", "a str among {'pca', 'random'} or an ndarray", self.init)
        if not isinstance(self.verbose, bool):
            _check_int(self, "verbose", 0)
        if not isinstance(self.method, str) or self.method not in METHODS:
            _refuse("method", f"a str among {set(METHODS)}", self.method)
        _check_real(self, "angle", 0, 1)
        check_n_jobs(self.n_jobs)
        if self.exaggeration is not None:
            _check_real(self, "exaggeration", 0, closed_low=False)
        _check_real(self, "dof", 0, closed_low=False)
        for name in ("initial_momentum", "final_momentum"):
            _check_real(self, name, 0, 1, closed_high=False)
        for name in ("max_grad_norm", "max_step_norm"):
            if getattr(self, name) is not None:
                _check_real(self, name, 0, closed_low=False)
        if self.transform_params is not None and not isinstance(self.transform_params, dict):
            _refuse("transform_params", "a dict or None", self.transform_params)
        check(TRANSFORM_PARAMS, self.transform_params or {})
        if self.method == "barnes_hut" and self.n_components > 3:
            raise InvalidParameterError("'n_components' should be inferior to 4 for the barnes_hut algorithm "
                                        "as it relies on quad-tree or oct-tree.")

    def _initial_embedding(self, X: Any) -> Embedding:
        """Affinities and initial positions of ``X`` (validated), as a fasttsne.Embedding."""
        neighbors = self.neighbors
        if callable(self.metric) and isinstance(neighbors, str) and neighbors == "auto":
            neighbors = "exact"  # approximate backends need metrics they can compile
        init = self.init if isinstance(self.init, str) else np.array(self.init, dtype=np.float64)
        n_jobs = 1 if self.n_jobs is None else self.n_jobs
        core = _tsne.TSNE(
            n_components=self.n_components, perplexity=self.perplexity, dof=self.dof, theta=self.angle,
            n_interpolation_points=self.n_interpolation_points, min_num_intervals=self.min_num_intervals,
            ints_in_interval=self.ints_in_interval, initialization=init, metric=self.metric,
            metric_params=self.metric_params, neighbors=neighbors,
            negative_gradient_method=METHODS[self.method], n_jobs=n_jobs, random_state=self.random_state,
            verbose=self.verbose >= 1)
        if self.method != "exact":
            return core.prepare_initial(X)
        all_pairs = AllPairsAffinities(self.perplexity, neighbors=neighbors, metric=self.metric,
                                       metric_params=self.metric_params, n_jobs=n_jobs,
                                       random_state=self.random_state, keep_graph=False)
        embedding = core.prepare_initial(X, affinities=all_pairs)
        embedding.affinities = all_pairs.as_perplexity_based()
        return embedding

    # ---------------------------------------------------------------- fitting
    def fit(self, X: ArrayLike, y: Any = None) -> TSNE:
        """Embed ``X``; returns self.

        Parameters
        ----------
        X : (n_samples, n_features) array-like, DataFrame or sparse matrix
            With ``metric="precomputed"``, an (n_samples, n_samples) distance matrix, dense or
            sparse (each row's stored entries are that point's neighbours).
        y : ignored
        """
        self._check_params()
        data = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], ensure_min_samples=2)
        if self.metric == "precomputed":
            _check_precomputed(data, self.init, self.method)
        n_samples = data.shape[0]
        if self.learning_rate == "auto":
            self.learning_rate_ = float(max(n_samples / self.early_exaggeration / 4, 50))
        else:
            self.learning_rate_ = float(self.learning_rate)
        embedding = self._initial_embedding(data)
        self.kl_divergence_ = float(run_schedule(
            embedding, exploration_iter=self.early_exaggeration_iter, max_iter=self.max_iter,
            early_exaggeration=self.early_exaggeration, exaggeration=self.exaggeration,
            learning_rate=SKLEARN_GRADIENT_SCALE * self.learning_rate_, initial_momentum=self.initial_momentum,
            final_momentum=self.final_momentum, n_iter_without_progress=self.n_iter_without_progress,
            min_grad_norm=self.min_grad_norm, verbose=self.verbose, max_grad_norm=self.max_grad_norm,
            max_step_norm=self.max_step_norm))
        self.embedding_object_ = embedding
        self.embedding_ = np.array(embedding)
        self.n_iter_ = int(embedding.n_iter)
        return self

    def fit_transform(self, X: ArrayLike, y: Any = None) -> np.ndarray:
        """Embed ``X`` and return the positions: (n_samples, n_components) float64."""
        return self.fit(X, y).embedding_.copy()

    def transform(self, X: ArrayLike) -> Any:
        """Place new points into the fitted map (which does not move).

        Parameters
        ----------
        X : (n_samples, n_features) array-like, DataFrame or sparse matrix
            The features seen in :meth:`fit`; with ``metric="precomputed"``, the distances
            from each new point to the training points, (n_samples, n_training_samples).
            A ``dask.array.Array`` gives a lazy Dask array of positions with its row chunks.

        Returns
        -------
        (n_samples, n_components) float64 ndarray
        """
        check_is_fitted(self, "embedding_object_")
        params = {"random_state": self.random_state, **(self.transform_params or {})}
        if hasattr(X, "__dask_graph__"):  # a Dask array: placed lazily, chunk by chunk (fasttsne.dask)
            return self.embedding_object_.transform(X, **params)
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32], reset=False)
        if self.metric == "precomputed":
            check_non_negative(X, "TSNE.transform(). With metric='precomputed', X should contain positive "
                                  "distances.")
        return self.embedding_object_.transform(X, **params)

    @property
    def _n_features_out(self) -> int:
        """Number of output features, for ``get_feature_names_out`` ("tsne0", "tsne1", ...)."""
        return self.embedding_.shape[1]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.sparse = True
        return tags


class AllPairsAffinities(PerplexityBasedNN):
    """scikit-learn's exact affinities: Gaussian conditionals over all other points.

    :class:`PerplexityBasedNN` on the ``n_samples - 1`` nearest neighbours, i.e. every pair,
    instead of ``3 * perplexity``; new points still use their nearest neighbours.
    """

    def _n_neighbors(self, n_samples: int) -> int:
        super()._n_neighbors(n_samples)  # the perplexity used, lowered with a warning when needed
        return n_samples - 1

    def as_perplexity_based(self) -> PerplexityBasedNN:
        """The fitted model as a plain :class:`PerplexityBasedNN` (a class ``fasttsne.load``
        knows): the same P, index and perplexity, so it places new points the same way."""
        plain = PerplexityBasedNN.__new__(PerplexityBasedNN)
        plain.__dict__.update(self.__dict__)
        return plain


def _check_precomputed(X: Any, init: Any, method: str) -> None:
    """scikit-learn's checks of a precomputed distance matrix, with its messages."""
    if isinstance(init, str) and init == "pca":
        raise ValueError('The parameter init="pca" cannot be used with metric="precomputed".')
    if X.shape[0] != X.shape[1]:
        raise ValueError("X should be a square distance matrix")
    check_non_negative(X, "TSNE.fit(). With metric='precomputed', X should contain positive distances.")
    if method == "exact" and sp.issparse(X):
        raise TypeError('TSNE with method="exact" does not accept sparse precomputed distance matrix. '
                        'Use method="barnes_hut" or provide the dense distance matrix.')


def _refuse(name: str, expected: str, value: Any) -> NoReturn:
    raise InvalidParameterError(f"The '{name}' parameter of TSNE must be {expected}. Got {value!r} instead.")


def _check_int(est: TSNE, name: str, low: int) -> None:
    value = getattr(est, name)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        _refuse(name, f"an int in the range [{low}, inf)", value)


def _check_real(est: TSNE, name: str, low: float, high: Optional[float] = None, *, closed_low: bool = True,
                closed_high: bool = True, also: str = "") -> None:
    value = getattr(est, name)
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real) and not np.isnan(float(value))
    if ok:
        ok = (value >= low if closed_low else value > low) and \
             (high is None or (value <= high if closed_high else value < high))
    if not ok:
        interval = (("[" if closed_low else "(") + f"{low}, " + ("inf)" if high is None else
                                                                 f"{high}" + ("]" if closed_high else ")")))
        _refuse(name, f"{also}a float in the range {interval}", value)
