"""The affinity-model protocol, and the machinery shared by the models built on a k-NN graph."""
import numpy as np
import scipy.sparse as sp

from .. import neighbors as _neighbors
from .._params import InvalidParameterError
from .._scale import check_exponent, rescaled, scale_exponent
from .._sparse import sum_p_log_p, to_csr
from .._threads import check_n_jobs, effective_n_jobs
from .._validation import check_data
from ..progress import phase

__all__ = ["AffinityModel", "NeighborModel", "DISTANCE_DEGREES"]

#: Metrics under which data divided by ``c`` has distances divided by ``c ** degree``: the
#: neighbour models divide such data by a power of two when its magnitude is far from 1
#: (see :mod:`fasttsne._scale`), which leaves the neighbours and the perplexity-calibrated
#: affinities as they are. Other metrics (callables, ratios, boolean ones) use the data as
#: given.
DISTANCE_DEGREES = {"euclidean": 1, "sqeuclidean": 2, "manhattan": 1, "chebyshev": 1, "minkowski": 1,
                    "cosine": 0, "correlation": 0, "precomputed": 1}


class AffinityModel:
    """Base class of the affinity models.

    A model, once fitted on the reference data, holds ``P`` and answers for new points:
    :meth:`neighbors_needed` says how many reference neighbours :meth:`to_new` uses for given
    new-point parameters, so a caller that needs neighbours too (``Embedding.transform``'s
    "median" initialisation) queries the index once and hands the result to :meth:`to_new`.

    Attributes (after fit)
    ----------------------
    P : scipy.sparse.csr_matrix, (N, N)
        Symmetric, sums to 1, int32 indices; float32 values for the models built on a k-NN
        graph (see :func:`~fasttsne.affinity.calibration.joint_from_neighbors`), float64
        otherwise.
    index : NeighborBackend or None
        The fitted neighbour backend that places new points (None for :class:`Precomputed`).
    scale_exponent_ : int
        The data (and new points) are divided by ``2 ** scale_exponent_`` before the index
        sees them, so the index's distances are in those units; 0 for data of ordinary
        magnitude (see :mod:`fasttsne._scale`).
    n_samples : int
    new_point_params : tuple of str
        Names of the keyword parameters :meth:`to_new` and :meth:`neighbors_needed` take
        besides ``k`` (e.g. ``("perplexity",)``).
    """

    P = None
    index = None
    n_samples = None
    new_point_params = ()
    scale_exponent_ = 0

    def fit(self, X):
        raise NotImplementedError

    def neighbors_needed(self, *, k=None, **params):
        """Reference neighbours per new point that ``to_new(X_new, k=k, **params)`` uses.

        Returns
        -------
        int
            0 when the model takes the new points' rows as given (no neighbour search).
        """
        raise NotImplementedError

    def to_new(self, X_new, *, k=None, neighbors=None, n_jobs=None, **params):
        """Affinities of new points to the reference: (M, N) CSR, rows summing to 1.

        New points' rows are not symmetrised: new points do not attract the reference.

        Parameters
        ----------
        X_new : (M, D) array, or what the model takes for new points
        k : int, optional
            Reference neighbours per new point (each model's default otherwise).
        neighbors : ((M, >= k) indices, (M, >= k) distances), optional
            X_new's reference neighbours sorted by distance, if already found (by
            :meth:`neighbors_of`, whose distances are in the index's units); the first k
            columns are used instead of a new query.
        n_jobs : None or int, optional
            Threads of the query and the calibration (None: the model's), resolved now.
        **params
            The model's :attr:`new_point_params`.
        """
        raise NotImplementedError

    def neighbors_of(self, X_new, k, n_jobs=None):
        """The ``k`` nearest reference points of each new point, from the fitted index.

        Parameters
        ----------
        X_new : (M, D) array (or CSR where the index takes it)
            In the units of the data the model was fitted on; divided here by
            ``2 ** scale_exponent_`` like that data was.
        k : int
        n_jobs : None or int, optional
            Threads of the query (None: the index's own).

        Returns
        -------
        indices : (M, k) int64
        distances : (M, k) float64
            In the index's units (those of the data divided by ``2 ** scale_exponent_``),
            sorted by increasing distance: what :meth:`to_new` takes as ``neighbors``.
        """
        if self.index is None:
            raise RuntimeError(f"the {type(self).__name__} model has no neighbour index.")
        X_new = check_data(X_new, name="X_new", accept_sparse=True, min_samples=1)
        return self.index.query(rescaled(X_new, self.scale_exponent_), k, n_jobs=n_jobs)

    @classmethod
    def check_state(cls, state):
        """Refuse a saved state (the attribute dict :func:`fasttsne.load` restores) whose scale
        exponent no fit could have produced; raises ValueError."""
        check_exponent(state.get("scale_exponent_", 0))

    @property
    def sum_p_log_p(self):
        """sum_ij p_ij log p_ij, the constant part of KL(P || Q) (nats)."""
        if getattr(self, "_sum_p_log_p", None) is None:
            self._sum_p_log_p = sum_p_log_p(self.P.data)
        return self._sum_p_log_p

    def _check_new_params(self, params):
        unknown = sorted(set(params) - set(self.new_point_params))
        if unknown:
            takes = ", ".join(("k",) + tuple(self.new_point_params))
            raise InvalidParameterError(f"{type(self).__name__} does not take {', '.join(unknown)} for new "
                                        f"points (it takes {takes}).")

    def _check_fitted(self):
        if self.P is None:
            raise RuntimeError(f"the {type(self).__name__} model has not been fitted.")


class NeighborModel(AffinityModel):
    """Shared machinery of the models built on a k-NN graph from a neighbour backend.

    Subclasses say how many neighbours the reference graph needs (``_n_neighbors``), how
    its P is built (``_P_from``), how new-point parameters turn into k and a kernel
    (``_plan_new``) and the rows that kernel gives (``_new_values``).

    Parameters (common to all subclasses)
    -------------------------------------
    neighbors : str, NeighborBackend class or instance, default "auto"
        See :func:`fasttsne.neighbors.get_backend`.
    metric : str or callable, default "euclidean"
        "precomputed" takes a distance matrix or a sparse k-NN graph as X.
    metric_params : dict, optional
    n_jobs : None or int, default 1
        Threads, kept as given and resolved at each call (see :mod:`fasttsne._threads`).
    random_state : None, int or Generator
        Seeds approximate neighbour search.
    """

    def __init__(self, *, neighbors="auto", metric="euclidean", metric_params=None, n_jobs=1,
                 random_state=None):
        self.neighbors = neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = check_n_jobs(n_jobs)
        self.random_state = random_state

    def _threads(self, n_jobs=None):
        """Threads for the work now: ``n_jobs`` when given, else the model's, resolved now."""
        return effective_n_jobs(self.n_jobs if n_jobs is None else n_jobs)

    def _n_neighbors(self, n_samples):
        """k for the reference graph, after any lowering (warns)."""
        raise NotImplementedError

    def _P_from(self, knn):
        """Symmetric P from the reference k-NN graph ``[indices, distances]`` (may empty the list)."""
        raise NotImplementedError

    def _plan_new(self, k, warn, **params):
        """(k, kernel settings) for new points, k lowered to what the reference allows.

        ``warn`` False lowers silently: :meth:`neighbors_needed` only reports the k that
        :meth:`to_new`, which warns, will use.
        """
        raise NotImplementedError

    def _new_values(self, distances, settings, n_jobs=None):
        """(M, k) conditional affinities of new points from their neighbour distances,
        computed on ``n_jobs`` threads (None: the model's)."""
        raise NotImplementedError

    def fit(self, X):
        """Find the neighbours of ``X`` and compute P; returns self.

        Parameters
        ----------
        X : (N, D) array, CSR matrix (backends with sparse support), or with
            ``metric="precomputed"`` an (N, N) distance matrix or sparse k-NN graph.
        """
        X = check_data(X, accept_sparse=True)
        n = X.shape[0]
        k = self._n_neighbors(n)
        self.index = _neighbors.get_backend(
            self.neighbors, n_samples=n, metric=self.metric, metric_params=self.metric_params,
            sparse=sp.issparse(X), n_jobs=self.n_jobs, random_state=self.random_state,
            n_features=X.shape[1])
        # the backend's metric, canonical: a backend instance given as neighbors brings its own
        self.scale_exponent_ = scale_exponent(X) if self.index.metric in DISTANCE_DEGREES else 0
        X = rescaled(X, self.scale_exponent_)
        with phase("neighbours"):
            knn = list(self.index.build(X, k))
        with phase("affinities"):
            self.P = self._P_from(knn)  # empties knn: the graph is freed as P is built
        self.n_samples = n
        self._sum_p_log_p = None
        return self

    def neighbors_needed(self, *, k=None, **params):
        self._check_new_params(params)
        self._check_fitted()
        return self._plan_new(k, False, **params)[0]

    def to_new(self, X_new, *, k=None, neighbors=None, n_jobs=None, **params):
        self._check_new_params(params)
        self._check_fitted()
        k, settings = self._plan_new(k, True, **params)
        indices, distances = self._new_neighbors(X_new, k, neighbors, n_jobs)
        return to_csr(indices, self._new_values(distances, settings, n_jobs), self.n_samples)

    neighbors_needed.__doc__ = AffinityModel.neighbors_needed.__doc__
    to_new.__doc__ = AffinityModel.to_new.__doc__

    def _new_neighbors(self, X_new, k, neighbors=None, n_jobs=None):
        """Neighbours of new points among the reference: (M, k) indices, distances."""
        if neighbors is not None and neighbors[0].shape[1] >= k:
            return neighbors[0][:, :k], neighbors[1][:, :k]
        return self.neighbors_of(X_new, k, n_jobs)

    def _in_index_units(self, distance):
        """A distance in the metric's units on the data as given (a bandwidth, say), in the
        units of the index, which saw the data divided by ``2 ** scale_exponent_``."""
        if not self.scale_exponent_:
            return distance
        return float(np.ldexp(distance, -DISTANCE_DEGREES[self.index.metric] * self.scale_exponent_))
