"""The affinity models built on a k-NN graph: perplexity, multi-scale, fixed sigma, uniform.

Each constructor takes fasttsne's form (the model's settings; :meth:`fit` later) and
openTSNE's (the data, or ``knn_index=``, first: fitted at once). A number or a list of
numbers where openTSNE puts the data is the model's first setting, so
``PerplexityBasedNN(30)`` and ``PerplexityBasedNN(x, perplexity=30)`` both work.
"""
import warnings

import numpy as np
import scipy.sparse as sp

from .._params import InvalidParameterError
from .._validation import check_positive
from .base import NeighborModel
from .calibration import (NEIGHBORS_PER_PERPLEXITY, check_k, conditional_probabilities, fixed_sigma_probabilities,
                          joint_from_neighbors, lowered_k, lowered_perplexity, neighbors_for_perplexity)

__all__ = ["PerplexityBasedNN", "Multiscale", "FixedSigmaNN", "Uniform", "DEFAULT_K", "NEW_POINT_PERPLEXITY",
           "DEFAULT_PERPLEXITY", "is_data"]

#: Default neighbours of the models without a perplexity (FixedSigmaNN, Uniform).
DEFAULT_K = 30
#: Default perplexity of the reference's affinities.
DEFAULT_PERPLEXITY = 30.0
#: Multiscale's default perplexities (this very tuple: a list given where openTSNE puts the
#: data is told apart from one given twice by identity).
_DEFAULT_PERPLEXITIES = (DEFAULT_PERPLEXITY,)
#: Default perplexity of new points' affinities in ``PerplexityBasedNN.to_new``: small, so
#: that each new point is held close to its nearest reference points.
NEW_POINT_PERPLEXITY = 5.0
#: Stack depth from the lowering helpers' ``warnings.warn`` to the user's call of ``fit`` or
#: ``to_new``.
_WARN_DEPTH = 5


def _perplexity_plan(n_samples, k, perplexities, warn):
    """(k, perplexities) for new points: the k the perplexities need, or theirs lowered to k."""
    if k is None:
        perplexities = [lowered_perplexity(p, n_samples, f"{n_samples} reference points", "N / 3",
                                           _WARN_DEPTH, warn) for p in perplexities]
        return neighbors_for_perplexity(max(perplexities), n_samples), perplexities
    k = lowered_k(check_k(k), n_samples, "reference points", _WARN_DEPTH, warn)
    return k, [lowered_perplexity(p, k, f"k = {k} neighbours", "k / 3", _WARN_DEPTH, warn) for p in perplexities]


def is_data(value):
    """Whether a constructor's first argument is data (2-D array-like, sparse matrix) rather
    than the model's first setting (a number or a list of numbers: fasttsne's form)."""
    return sp.issparse(value) or np.ndim(value) >= 2


def _twice(name):
    return InvalidParameterError(f"{name} is given twice: as the first argument (fasttsne's form) and as "
                                 f"{name}=; pass the data first to use openTSNE's form.")


def _check_k_neighbors(k_neighbors):
    if isinstance(k_neighbors, str) and k_neighbors == "auto":
        return k_neighbors
    return check_k(k_neighbors, "k_neighbors")


def _fixed_k_plan(n_samples, k, default, warn):
    return lowered_k(default if k is None else check_k(k), n_samples, "reference points", _WARN_DEPTH, warn)


class PerplexityBasedNN(NeighborModel):
    """Gaussian affinities on the k = min(N - 1, 3 * perplexity) nearest neighbours.

    Parameters
    ----------
    data : (N, D) array or CSR matrix, optional
        openTSNE's form: fit on it now. Without it, call :meth:`fit` (or pass the model to
        ``TSNE.fit``). A number here is the perplexity (``PerplexityBasedNN(30)``).
    perplexity : float, default 30
        Effective number of neighbours. Lowered, with a warning, to (N - 1) / 3 when the
        data has too few points for it (to k / 3 for a given ``k_neighbors`` or index).
    method, metric, metric_params, symmetrize, n_jobs, random_state, verbose, knn_kwargs
        See :class:`~fasttsne.affinity.base.NeighborModel`.
    k_neighbors : int or "auto", default "auto"
        Neighbours per point of the graph searched; "auto" is 3 * perplexity.
    knn_index : fasttsne.nearest_neighbors.KNNIndex, optional
        Compute the affinities from this index's graph now, with no search (openTSNE's
        form; instead of ``data``). See :meth:`~fasttsne.affinity.base.NeighborModel.fit_index`.
    neighbors, keep_graph
        See :class:`~fasttsne.affinity.base.NeighborModel`.

    Attributes
    ----------
    perplexity_ : float
        The perplexity used (after any lowering).

    Notes
    -----
    New points (:meth:`to_new`) take ``perplexity`` (default 5, lowered, with a warning, to
    k / 3 or N / 3) and ``k`` (default 3 * perplexity, at most N). openTSNE's ``to_new``
    defaults to the model's perplexity instead; its ``transform`` passes 5, as fasttsne's does.
    """

    new_point_params = ("perplexity",)

    def __init__(self, data=None, perplexity=DEFAULT_PERPLEXITY, method=None, metric="euclidean",
                 metric_params=None, symmetrize=True, n_jobs=1, random_state=None, verbose=False,
                 k_neighbors="auto", knn_kwargs=None, knn_index=None, *, neighbors="auto", keep_graph=True):
        if data is not None and not is_data(data):
            if perplexity != DEFAULT_PERPLEXITY:
                raise _twice("perplexity")
            data, perplexity = None, data
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state, symmetrize=symmetrize, method=method, verbose=verbose,
                         keep_graph=keep_graph, knn_kwargs=knn_kwargs)
        self.perplexity = check_positive(perplexity, "perplexity")
        self.k_neighbors = _check_k_neighbors(k_neighbors)
        self._start(data, knn_index)

    def effective_perplexity(self, n_samples):
        """The perplexity used for ``n_samples`` points (lowered with a warning if needed)."""
        return lowered_perplexity(self.perplexity, n_samples - 1, f"{n_samples} points", "(N - 1) / 3",
                                  stacklevel=_WARN_DEPTH)

    def _n_neighbors(self, n_samples):
        k_neighbors = getattr(self, "k_neighbors", "auto")  # models saved before k_neighbors existed
        if isinstance(k_neighbors, str):
            self.perplexity_ = self.effective_perplexity(n_samples)
            return min(n_samples - 1, int(NEIGHBORS_PER_PERPLEXITY * self.perplexity_))
        k = lowered_k(k_neighbors, n_samples - 1, "other points", stacklevel=_WARN_DEPTH)
        self.perplexity_ = lowered_perplexity(self.perplexity, k, f"k_neighbors = {k}", "k / 3",
                                              stacklevel=_WARN_DEPTH)
        return k

    def _columns_for(self, n_samples, k_available):
        self.perplexity_ = lowered_perplexity(self.perplexity, k_available, f"the index's k = {k_available} "
                                              "neighbours", "k / 3", stacklevel=_WARN_DEPTH)
        return neighbors_for_perplexity(self.perplexity_, k_available)

    def _fitted_conditionals(self):
        return self._conditionals(self.perplexity_)

    def _conditionals(self, perplexity, n_jobs=None):
        return lambda distances: conditional_probabilities(distances, perplexity, self._threads(n_jobs))[0]

    def set_perplexity(self, new_perplexity):
        """Recompute P at another perplexity on the kept k-NN graph, with no new search.

        As in openTSNE: the perplexity may be at most the graph's k (above 3 * perplexity
        = k, with a warning, the calibration uses the k neighbours there are), P is
        calibrated on the first min(k, 3 * perplexity) columns, and the same value again
        changes nothing. Embeddings on this model use the new P from their next
        optimisation on.

        Raises
        ------
        RuntimeError
            The graph was not kept (``keep_graph=False``, or a loaded copy), or the
            perplexity needs more neighbours than it holds: make a new model then.
        """
        k_kept = self._kept_columns("set_perplexity")
        new_perplexity = float(check_positive(new_perplexity, "perplexity"))
        if new_perplexity == self.perplexity_:
            return
        if new_perplexity > k_kept:
            raise RuntimeError(f"perplexity {new_perplexity:g} is larger than the kept graph's {k_kept} neighbours "
                               "allow; make a new PerplexityBasedNN with this perplexity (a new search).")
        if NEIGHBORS_PER_PERPLEXITY * new_perplexity > k_kept:
            warnings.warn(f"perplexity {new_perplexity:g} would need {NEIGHBORS_PER_PERPLEXITY * new_perplexity:g} "
                          f"neighbours; the kept graph has {k_kept}, so P may differ from a new search's.",
                          UserWarning, stacklevel=2)
        self.perplexity = self.perplexity_ = new_perplexity
        self._recalibrate(neighbors_for_perplexity(new_perplexity, k_kept))

    def from_neighbors(self, indices, distances, perplexity=None):
        """Symmetric P from a k-NN graph: (N, k) indices and distances."""
        perplexity = self.perplexity if perplexity is None else perplexity
        return joint_from_neighbors([indices, distances], self._conditionals(perplexity), self._threads())

    def _plan_new(self, k, warn, perplexity=NEW_POINT_PERPLEXITY):
        check_positive(perplexity, "perplexity")
        k, (perplexity,) = _perplexity_plan(self.n_samples, k, [perplexity], warn)
        return k, perplexity

    def _new_values(self, distances, perplexity, n_jobs=None):
        return self._conditionals(perplexity, n_jobs)(distances)


class Multiscale(NeighborModel):
    """The average of Gaussian affinities at several perplexities (multi-scale similarities).

    Each point's conditional distribution is the mean of its Gaussian conditionals
    calibrated to each perplexity on the same k = 3 * max(perplexities) neighbours, which
    keeps local structure from the small perplexity and global structure from the large
    one. Kobak & Berens (2019) recommend ``[30, N / 100]`` for large data:
    ``Multiscale.for_size(N)`` builds that. openTSNE's ``Multiscale`` is the same model;
    :class:`MultiscaleMixture` is its Gaussian-mixture variant.

    Parameters
    ----------
    data : (N, D) array or CSR matrix, optional
        openTSNE's form: fit on it now. A list of numbers here is the perplexities.
    perplexities : sequence of float, default (30,)
        Each is lowered, with a warning, to (N - 1) / 3 when needed.
    method, metric, metric_params, symmetrize, n_jobs, random_state, verbose, knn_kwargs
        See :class:`~fasttsne.affinity.base.NeighborModel`.
    knn_index : fasttsne.nearest_neighbors.KNNIndex, optional
        Compute the affinities from this index's graph now, with no search.
    neighbors, keep_graph
        See :class:`~fasttsne.affinity.base.NeighborModel`.

    Attributes
    ----------
    perplexities_ : list of float

    Notes
    -----
    New points (:meth:`to_new`) take ``perplexity`` (or openTSNE's ``perplexities``: one or
    several; default the fitted perplexities, each lowered, with a warning, to k / 3 or
    N / 3) and ``k`` (default 3 * max(perplexities), at most N).
    """

    new_point_params = ("perplexity", "perplexities")

    def __init__(self, data=None, perplexities=_DEFAULT_PERPLEXITIES, method=None, metric="euclidean",
                 metric_params=None, symmetrize=True, n_jobs=1, random_state=None, verbose=False, knn_kwargs=None,
                 knn_index=None, *, neighbors="auto", keep_graph=True):
        if data is not None and not is_data(data):
            if perplexities is not _DEFAULT_PERPLEXITIES:
                raise _twice("perplexities")
            data, perplexities = None, data
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state, symmetrize=symmetrize, method=method, verbose=verbose,
                         keep_graph=keep_graph, knn_kwargs=knn_kwargs)
        self.perplexities = self._check_perplexities(perplexities)
        self._start(data, knn_index)

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

    def _lowered(self, perplexities, n_available, described_as, formula):
        return [lowered_perplexity(p, n_available, described_as, formula, stacklevel=_WARN_DEPTH + 1)
                for p in perplexities]

    def _n_neighbors(self, n_samples):
        self.perplexities_ = self._lowered(self.perplexities, n_samples - 1, f"{n_samples} points", "(N - 1) / 3")
        return min(n_samples - 1, int(NEIGHBORS_PER_PERPLEXITY * max(self.perplexities_)))

    def _columns_for(self, n_samples, k_available):
        self.perplexities_ = self._lowered(self.perplexities, k_available,
                                           f"the index's k = {k_available} neighbours", "k / 3")
        return neighbors_for_perplexity(max(self.perplexities_), k_available)

    def _conditionals(self, distances, perplexities, n_jobs=None):
        return sum(conditional_probabilities(distances, p, self._threads(n_jobs))[0] for p in perplexities) \
            / len(perplexities)

    def _fitted_conditionals(self):
        return lambda d: self._conditionals(d, self.perplexities_)

    def set_perplexities(self, new_perplexities):
        """Recompute P at other perplexities on the kept k-NN graph, with no new search.

        As in openTSNE: each perplexity is lowered to (N - 1) / 3 where needed, P is
        calibrated on the first 3 * max(perplexities) columns, and the same values again
        change nothing.

        Raises
        ------
        RuntimeError
            The graph was not kept (``keep_graph=False``, or a loaded copy), or the largest
            perplexity needs more neighbours than it holds: make a new model then.
        """
        k_kept = self._kept_columns("set_perplexities")
        new = self._check_perplexities(new_perplexities)
        if new == list(self.perplexities_):
            return
        n = self.n_samples
        lowered = self._lowered(new, n - 1, f"{n} points", "(N - 1) / 3")
        k = min(n - 1, int(NEIGHBORS_PER_PERPLEXITY * max(lowered)))
        if k > k_kept:
            raise RuntimeError(f"perplexity {max(lowered):g} needs {k} neighbours, more than the kept graph's "
                               f"{k_kept}; make a new {type(self).__name__} with these perplexities (a new search).")
        self.perplexities, self.perplexities_ = new, lowered
        self._recalibrate(k)

    def from_neighbors(self, indices, distances, perplexities=None):
        """Symmetric P from a k-NN graph: (N, k) indices and distances."""
        perplexities = self._check_perplexities(self.perplexities if perplexities is None else perplexities)
        return joint_from_neighbors([indices, distances], lambda d: self._conditionals(d, perplexities),
                                    self._threads())

    def _plan_new(self, k, warn, perplexity=None, perplexities=None):
        if perplexity is not None and perplexities is not None:
            raise InvalidParameterError("give new points' perplexities as perplexity= or perplexities=, not both.")
        given = perplexity if perplexities is None else perplexities
        perplexities = self._check_perplexities(self.perplexities_ if given is None else given)
        return _perplexity_plan(self.n_samples, k, perplexities, warn)

    def _new_values(self, distances, perplexities, n_jobs=None):
        return self._conditionals(distances, perplexities, n_jobs)


class FixedSigmaNN(NeighborModel):
    """Gaussian affinities with one bandwidth ``sigma`` for every point, on k neighbours.

    Parameters
    ----------
    data : (N, D) array or CSR matrix, optional
        openTSNE's form: fit on it now. A number here is ``sigma`` (fasttsne's form
        ``FixedSigmaNN(sigma, k)``).
    sigma : float
        Bandwidth, in the metric's distance units on the data as given (also when the
        data is rescaled for the search, see :mod:`fasttsne._scale`).
    k : int, default 30
        Neighbours per point; lowered, with a warning, to N - 1 when needed. With
        ``knn_index``, the index's k is used.
    method, metric, metric_params, symmetrize, n_jobs, random_state, verbose, knn_kwargs, knn_index, neighbors, keep_graph
        As for :class:`Multiscale` (see :class:`~fasttsne.affinity.base.NeighborModel`).

    Notes
    -----
    New points (:meth:`to_new`) take ``sigma`` (default the model's) and ``k`` (default the
    model's, at most N).
    """

    new_point_params = ("sigma",)

    def __init__(self, data=None, sigma=None, k=DEFAULT_K, method=None, metric="euclidean", metric_params=None,
                 symmetrize=True, n_jobs=1, random_state=None, verbose=False, knn_kwargs=None, knn_index=None, *,
                 neighbors="auto", keep_graph=True):
        if data is not None and not is_data(data):
            if sigma is not None:
                if k != DEFAULT_K:
                    raise _twice("sigma")
                k = sigma  # FixedSigmaNN(sigma, k): fasttsne's positional form
            data, sigma = None, data
        if sigma is None:
            raise InvalidParameterError("FixedSigmaNN needs sigma, the Gaussian bandwidth.")
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state, symmetrize=symmetrize, method=method, verbose=verbose,
                         keep_graph=keep_graph, knn_kwargs=knn_kwargs)
        self.sigma = float(check_positive(sigma, "sigma"))
        self.k = check_k(k)
        self._start(data, knn_index)

    def _n_neighbors(self, n_samples):
        return lowered_k(self.k, n_samples - 1, "other points", stacklevel=_WARN_DEPTH)

    def _columns_for(self, n_samples, k_available):
        return k_available

    def _fitted_conditionals(self):
        sigma = self._in_index_units(self.sigma)
        return lambda d: fixed_sigma_probabilities(d, sigma)

    def _plan_new(self, k, warn, sigma=None):
        sigma = self.sigma if sigma is None else float(check_positive(sigma, "sigma"))
        return _fixed_k_plan(self.n_samples, k, self.k, warn), sigma

    def _new_values(self, distances, sigma, n_jobs=None):
        return fixed_sigma_probabilities(distances, self._in_index_units(sigma))


class Uniform(NeighborModel):
    """Equal affinities on the k nearest neighbours (a symmetrised k-NN graph).

    Parameters
    ----------
    data : (N, D) array or CSR matrix, optional
        openTSNE's form: fit on it now. A number here is ``k`` (``Uniform(15)``).
    k_neighbors : int, default 30
        openTSNE's name for ``k``: neighbours per point (lowered to N - 1 with a warning),
        and for new points the default of :meth:`to_new`'s ``k`` (at most N): each gets 1 / k
        on each of its k neighbours. With ``knn_index``, the index's k is used.
    method, metric, metric_params, n_jobs, random_state, verbose, knn_kwargs
        See :class:`~fasttsne.affinity.base.NeighborModel`.
    symmetrize : True, False, "mean", "max" or "none", default True
        True is "mean", (A + A^T) / 2 normalised: pairs that are each other's neighbours
        weigh twice as much as one-way pairs (what openTSNE's documentation states for its
        default). "max" is the unweighted symmetric graph: every edge weighs the same.
        openTSNE's code computes "max" for ``symmetrize=True``: pass "max" for its results.
    knn_index : fasttsne.nearest_neighbors.KNNIndex, optional
        Compute the affinities from this index's graph now, with no search.
    neighbors, keep_graph
        See :class:`~fasttsne.affinity.base.NeighborModel`.
    k : int, optional
        fasttsne's name for ``k_neighbors`` (give one of the two).
    """

    def __init__(self, data=None, k_neighbors=DEFAULT_K, method=None, metric="euclidean", metric_params=None,
                 symmetrize=True, n_jobs=1, random_state=None, verbose=False, knn_kwargs=None, knn_index=None, *,
                 neighbors="auto", keep_graph=True, k=None):
        if data is not None and not is_data(data):
            if k_neighbors != DEFAULT_K or k is not None:
                raise _twice("k")
            data, k = None, data
        if k is not None and k_neighbors != DEFAULT_K:
            raise InvalidParameterError("give the neighbours as k= or as openTSNE's k_neighbors=, not both.")
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state, symmetrize=symmetrize, method=method, verbose=verbose,
                         keep_graph=keep_graph, knn_kwargs=knn_kwargs)
        self.k = check_k(k_neighbors if k is None else k)
        self._start(data, knn_index)

    def _n_neighbors(self, n_samples):
        return lowered_k(self.k, n_samples - 1, "other points", stacklevel=_WARN_DEPTH)

    def _columns_for(self, n_samples, k_available):
        return k_available

    @staticmethod
    def _uniform(distances):
        return np.full(distances.shape, 1.0 / distances.shape[1])

    def _fitted_conditionals(self):
        return self._uniform

    def _plan_new(self, k, warn):
        return _fixed_k_plan(self.n_samples, k, self.k, warn), None

    def _new_values(self, distances, settings, n_jobs=None):
        return self._uniform(distances)
