"""The affinity-model protocol, and the machinery shared by the models built on a k-NN graph."""
import numpy as np
import scipy.sparse as sp

from .. import neighbors as _neighbors
from .. import registry
from .._params import InvalidParameterError
from .._scale import check_exponent, rescaled, scale_exponent
from .._sparse import sum_p_log_p, to_csr
from .._threads import check_n_jobs, effective_n_jobs
from .._validation import check_data, check_data_owned, handed_over
from ..neighbors import opentsne as _opentsne
from ..progress import phase, reporting
from .symmetrize import check_symmetrize, joint_from_graph

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

    Attributes
    ----------
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

    def to_new(self, X_new, *, k=None, neighbors=None, n_jobs=None, return_distances=False, **params):
        """Affinities of new points to the reference: (M, N) CSR, rows summing to 1.

        New points' rows are not symmetrised: new points do not attract the reference.

        Parameters
        ----------
        X_new : (M, D) array, or what the model takes for new points
        k : int, optional
            Reference neighbours per new point (each model's default otherwise); openTSNE's
            ``k_neighbors`` is another name for it ("auto": the default).
        neighbors : ((M, >= k) indices, (M, >= k) distances), optional
            X_new's reference neighbours sorted by distance, if already found (by
            :meth:`neighbors_of`, whose distances are in the index's units); the first k
            columns are used instead of a new query.
        n_jobs : None or int, optional
            Threads of the query and the calibration (None: the model's), resolved now.
        return_distances : bool, default False
            Also return the (M, k) neighbour indices and distances used, as openTSNE does.
        **params
            The model's :attr:`new_point_params`.

        Returns
        -------
        P_new : (M, N) CSR
        indices, distances : (M, k) arrays, with ``return_distances=True``
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

    Subclasses say how many neighbours the reference graph needs (``_n_neighbors`` for a
    search, ``_columns_for`` for a given index's graph), the conditionals P is built from
    (``_fitted_conditionals``), how new-point parameters turn into k and a kernel
    (``_plan_new``) and the rows that kernel gives (``_new_values``).

    A model is fitted by :meth:`fit` (``X`` searched with the ``neighbors`` backend), by
    :meth:`fit_index` (the graph of an openTSNE-style ``knn_index``, no search), or at
    construction, as in openTSNE, when the constructor is given the data or ``knn_index``.

    Parameters
    ----------
    neighbors : str, NeighborBackend class or instance, default "auto"
        See :func:`fasttsne.neighbors.get_backend`.
    method : optional
        openTSNE's name for ``neighbors`` (give one of the two).
    metric : str or callable, default "euclidean"
        "precomputed" takes a distance matrix or a sparse k-NN graph as X.
    metric_params : dict, optional
    symmetrize : True, False, "mean", "max" or "none", default True
        How P is made from each point's conditional distribution over its neighbours
        (:mod:`~fasttsne.affinity.symmetrize`): True or "mean" is standard t-SNE's
        (P + P^T) / 2N; "max" the element-wise maximum of P and P^T, normalised; False or
        "none" leaves P as the conditionals / N, not symmetric (each point then attracts
        only the neighbours it chose).
    n_jobs : None or int, default 1
        Threads, kept as given and resolved at each call (see :mod:`fasttsne._threads`).
    random_state : None, int or Generator
        Seeds approximate neighbour search.
    verbose : bool, default False
        Log the time of the neighbour search and of the affinities (logger "fasttsne").
    keep_graph : bool, default True
        Keep the k-NN graph ((N, k) indices and distances, 16 bytes an entry) after P is
        built, so that ``set_perplexity`` / ``set_perplexities`` recalibrate without a new
        search, as in openTSNE. False frees it as P is built, which lowers the peak memory
        of a fit (``TSNE`` builds its own model so).
    knn_kwargs : dict, optional
        Further keyword arguments of the neighbour backend's constructor (e.g.
        ``{"n_trees": 20}`` for "annoy"), as openTSNE's. Keys a named backend does not take
        are refused here; with "auto" or "approx" (chosen for the data), at :meth:`fit`,
        before the search. Refused with a backend instance (it carries its own settings)
        and with ``knn_index`` (no search is run).

    Attributes
    ----------
    knn_index : NeighborBackend
        openTSNE's name for :attr:`index`.
    """

    # defaults for models saved before these settings existed (None: standard symmetrisation)
    symmetrize = None
    verbose = False
    keep_graph = True
    knn_kwargs = None
    _graph = None

    def __init__(self, *, neighbors="auto", metric="euclidean", metric_params=None, n_jobs=1,
                 random_state=None, symmetrize=True, method=None, verbose=False, keep_graph=True,
                 knn_kwargs=None):
        if method is not None:
            if not (isinstance(neighbors, str) and neighbors == "auto"):
                raise InvalidParameterError("give the neighbour search as neighbors= or as openTSNE's method=, "
                                            "not both.")
            neighbors = method
        self.knn_kwargs = _checked_knn_kwargs(knn_kwargs, neighbors)
        self.neighbors = neighbors
        self.metric = metric
        self.metric_params = metric_params
        self.n_jobs = check_n_jobs(n_jobs)
        self.random_state = random_state
        self.symmetrize = check_symmetrize(symmetrize)
        self.verbose = bool(verbose)
        self.keep_graph = bool(keep_graph)
        self._graph = None

    def _start(self, data, knn_index):
        """openTSNE's construction: fit now on ``data`` or on ``knn_index``'s graph (one of them)."""
        if data is not None and knn_index is not None:
            raise InvalidParameterError("give the data or knn_index, not both: the index already holds the "
                                        "data's neighbours.")
        if data is not None:
            self.fit(data)
        elif knn_index is not None:
            if self.knn_kwargs:
                raise InvalidParameterError("knn_kwargs configure the neighbour search, which a model given "
                                            "knn_index does not run: configure the index instead.")
            self.fit_index(knn_index)

    @property
    def knn_index(self):
        """openTSNE's name for :attr:`index`: the neighbour index that places new points."""
        return self.index

    def _threads(self, n_jobs=None):
        """Threads for the work now: ``n_jobs`` when given, else the model's, resolved now."""
        return effective_n_jobs(self.n_jobs if n_jobs is None else n_jobs)

    def _n_neighbors(self, n_samples):
        """k to search for the reference graph, after any lowering (warns); sets the fitted
        parameters (``perplexity_``, ...)."""
        raise NotImplementedError

    def _columns_for(self, n_samples, k_available):
        """Columns of a given graph with ``k_available`` neighbours that P uses, after any
        lowering (warns); sets the fitted parameters."""
        raise NotImplementedError

    def _fitted_conditionals(self):
        """``distances -> (N, k)`` conditionals with the fitted parameters, rows summing to 1."""
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
        X, owned = check_data_owned(X, accept_sparse=True)
        n = X.shape[0]
        k = self._n_neighbors(n)
        self.index = _neighbors.get_backend(
            self.neighbors, n_samples=n, metric=self.metric, metric_params=self.metric_params,
            sparse=sp.issparse(X), n_jobs=self.n_jobs, random_state=self.random_state,
            n_features=X.shape[1], knn_kwargs=self.knn_kwargs)
        # the backend's metric, canonical: a backend instance given as neighbors brings its own
        self.scale_exponent_ = scale_exponent(X) if self.index.metric in DISTANCE_DEGREES else 0
        if self.scale_exponent_:
            X, owned = rescaled(X, self.scale_exponent_), True  # rescaling made a private copy
        with reporting(self.verbose):
            with phase("neighbours"), handed_over(X, owned):  # a copy made here is the index's to keep
                knn = list(self.index.build(X, k))
            self._set_graph(knn, k)
        return self

    def fit_index(self, knn_index):
        """Compute P from the graph of an openTSNE-style index (``knn_index.build()``), with
        no search of its own; returns self.

        Parameters
        ----------
        knn_index : fasttsne.nearest_neighbors.KNNIndex
            E.g. ``PrecomputedNeighbors(indices, distances)`` for a graph computed
            elsewhere, or ``Sklearn(x, k)``. It becomes :attr:`index`, which places new
            points. P uses the graph's first ``3 * perplexity`` columns (all of them for
            :class:`FixedSigmaNN` and :class:`Uniform`); a perplexity the graph is too
            small for is lowered to k / 3, with a warning.
        """
        if not isinstance(knn_index, _opentsne.KNNIndex):
            raise InvalidParameterError("knn_index must be a fasttsne.nearest_neighbors.KNNIndex (e.g. "
                                        f"PrecomputedNeighbors(indices, distances)), got {knn_index!r:.80}.")
        with reporting(self.verbose):
            with phase("neighbours"):
                graph = knn_index.build()
                if type(knn_index) not in _TRUSTED_INDEXES:  # a user's own search: check what it gave
                    graph = _opentsne.check_graph(*graph)
            n, k_available = graph[0].shape
            k = self._columns_for(n, k_available)
            self.index, self.scale_exponent_ = knn_index, 0  # the index's graph is in the data's units
            self._set_graph(list(graph), k)
        return self

    def _set_graph(self, knn, k):
        """P from the graph ``knn = [indices, distances]`` (its first ``k`` columns); the list
        is emptied, and the graph kept only with ``keep_graph``."""
        kept = None
        if self.keep_graph:
            # compact: a backend may return views of wider arrays, which would be held whole
            knn[:] = kept = (np.ascontiguousarray(knn[0]), np.ascontiguousarray(knn[1]))
        if knn[0].shape[1] > k:
            knn[:] = [knn[0][:, :k], knn[1][:, :k]]
        with phase("affinities"):
            # empties knn: unless kept, the graph is freed as P is built
            P = joint_from_graph(knn, self._fitted_conditionals(), self._symmetrize(), self._threads())
        self.P, self._graph, self.n_samples, self._sum_p_log_p = P, kept, P.shape[0], None

    def _symmetrize(self):
        return True if self.symmetrize is None else self.symmetrize

    def _recalibrate(self, k):
        """P again, on the first ``k`` columns of the kept graph, with the fitted parameters."""
        indices, distances = self._graph
        with reporting(self.verbose), phase("affinities"):
            self.P = joint_from_graph([indices[:, :k], distances[:, :k]], self._fitted_conditionals(),
                                      self._symmetrize(), self._threads())
        self._sum_p_log_p = None

    def _kept_columns(self, what):
        """Columns of the kept graph, or a RuntimeError saying why there is none."""
        self._check_fitted()
        if self._graph is None:
            raise RuntimeError(f"{what} recalibrates on the k-NN graph, which this {type(self).__name__} did not "
                               "keep (it was fitted with keep_graph=False, as TSNE's own model is, or is a "
                               "loaded or pickled copy); make a new model with the new setting instead.")
        return self._graph[0].shape[1]

    def __getstate__(self):
        # the graph only serves recalibration: saved maps, copies and pickles stay small
        state = dict(self.__dict__)
        state.pop("_graph", None)
        return state

    @classmethod
    def check_state(cls, state):
        """Refuse a saved state whose settings this model could not use (see :mod:`fasttsne.persist`)."""
        super().check_state(state)
        if state.get("symmetrize") is not None:
            check_symmetrize(state["symmetrize"])
        if state.get("_graph") is not None:  # never saved: set_perplexity would trust it
            raise ValueError("the affinity model's state holds a k-NN graph, which fasttsne never saves.")
        check_n_jobs(state.get("n_jobs", 1))

    def neighbors_needed(self, *, k=None, k_neighbors=None, **params):
        self._check_new_params(params)
        self._check_fitted()
        return self._plan_new(_one_k(k, k_neighbors), False, **params)[0]

    def to_new(self, X_new, *, k=None, neighbors=None, n_jobs=None, return_distances=False, k_neighbors=None,
               **params):
        self._check_new_params(params)
        self._check_fitted()
        k, settings = self._plan_new(_one_k(k, k_neighbors), True, **params)
        indices, distances = self._new_neighbors(X_new, k, neighbors, n_jobs)
        P_new = to_csr(indices, self._new_values(distances, settings, n_jobs), self.n_samples)
        return (P_new, indices, distances) if return_distances else P_new

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


#: Index classes whose graphs come from fasttsne's own search or checks (not re-checked).
_TRUSTED_INDEXES = (_opentsne.Sklearn, _opentsne.Annoy, _opentsne.NNDescent, _opentsne.PrecomputedDistanceMatrix,
                    _opentsne.PrecomputedNeighbors)


def _one_k(k, k_neighbors):
    """New points' k from fasttsne's ``k`` or openTSNE's ``k_neighbors`` ("auto": the default)."""
    if isinstance(k_neighbors, str) and k_neighbors == "auto":
        k_neighbors = None
    if k is not None and k_neighbors is not None:
        raise InvalidParameterError("give new points' neighbours as k= or as openTSNE's k_neighbors=, not both.")
    return k if k_neighbors is None else k_neighbors


def _checked_knn_kwargs(knn_kwargs, neighbors):
    """``knn_kwargs`` as a dict (None when empty), checked now against a backend named or
    given as a class; "auto" and "approx" are checked at fit, once the data chose one."""
    if knn_kwargs is None:
        return None
    if not isinstance(knn_kwargs, dict) or not all(isinstance(key, str) for key in knn_kwargs):
        raise InvalidParameterError(f"knn_kwargs must be a dict of keyword arguments, got {knn_kwargs!r:.80}.")
    if not knn_kwargs:
        return None
    if isinstance(neighbors, _neighbors.NeighborBackend):
        raise InvalidParameterError("knn_kwargs configure a backend made from a name; this one is an "
                                    f"instance ({neighbors!r:.60}): set them on it instead.")
    if isinstance(neighbors, str) and neighbors not in ("auto", "approx"):
        _neighbors.check_backend_params(registry.lookup(_neighbors.KIND, neighbors), knn_kwargs)
    elif isinstance(neighbors, type) and issubclass(neighbors, _neighbors.NeighborBackend):
        _neighbors.check_backend_params(neighbors, knn_kwargs)
    return dict(knn_kwargs)
