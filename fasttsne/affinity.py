"""Affinity models: the high-dimensional similarities P that t-SNE preserves.

Each model, once fitted on the reference data, holds

- ``P``: the symmetric, non-negative (N, N) CSR matrix (int32 indices) whose entries sum to 1;
- ``index``: the fitted neighbour backend, used by :meth:`~AffinityModel.to_new` to place
  new points (None for :class:`Precomputed`);

and ``to_new(X_new, k=None, ...)`` returns the (M, N) CSR affinities of new points to the
reference, each row summing to 1 (not symmetrised: new points do not attract the reference).

Models:

- :class:`PerplexityBasedNN` (default): Gaussian kernel calibrated to a perplexity on the
  k = 3 * perplexity nearest neighbours;
- :class:`Multiscale`: the average of several such kernels (e.g. perplexities 30 and N / 100);
- :class:`FixedSigmaNN`: one Gaussian bandwidth for every point;
- :class:`Uniform`: equal weights on the k nearest neighbours;
- :class:`Precomputed`: a P the user computed, validated and normalised.

A perplexity (or k) larger than the data allows is lowered with a ``UserWarning`` that
says so.
"""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from . import neighbors as _neighbors
from ._ext import _affinity
from ._threads import check_n_jobs, effective_n_jobs
from ._validation import check_data, check_positive
from .progress import phase

__all__ = ["AffinityModel", "PerplexityBasedNN", "Multiscale", "FixedSigmaNN", "Uniform", "Precomputed",
           "joint_probabilities", "joint_from_neighbors", "conditional_probabilities"]

#: Tolerance of the perplexity binary search, in nats of entropy.
PERPLEXITY_TOL = 1e-5
#: Binary-search steps per point.
PERPLEXITY_MAX_ITER = 200
#: Neighbours per point searched per unit of perplexity (k = 3 * perplexity).
NEIGHBORS_PER_PERPLEXITY = 3
#: Default neighbours of the models without a perplexity (FixedSigmaNN, Uniform).
DEFAULT_K = 30
#: Default perplexity of new points' affinities in ``PerplexityBasedNN.to_new``.
NEW_POINT_PERPLEXITY = 5.0
#: Entries of P converted to float64 at a time by :func:`sum_p_log_p`.
SUM_BLOCK = 1 << 20


def conditional_probabilities(distances, perplexity, n_jobs=1):
    """Calibrate Gaussian conditionals p_{j|i} on k-NN distances to a target perplexity.

    Parameters
    ----------
    distances : (N, k) array
        Distances (not squared) to each point's neighbours.
    perplexity : float or (N,) array
    n_jobs : int

    Returns
    -------
    P : (N, k) float64
        Rows sum to 1.
    betas : (N,) float64
        The calibrated precisions 1 / (2 sigma_i^2).
    """
    distances = np.ascontiguousarray(distances, dtype=np.float64)
    n = distances.shape[0]
    perplexities = np.ascontiguousarray(np.broadcast_to(np.asarray(perplexity, dtype=np.float64), (n,)))
    P = np.empty_like(distances)
    betas = np.empty(n, dtype=np.float64)
    _affinity.calibrate_perplexity(distances, perplexities, P, betas, PERPLEXITY_TOL,
                                   PERPLEXITY_MAX_ITER, n_jobs)
    return P, betas


def fixed_sigma_probabilities(distances, sigma):
    """Conditionals p_{j|i} ∝ exp(-d_ij^2 / (2 sigma^2)), rows summing to 1.

    Parameters
    ----------
    distances : (N, k) array
        Distances (not squared).
    sigma : float
        Bandwidth, in the distances' units.

    Returns
    -------
    (N, k) float64

    Notes
    -----
    Each row is shifted by its smallest squared distance before the exponential. That
    leaves the normalised row unchanged and keeps rows whose neighbours are all far (many
    sigmas) from underflowing to 0 / 0.
    """
    d2 = np.square(np.asarray(distances, dtype=np.float64))
    d2 -= d2.min(axis=1, keepdims=True)
    W = np.exp(-d2 / (2.0 * sigma * sigma))
    W /= W.sum(axis=1, keepdims=True)
    return W


def to_csr(indices, values, n_cols):
    """(M, k) neighbour indices and values -> (M, n_cols) CSR with int32 indices."""
    indices = np.asarray(indices)
    m, k = indices.shape
    # int32 from the start (when they fit): scipy then keeps int32 indices throughout
    itype = np.int32 if max(m * k, n_cols) < 2 ** 31 else np.int64
    indptr = np.arange(0, m * k + 1, k, dtype=itype)
    # copies: scipy's sum_duplicates works in place on the arrays it is given
    M = sp.csr_matrix((np.array(values, dtype=np.float64).ravel(), indices.ravel().astype(itype), indptr),
                      shape=(m, n_cols))
    M.sum_duplicates()
    M.indices = M.indices.astype(np.int32, copy=False)
    M.indptr = M.indptr.astype(np.int32 if M.nnz < 2 ** 31 else np.int64, copy=False)
    return M


def joint_probabilities(P_conditional):
    """Symmetrise conditionals: P = (P_cond + P_cond^T) / (2N), a CSR summing to 1.

    The result has int32 indices (what the Cython kernels take), sorted, no duplicates.
    """
    n = P_conditional.shape[0]
    P = (P_conditional + P_conditional.T).tocsr()
    P.data /= 2.0 * n
    P.eliminate_zeros()
    P.sum_duplicates()
    P.sort_indices()
    if P.nnz >= 2 ** 31:
        raise ValueError("the affinity matrix has more than 2^31 non-zeros; lower the perplexity.")
    P.indices = P.indices.astype(np.int32, copy=False)
    P.indptr = P.indptr.astype(np.int32, copy=False)
    return P


def joint_from_neighbors(knn, conditionals, n_jobs=1):
    """Symmetric joint P = (P_cond + P_cond^T) / (2N) straight from a k-NN graph.

    Equal to ``joint_probabilities(to_csr(indices, conditionals(distances), N))`` but without
    scipy's temporaries: only the (N, k) rows sorted by column and the result are allocated.

    Parameters
    ----------
    knn : list ``[indices, distances]``, (N, k) each
        Emptied here, so that arrays the caller does not otherwise hold are freed as soon as
        they have been used (the neighbour search's output is the largest allocation
        besides P).
    conditionals : callable
        ``distances -> (N, k)`` non-negative conditional affinities.
    n_jobs : int

    Returns
    -------
    (N, N) CSR, float32 values (computed in float64, rounded once: P is the largest array of
    a fit, and its 4 bytes an entry are read every iteration), int32 indices sorted within
    rows, summing to 1 when the conditionals' rows do.
    """
    indices = np.ascontiguousarray(knn.pop(0), dtype=np.int64)
    cond = np.ascontiguousarray(conditionals(knn.pop(0)), dtype=np.float64)
    n, k = indices.shape
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"neighbour indices must lie in [0, {n}), got [{indices.min()}, {indices.max()}].")
    rows = _affinity.sorted_forward_rows(indices, cond, n_jobs)
    del indices, cond
    indptr, cols, data = _affinity.symmetric_from_rows(*rows, 2.0 * n, n_jobs)
    del rows
    if data.size >= 2 ** 31:
        raise ValueError("the affinity matrix has more than 2^31 non-zeros; lower the perplexity.")
    P = sp.csr_matrix((data, cols, indptr.astype(np.int32)), shape=(n, n), copy=False)
    P.has_sorted_indices = True
    return P


def sum_p_log_p(values):
    """``sum v log v`` over the non-negative ``values`` (any float dtype; 0 log 0 = 0),
    accumulated in float64.

    In blocks, so float32 P never makes a float64 copy of itself.
    """
    total = 0.0
    for start in range(0, values.size, SUM_BLOCK):
        v = values[start:start + SUM_BLOCK].astype(np.float64)
        v = v[v > 0]
        total += float(np.dot(v, np.log(v)))
    return total


def lowered_perplexity(perplexity, n_available, described_as, formula, stacklevel=3):
    """``perplexity``, or the largest one ``n_available`` neighbours support, with a warning.

    A perplexity needs 3 * perplexity neighbours, so the limit is n_available / 3 (at
    least 1).

    Parameters
    ----------
    perplexity : float
    n_available : int
        Candidate neighbours: N - 1 for the reference itself, N or k for new points.
    described_as, formula : str
        How the warning names the data ("40 points") and the limit ("(N - 1) / 3").
    """
    limit = max(n_available / NEIGHBORS_PER_PERPLEXITY, 1.0)
    if perplexity > limit:
        warnings.warn(f"perplexity {perplexity:g} is too large for {described_as} (at most {formula} = "
                      f"{limit:.3g}); using perplexity {limit:.3g}.", UserWarning, stacklevel=stacklevel)
        return limit
    return float(perplexity)


def _check_k(k, name="k"):
    if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)) or k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}.")
    return int(k)


def _lowered_k(k, n_points, what, stacklevel=3):
    if k > n_points:
        warnings.warn(f"k = {k} neighbours is too many for {n_points} {what}; using k = {n_points}.",
                      UserWarning, stacklevel=stacklevel)
        return n_points
    return k


class AffinityModel:
    """Base class: subclasses implement :meth:`fit` and :meth:`to_new`.

    Attributes (after fit)
    ----------------------
    P : scipy.sparse.csr_matrix, (N, N)
        Symmetric, sums to 1, int32 indices; float32 values for the models built on a k-NN
        graph (see :func:`joint_from_neighbors`), float64 otherwise.
    index : NeighborBackend or None
    n_samples : int
    """

    P = None
    index = None
    n_samples = None

    def fit(self, X):
        raise NotImplementedError

    def to_new(self, X_new, k=None, **params):
        raise NotImplementedError

    @property
    def sum_p_log_p(self):
        """sum_ij p_ij log p_ij, the constant part of KL(P || Q) (nats)."""
        if getattr(self, "_sum_p_log_p", None) is None:
            self._sum_p_log_p = sum_p_log_p(self.P.data)
        return self._sum_p_log_p


class _NeighborModel(AffinityModel):
    """Shared machinery of the models built on a k-NN graph from a neighbour backend.

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

    def _n_neighbors(self, n_samples):
        """k for the reference graph, after any lowering (warns)."""
        raise NotImplementedError

    def _P_from(self, knn):
        """Symmetric P from the reference k-NN graph ``[indices, distances]`` (may empty the list)."""
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
        with phase("neighbours"):
            knn = list(self.index.build(X, k))
        with phase("affinities"):
            self.P = self._P_from(knn)  # empties knn: the graph is freed as P is built
        self.n_samples = n
        self._sum_p_log_p = None
        return self

    def _threads(self, n_jobs=None):
        """Threads for the work now: ``n_jobs`` when given, else the model's, resolved now."""
        return effective_n_jobs(self.n_jobs if n_jobs is None else n_jobs)

    def _new_neighbors(self, X_new, k, neighbors=None, n_jobs=None):
        """Neighbours of new points among the reference: (M, k) indices, distances.

        ``neighbors``, a query of the same points for at least k neighbours (sorted
        ascending), is used instead of a new query when given: ``Embedding.prepare_partial``
        asks the index once for what the initialisation and the affinities both need.
        """
        if self.index is None or self.P is None:
            raise RuntimeError(f"the {type(self).__name__} model has not been fitted.")
        if neighbors is not None and neighbors[0].shape[1] >= k:
            return neighbors[0][:, :k], neighbors[1][:, :k]
        X_new = check_data(X_new, name="X_new", accept_sparse=True, min_samples=1)
        return self.index.query(X_new, k, n_jobs=n_jobs)


class PerplexityBasedNN(_NeighborModel):
    """Gaussian affinities on the k = min(N - 1, 3 * perplexity) nearest neighbours.

    Parameters
    ----------
    perplexity : float, default 30
        Effective number of neighbours. Lowered, with a warning, to (N - 1) / 3 when the
        data has too few points for it.
    neighbors, metric, metric_params, n_jobs, random_state
        See ``_NeighborModel`` (neighbour search settings).

    Attributes (after fit)
    ----------------------
    perplexity_ : float
        The perplexity used (after any lowering).
    """

    def __init__(self, perplexity=30.0, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.perplexity = check_positive(perplexity, "perplexity")

    def effective_perplexity(self, n_samples):
        """The perplexity used for ``n_samples`` points (lowered with a warning if needed)."""
        return lowered_perplexity(self.perplexity, n_samples - 1, f"{n_samples} points", "(N - 1) / 3",
                                  stacklevel=5)

    def _n_neighbors(self, n_samples):
        self.perplexity_ = self.effective_perplexity(n_samples)
        return min(n_samples - 1, int(NEIGHBORS_PER_PERPLEXITY * self.perplexity_))

    def _P_from(self, knn):
        return joint_from_neighbors(knn, self._conditionals(self.perplexity_), self._threads())

    def _conditionals(self, perplexity):
        return lambda distances: conditional_probabilities(distances, perplexity, self._threads())[0]

    def from_neighbors(self, indices, distances, perplexity=None):
        """Symmetric P from a k-NN graph: (N, k) indices and distances."""
        perplexity = self.perplexity if perplexity is None else perplexity
        return joint_from_neighbors([indices, distances], self._conditionals(perplexity), self._threads())

    def to_new(self, X_new, k=None, perplexity=NEW_POINT_PERPLEXITY, neighbors=None, n_jobs=None):
        """Affinities of new points to the reference, (M, N) CSR with rows summing to 1.

        Parameters
        ----------
        X_new : (M, D) array
        k : int, optional
            Reference neighbours per new point; default 3 * perplexity (at most N).
        perplexity : float, default 5
            Lowered, with a warning, to k / 3 when k neighbours cannot support it.
        neighbors : ((M, >= k) indices, distances), optional
            X_new's reference neighbours, if already found (see ``_new_neighbors``).
        n_jobs : int, optional
            Threads of the query and the calibration (None: the model's), resolved now.
        """
        check_positive(perplexity, "perplexity")
        if k is None:
            perplexity = lowered_perplexity(perplexity, self.n_samples, f"{self.n_samples} reference points",
                                            "N / 3")
            k = max(1, min(self.n_samples, int(NEIGHBORS_PER_PERPLEXITY * perplexity)))
        else:
            k = _lowered_k(_check_k(k), self.n_samples, "reference points")
            perplexity = lowered_perplexity(perplexity, k, f"k = {k} neighbours", "k / 3")
        indices, distances = self._new_neighbors(X_new, k, neighbors, n_jobs)
        cond, _ = conditional_probabilities(distances, perplexity, self._threads(n_jobs))
        return to_csr(indices, cond, self.n_samples)


class Multiscale(_NeighborModel):
    """The average of Gaussian affinities at several perplexities (multi-scale similarities).

    Each point's conditional distribution is the mean of its Gaussian conditionals
    calibrated to each perplexity on the same k = 3 * max(perplexities) neighbours, which
    keeps local structure from the small perplexity and global structure from the large
    one. Kobak & Berens (2019) recommend ``[30, N / 100]`` for large data:
    ``Multiscale.for_size(N)`` builds that.

    Parameters
    ----------
    perplexities : sequence of float, default (30,)
        Each is lowered, with a warning, to (N - 1) / 3 when needed.
    neighbors, metric, metric_params, n_jobs, random_state
        See ``_NeighborModel``.

    Attributes (after fit)
    ----------------------
    perplexities_ : list of float
    """

    def __init__(self, perplexities=(30.0,), *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.perplexities = self._check_perplexities(perplexities)

    @classmethod
    def for_size(cls, n_samples, **params):
        """Perplexities 30 and N / 100 (Kobak & Berens), or just 30 when N / 100 <= 30."""
        large = n_samples / 100.0
        return cls([30.0, large] if large > 30.0 else [30.0], **params)

    @staticmethod
    def _check_perplexities(perplexities):
        if np.isscalar(perplexities):
            perplexities = [perplexities]
        perplexities = [float(check_positive(p, "perplexity")) for p in perplexities]
        if not perplexities:
            raise ValueError("perplexities must hold at least one perplexity.")
        return perplexities

    def _n_neighbors(self, n_samples):
        self.perplexities_ = [
            lowered_perplexity(p, n_samples - 1, f"{n_samples} points", "(N - 1) / 3", stacklevel=5)
            for p in self.perplexities]
        return min(n_samples - 1, int(NEIGHBORS_PER_PERPLEXITY * max(self.perplexities_)))

    def _conditionals(self, distances, perplexities, n_jobs=None):
        return sum(conditional_probabilities(distances, p, self._threads(n_jobs))[0] for p in perplexities) \
            / len(perplexities)

    def _P_from(self, knn):
        return joint_from_neighbors(knn, lambda d: self._conditionals(d, self.perplexities_), self._threads())

    def from_neighbors(self, indices, distances, perplexities=None):
        """Symmetric P from a k-NN graph: (N, k) indices and distances."""
        perplexities = self._check_perplexities(self.perplexities if perplexities is None else perplexities)
        return joint_from_neighbors([indices, distances], lambda d: self._conditionals(d, perplexities),
                                    self._threads())

    def to_new(self, X_new, k=None, perplexity=None, neighbors=None, n_jobs=None):
        """Affinities of new points to the reference, (M, N) CSR with rows summing to 1.

        Parameters
        ----------
        X_new : (M, D) array
        k : int, optional
            Default 3 * max(perplexities), at most N.
        perplexity : float or sequence of float, optional
            Default: the fitted perplexities. Each is lowered, with a warning, to k / 3
            when needed.
        neighbors : ((M, >= k) indices, distances), optional
            X_new's reference neighbours, if already found (see ``_new_neighbors``).
        n_jobs : int, optional
            Threads of the query and the calibration (None: the model's), resolved now.
        """
        perplexities = self._check_perplexities(self.perplexities_ if perplexity is None else perplexity)
        if k is None:
            perplexities = [
                lowered_perplexity(p, self.n_samples, f"{self.n_samples} reference points", "N / 3")
                for p in perplexities]
            k = max(1, min(self.n_samples, int(NEIGHBORS_PER_PERPLEXITY * max(perplexities))))
        else:
            k = _lowered_k(_check_k(k), self.n_samples, "reference points")
            perplexities = [lowered_perplexity(p, k, f"k = {k} neighbours", "k / 3") for p in perplexities]
        indices, distances = self._new_neighbors(X_new, k, neighbors, n_jobs)
        return to_csr(indices, self._conditionals(distances, perplexities, n_jobs), self.n_samples)


class FixedSigmaNN(_NeighborModel):
    """Gaussian affinities with one bandwidth ``sigma`` for every point, on k neighbours.

    Parameters
    ----------
    sigma : float
        Bandwidth, in the metric's distance units.
    k : int, default 30
        Neighbours per point; lowered, with a warning, to N - 1 when needed.
    neighbors, metric, metric_params, n_jobs, random_state
        See ``_NeighborModel``.
    """

    def __init__(self, sigma, k=DEFAULT_K, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.sigma = float(check_positive(sigma, "sigma"))
        self.k = _check_k(k)

    def _n_neighbors(self, n_samples):
        return _lowered_k(self.k, n_samples - 1, "other points", stacklevel=5)

    def _P_from(self, knn):
        return joint_from_neighbors(knn, lambda d: fixed_sigma_probabilities(d, self.sigma), self._threads())

    def to_new(self, X_new, k=None, sigma=None, perplexity=None, neighbors=None, n_jobs=None):
        """Affinities of new points to the reference, (M, N) CSR with rows summing to 1.

        Parameters
        ----------
        X_new : (M, D) array
        k : int, optional
            Default: the model's k (at most N).
        sigma : float, optional
            Default: the model's sigma.
        perplexity : optional
            Not used: the bandwidth is ``sigma``. Accepted so that ``Embedding.transform``
            can call every model the same way.
        neighbors : ((M, >= k) indices, distances), optional
            X_new's reference neighbours, if already found (see ``_new_neighbors``).
        n_jobs : int, optional
            Threads of the query and the calibration (None: the model's), resolved now.
        """
        sigma = self.sigma if sigma is None else float(check_positive(sigma, "sigma"))
        k = _lowered_k(self.k if k is None else _check_k(k), self.n_samples, "reference points")
        indices, distances = self._new_neighbors(X_new, k, neighbors, n_jobs)
        return to_csr(indices, fixed_sigma_probabilities(distances, sigma), self.n_samples)


class Uniform(_NeighborModel):
    """Equal affinities on the k nearest neighbours (a symmetrised k-NN graph).

    Parameters
    ----------
    k : int, default 30
        Neighbours per point; lowered, with a warning, to N - 1 when needed.
    neighbors, metric, metric_params, n_jobs, random_state
        See ``_NeighborModel``.
    """

    def __init__(self, k=DEFAULT_K, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.k = _check_k(k)

    def _n_neighbors(self, n_samples):
        return _lowered_k(self.k, n_samples - 1, "other points", stacklevel=5)

    def _P_from(self, knn):
        return joint_from_neighbors(knn, lambda d: np.full(d.shape, 1.0 / d.shape[1]), self._threads())

    def to_new(self, X_new, k=None, perplexity=None, neighbors=None, n_jobs=None):
        """Affinities of new points to the reference: 1 / k on each of its k neighbours.

        Parameters
        ----------
        X_new : (M, D) array
        k : int, optional
            Default: the model's k (at most N).
        perplexity : optional
            Not used (the weights are uniform). Accepted so that ``Embedding.transform`` can
            call every model the same way.
        neighbors : ((M, >= k) indices, distances), optional
            X_new's reference neighbours, if already found (see ``_new_neighbors``).
        n_jobs : int, optional
            Threads of the query and the calibration (None: the model's), resolved now.
        """
        k = _lowered_k(self.k if k is None else _check_k(k), self.n_samples, "reference points")
        indices, _ = self._new_neighbors(X_new, k, neighbors, n_jobs)
        return to_csr(indices, np.full(indices.shape, 1.0 / k), self.n_samples)


class Precomputed(AffinityModel):
    """A user's affinity matrix, validated, symmetrised and normalised to sum to 1.

    Parameters
    ----------
    P : (N, N) sparse matrix or dense array
        Non-negative, finite, not all zero. An asymmetric P is replaced by
        (P + P^T) / 2; a non-zero diagonal is dropped (a point's affinity to itself has no
        meaning in t-SNE). Both come with a warning.

    Notes
    -----
    There is no neighbour index (``index`` is None): :meth:`to_new` takes the new points'
    affinities to the reference, which the user computes the same way as P.
    """

    def __init__(self, P):
        P = self._validated(P, "P")
        if P.shape[0] != P.shape[1]:
            raise ValueError(f"P must be square (N, N), got shape {P.shape}.")
        if P.diagonal().any():
            warnings.warn("P has a non-zero diagonal; dropping it (self-affinities are not used).",
                          UserWarning, stacklevel=2)
            P.setdiag(0)
            P.eliminate_zeros()
        if P.nnz == 0:
            raise ValueError("P has no positive off-diagonal entry.")
        if abs(P - P.T).max() > 1e-12 * abs(P).max():
            warnings.warn("P is not symmetric; using (P + P^T) / 2.", UserWarning, stacklevel=2)
        joint = joint_probabilities(P)
        joint.data /= joint.data.sum()
        self.P = joint
        self.n_samples = P.shape[0]
        self._sum_p_log_p = None

    @staticmethod
    def _validated(P, name):
        if not sp.issparse(P):
            P = np.asarray(P)
            if P.ndim != 2:
                raise ValueError(f"{name} must be 2-D, got shape {P.shape}.")
        # a copy: the checks below drop zeros and the diagonal in place, and the caller's
        # matrix must come back as it went in
        P = sp.csr_matrix(P, dtype=np.float64, copy=True)
        if not np.all(np.isfinite(P.data)):
            raise ValueError(f"{name} contains NaN or infinite values.")
        if P.data.size and P.data.min() < 0:
            raise ValueError(f"{name} contains negative affinities; affinities must be >= 0.")
        P.eliminate_zeros()
        return P

    def fit(self, X=None):
        """Nothing to compute (P was given); returns self."""
        return self

    def to_new(self, P_new, k=None):
        """New points' affinities to the reference, each row normalised to sum to 1.

        Parameters
        ----------
        P_new : (M, N) sparse matrix or dense array
            Non-negative affinities of each new point to the N reference points.
        k : int, optional
            Keep only each row's k largest affinities.
        """
        P_new = self._validated(P_new, "P_new")
        if P_new.shape[1] != self.n_samples:
            raise ValueError(f"P_new must have {self.n_samples} columns (one per reference point), "
                             f"got shape {P_new.shape}.")
        if k is not None:
            P_new = _keep_largest(P_new, _check_k(k))
        sums = np.asarray(P_new.sum(axis=1)).ravel()
        if np.any(sums <= 0):
            raise ValueError(f"row {int(np.argmax(sums <= 0))} of P_new has no positive affinity; "
                             "every new point needs at least one reference neighbour.")
        P_new = sp.diags(1.0 / sums) @ P_new
        return to_csr_sorted(P_new)


def _keep_largest(M, k):
    """Each row's k largest entries of a CSR matrix."""
    M = M.tocsr()
    rows = []
    for i in range(M.shape[0]):  # once per transform call, over new points only
        start, stop = M.indptr[i], M.indptr[i + 1]
        if stop - start > k:
            drop = np.argpartition(M.data[start:stop], stop - start - k)[:stop - start - k]
            rows.append(start + drop)
    if rows:
        M.data[np.concatenate(rows)] = 0.0
        M.eliminate_zeros()
    return M


def to_csr_sorted(M):
    """CSR with sorted int32 indices (what the kernels take)."""
    M = sp.csr_matrix(M)
    M.sum_duplicates()
    M.sort_indices()
    M.indices = M.indices.astype(np.int32, copy=False)
    M.indptr = M.indptr.astype(np.int32, copy=False)
    return M
