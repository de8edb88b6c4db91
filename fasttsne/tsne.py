"""The TSNE front door: neighbours -> affinities -> initial positions -> optimisation."""
import numpy as np

from . import gradients as _gradients
from .affinity import AffinityModel, PerplexityBasedNN
from ._validation import check_data, check_n_jobs, check_positive
from .embedding import Embedding
from .initialization import initial_positions
from .progress import phase, reporting

__all__ = ["TSNE"]


class TSNE:
    """t-distributed stochastic neighbour embedding.

    Parameters
    ----------
    n_components : int, default 2
        Embedding dimension (1, 2 or 3 for the approximate gradients).
    perplexity : float, default 30
        Effective number of neighbours per point.
    learning_rate : float or "auto", default "auto"
        "auto" is N / exaggeration in each phase.
    early_exaggeration_iter : int, default 250
    early_exaggeration : float, default 12
    n_iter : int, default 500
        Iterations after the early-exaggeration phase.
    exaggeration : float, optional
        Exaggeration of the main phase (None: 1).
    dof : float, default 1
        Degrees of freedom of the output kernel (< 1: heavier tails, more clusters).
    theta : float, default 0.5
        Barnes-Hut accuracy (used by "bh").
    n_interpolation_points, min_num_intervals, ints_in_interval : FFT grid parameters.
    initialization : "pca", "random" or (N, n_components) array, default "pca"
    metric : str, default "euclidean"
    metric_params : dict, optional
    initial_momentum, final_momentum : float, default 0.8
        Momentum of the early-exaggeration and main phases.
    max_grad_norm : float, optional
    max_step_norm : float, default 5
        Per-point step clipping, in embedding units.
    neighbors : str or NeighborBackend, default "auto"
    negative_gradient_method : str or NegativeGradient, default "auto"
    n_jobs : int, default 1
        Threads; negative values count back from the number of cores.
    random_state : None, int or Generator
    verbose : bool
        Print one line per phase with its timing (neighbours, affinities, initialisation,
        each optimisation phase) and show a progress bar during the optimisation.
    callbacks : callable or list of callables, optional
        ``f(iteration, kl, positions) -> bool`` every ``callbacks_every_iters`` iterations;
        True stops the optimisation and the embedding so far is returned.
    callbacks_every_iters : int, default 50
    """

    def __init__(self, n_components=2, perplexity=30, learning_rate="auto", early_exaggeration_iter=250,
                 early_exaggeration=12, n_iter=500, exaggeration=None, dof=1, theta=0.5,
                 n_interpolation_points=4, min_num_intervals=50, ints_in_interval=0.8,
                 initialization="pca", metric="euclidean", metric_params=None, initial_momentum=0.8,
                 final_momentum=0.8, max_grad_norm=None, max_step_norm=5, neighbors="auto",
                 negative_gradient_method="auto", n_jobs=1, random_state=None, verbose=False,
                 callbacks=None, callbacks_every_iters=50):
        self.n_components = n_components
        self.perplexity = perplexity
        self.learning_rate = learning_rate
        self.early_exaggeration_iter = early_exaggeration_iter
        self.early_exaggeration = early_exaggeration
        self.n_iter = n_iter
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

    def _check_params(self):
        if isinstance(self.n_components, bool) or not isinstance(self.n_components, (int, np.integer)) \
                or self.n_components < 1:
            raise ValueError(f"n_components must be a positive integer, got {self.n_components!r}.")
        check_positive(self.perplexity, "perplexity")
        for name in ("n_iter", "early_exaggeration_iter"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}.")
        check_positive(self.early_exaggeration, "early_exaggeration")
        if self.exaggeration is not None:
            check_positive(self.exaggeration, "exaggeration")
        check_positive(self.dof, "dof")
        check_positive(self.theta, "theta", allow_zero=True)
        if not (self.learning_rate == "auto" if isinstance(self.learning_rate, str) else True):
            raise ValueError(f"learning_rate must be a positive number or 'auto', got {self.learning_rate!r}.")
        if not isinstance(self.learning_rate, str):
            check_positive(self.learning_rate, "learning_rate")
        check_positive(self.callbacks_every_iters, "callbacks_every_iters", integer=True)
        return check_n_jobs(self.n_jobs)

    def _gradient_params(self):
        return dict(theta=self.theta, n_interpolation_points=self.n_interpolation_points,
                    min_num_intervals=self.min_num_intervals, ints_in_interval=self.ints_in_interval)

    def prepare_initial(self, X, affinities=None, initialization=None):
        """Validate ``X``, compute affinities and initial positions; no optimisation.

        Returns
        -------
        Embedding
        """
        n_jobs = self._check_params()
        X = check_data(X, accept_sparse=True)
        # resolve the gradient backend first: a bad name, dimension or size fails before any work
        backend = _gradients.get_gradient(self.negative_gradient_method, n_samples=X.shape[0],
                                          n_components=self.n_components, defaults=self._gradient_params())
        _check_exact_size(backend, X.shape[0], self.n_components)
        with reporting(self.verbose):  # the affinity model times "neighbours" and "affinities" itself
            if affinities is None:
                affinities = PerplexityBasedNN(self.perplexity, neighbors=self.neighbors, metric=self.metric,
                                               metric_params=self.metric_params, n_jobs=n_jobs,
                                               random_state=self.random_state)
            if not isinstance(affinities, AffinityModel):
                raise TypeError(f"affinities must be a fasttsne.affinity.AffinityModel, got {affinities!r}.")
            if affinities.P is None:
                affinities.fit(X)
            elif affinities.P.shape[0] != X.shape[0]:
                raise ValueError(f"the affinities were fitted on {affinities.P.shape[0]} points, X has {X.shape[0]}.")
        with phase("initialisation", self.verbose):
            init = self.initialization if initialization is None else initialization
            Y = initial_positions(init, X, self.n_components, self.random_state)
        return Embedding(Y, affinities, negative_gradient_method=self.negative_gradient_method,
                         gradient_params=self._gradient_params(), dof=self.dof, n_jobs=n_jobs,
                         random_state=self.random_state, n_features=X.shape[1])

    def fit(self, X, affinities=None, initialization=None):
        """Embed ``X``.

        Parameters
        ----------
        X : (N, D) array-like (or CSR where the neighbour backend accepts it)
        affinities : AffinityModel, optional
            Use these affinities (fitted, or fitted here on X) instead of the default
            ``PerplexityBasedNN(perplexity)``.
        initialization : optional
            Overrides the constructor's ``initialization``.

        Returns
        -------
        Embedding
        """
        embedding = self.prepare_initial(X, affinities, initialization)
        common = dict(learning_rate=self.learning_rate, max_grad_norm=self.max_grad_norm,
                      max_step_norm=self.max_step_norm, callbacks=self.callbacks,
                      callbacks_every_iters=self.callbacks_every_iters, inplace=True, verbose=self.verbose)
        with phase("optimisation", self.verbose):
            if self.early_exaggeration_iter > 0:
                embedding.optimize(self.early_exaggeration_iter, exaggeration=self.early_exaggeration,
                                   momentum=self.initial_momentum, **common)
            # fewer iterations than asked means a callback stopped the run: honour it
            if embedding.n_iter == self.early_exaggeration_iter:
                embedding.optimize(self.n_iter, exaggeration=self.exaggeration, momentum=self.final_momentum,
                                   **common)
        return embedding

    def fit_transform(self, X, affinities=None, initialization=None):
        """Embed ``X`` and return the positions as an (N, n_components) float64 array."""
        return np.array(self.fit(X, affinities, initialization))


def _check_exact_size(backend, n_samples, n_components):
    """Refuse the exact gradient above its size limit now, not after the neighbour search."""
    from .gradients.exact import MAX_EXACT_SAMPLES, ExactGradient
    if isinstance(backend, ExactGradient) and n_samples > MAX_EXACT_SAMPLES:
        instead = ("use 'fft' or 'bh'" if n_components <= 3 else
                   f"the approximate gradients ('bh', 'fft') need n_components <= 3, got {n_components}")
        raise ValueError(f"negative_gradient_method='exact' is O(N^2) and would take hours at "
                         f"N={n_samples} (limit {MAX_EXACT_SAMPLES}); {instead}.")
