"""A scikit-learn estimator around :class:`fasttsne.TSNE` (needs scikit-learn >= 1.6).

It fits in a ``Pipeline`` (after ``StandardScaler``, ``PCA``, ...), clones, and answers
``get_params``/``set_params``. Unlike ``sklearn.manifold.TSNE`` it has a real
:meth:`TSNE.transform`: new points are placed into the fitted map, which stays fixed.

>>> from sklearn.pipeline import make_pipeline            # doctest: +SKIP
>>> from sklearn.decomposition import PCA                 # doctest: +SKIP
>>> pipe = make_pipeline(PCA(50), TSNE(random_state=0))   # doctest: +SKIP
>>> Y = pipe.fit_transform(X)                             # doctest: +SKIP
>>> Y_new = pipe.transform(X_new)                         # doctest: +SKIP
"""
try:
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError:  # validate_data is new in scikit-learn 1.6
    raise ImportError("fasttsne.sklearn needs scikit-learn >= 1.6: pip install -U scikit-learn "
                      "(or pip install 'fasttsne[sklearn]').") from None
import numpy as np

from . import tsne as _tsne
from ._params import TRANSFORM_PARAMS, InvalidParameterError, check

__all__ = ["TSNE"]


class TSNE(TransformerMixin, BaseEstimator):
    """t-SNE as a scikit-learn transformer.

    The parameters are those of :class:`fasttsne.TSNE`, with the same names, defaults and
    checks (see there; one table, :mod:`fasttsne._params`, describes them all);
    ``transform_params`` holds keyword arguments for :meth:`fasttsne.Embedding.transform`
    (e.g. ``{"n_iter": 100, "perplexity": 10}``). Every value, ``transform_params`` included,
    is checked when :meth:`fit` starts and a bad one raises ``InvalidParameterError``.

    Attributes
    ----------
    embedding_ : (n_samples, n_components) ndarray
        Positions of the training points.
    model_ : fasttsne.Embedding
        The fitted map: keep optimising it, save it, or place points with its
        ``transform``.
    kl_divergence_ : float
        KL(P || Q) of the final positions, nats.
    n_iter_ : int
        Iterations run.
    learning_rate_ : float
        The learning rate of the last phase ("auto" resolved).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.
    """

    def __init__(self, n_components=2, perplexity=30, learning_rate="auto", early_exaggeration_iter=250,
                 early_exaggeration=12, n_iter=500, exaggeration=None, dof=1, theta=0.5,
                 n_interpolation_points=4, min_num_intervals=50, ints_in_interval=0.8,
                 initialization="pca", metric="euclidean", metric_params=None, initial_momentum=0.8,
                 final_momentum=0.8, max_grad_norm=None, max_step_norm=5, neighbors="auto",
                 negative_gradient_method="auto", n_jobs=1, random_state=None, verbose=False,
                 callbacks=None, callbacks_every_iters=50, tol=1e-3, max_iter=2000, transform_params=None):
        self.n_components = n_components
        self.perplexity = perplexity
        self.learning_rate = learning_rate
        self.early_exaggeration_iter = early_exaggeration_iter
        self.early_exaggeration = early_exaggeration
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
        self.negative_gradient_method = negative_gradient_method
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.callbacks_every_iters = callbacks_every_iters
        self.transform_params = transform_params

    def _core(self):
        params = self.get_params(deep=False)
        params.pop("transform_params")
        return _tsne.TSNE(**params)

    def fit(self, X, y=None):
        """Embed ``X``; returns self. ``y`` is ignored.

        Parameters
        ----------
        X : (n_samples, n_features) array-like or DataFrame
        y : ignored
        """
        core = self._core()
        core.check_params()
        if self.transform_params is not None and not isinstance(self.transform_params, dict):
            raise InvalidParameterError(f"transform_params must be None or a dict, got {self.transform_params!r}.")
        check(TRANSFORM_PARAMS, self.transform_params or {})
        X = validate_data(self, X, dtype=[np.float64, np.float32], ensure_min_samples=2)
        self.model_ = core.fit(X)
        self.embedding_ = np.array(self.model_)
        self.kl_divergence_ = float(self.model_.kl_divergence)
        self.n_iter_ = int(self.model_.n_iter)
        self.learning_rate_ = float(self.model_.learning_rate_)
        return self

    def fit_transform(self, X, y=None):
        """Embed ``X`` and return the positions, (n_samples, n_components) float64."""
        return self.fit(X, y).embedding_.copy()

    def transform(self, X):
        """Place new points into the fitted map (which does not move).

        Parameters
        ----------
        X : (n_samples, n_features) array-like, the features seen in :meth:`fit`

        Returns
        -------
        (n_samples, n_components) float64 ndarray
        """
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False, ensure_min_samples=1)
        params = {"random_state": self.random_state, **(self.transform_params or {})}
        return self.model_.transform(X, **params)
