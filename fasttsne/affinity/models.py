"""The affinity models built on a k-NN graph: perplexity, multi-scale, fixed sigma, uniform."""
import numpy as np

from .._validation import check_positive
from .base import NeighborModel
from .calibration import (NEIGHBORS_PER_PERPLEXITY, check_k, conditional_probabilities, fixed_sigma_probabilities,
                          joint_from_neighbors, lowered_k, lowered_perplexity, neighbors_for_perplexity)

__all__ = ["PerplexityBasedNN", "Multiscale", "FixedSigmaNN", "Uniform", "DEFAULT_K", "NEW_POINT_PERPLEXITY"]

#: Default neighbours of the models without a perplexity (FixedSigmaNN, Uniform).
DEFAULT_K = 30
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


def _fixed_k_plan(n_samples, k, default, warn):
    return lowered_k(default if k is None else check_k(k), n_samples, "reference points", _WARN_DEPTH, warn)


class PerplexityBasedNN(NeighborModel):
    """Gaussian affinities on the k = min(N - 1, 3 * perplexity) nearest neighbours.

    Parameters
    ----------
    perplexity : float, default 30
        Effective number of neighbours. Lowered, with a warning, to (N - 1) / 3 when the
        data has too few points for it.
    neighbors, metric, metric_params, n_jobs, random_state
        See :class:`~fasttsne.affinity.base.NeighborModel` (neighbour search settings).

    Attributes (after fit)
    ----------------------
    perplexity_ : float
        The perplexity used (after any lowering).

    Notes
    -----
    New points (:meth:`to_new`) take ``perplexity`` (default 5, lowered, with a warning, to
    k / 3 or N / 3) and ``k`` (default 3 * perplexity, at most N).
    """

    new_point_params = ("perplexity",)

    def __init__(self, perplexity=30.0, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.perplexity = check_positive(perplexity, "perplexity")

    def effective_perplexity(self, n_samples):
        """The perplexity used for ``n_samples`` points (lowered with a warning if needed)."""
        return lowered_perplexity(self.perplexity, n_samples - 1, f"{n_samples} points", "(N - 1) / 3",
                                  stacklevel=_WARN_DEPTH)

    def _n_neighbors(self, n_samples):
        self.perplexity_ = self.effective_perplexity(n_samples)
        return min(n_samples - 1, int(NEIGHBORS_PER_PERPLEXITY * self.perplexity_))

    def _P_from(self, knn):
        return joint_from_neighbors(knn, self._conditionals(self.perplexity_), self._threads())

    def _conditionals(self, perplexity, n_jobs=None):
        return lambda distances: conditional_probabilities(distances, perplexity, self._threads(n_jobs))[0]

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
    ``Multiscale.for_size(N)`` builds that.

    Parameters
    ----------
    perplexities : sequence of float, default (30,)
        Each is lowered, with a warning, to (N - 1) / 3 when needed.
    neighbors, metric, metric_params, n_jobs, random_state
        See :class:`~fasttsne.affinity.base.NeighborModel`.

    Attributes (after fit)
    ----------------------
    perplexities_ : list of float

    Notes
    -----
    New points (:meth:`to_new`) take ``perplexity`` (one or several; default the fitted
    perplexities, each lowered, with a warning, to k / 3 or N / 3) and ``k`` (default
    3 * max(perplexities), at most N).
    """

    new_point_params = ("perplexity",)

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
            lowered_perplexity(p, n_samples - 1, f"{n_samples} points", "(N - 1) / 3", stacklevel=_WARN_DEPTH)
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

    def _plan_new(self, k, warn, perplexity=None):
        perplexities = self._check_perplexities(self.perplexities_ if perplexity is None else perplexity)
        return _perplexity_plan(self.n_samples, k, perplexities, warn)

    def _new_values(self, distances, perplexities, n_jobs=None):
        return self._conditionals(distances, perplexities, n_jobs)


class FixedSigmaNN(NeighborModel):
    """Gaussian affinities with one bandwidth ``sigma`` for every point, on k neighbours.

    Parameters
    ----------
    sigma : float
        Bandwidth, in the metric's distance units on the data as given (also when the
        data is rescaled for the search, see :mod:`fasttsne._scale`).
    k : int, default 30
        Neighbours per point; lowered, with a warning, to N - 1 when needed.
    neighbors, metric, metric_params, n_jobs, random_state
        See :class:`~fasttsne.affinity.base.NeighborModel`.

    Notes
    -----
    New points (:meth:`to_new`) take ``sigma`` (default the model's) and ``k`` (default the
    model's, at most N).
    """

    new_point_params = ("sigma",)

    def __init__(self, sigma, k=DEFAULT_K, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.sigma = float(check_positive(sigma, "sigma"))
        self.k = check_k(k)

    def _n_neighbors(self, n_samples):
        return lowered_k(self.k, n_samples - 1, "other points", stacklevel=_WARN_DEPTH)

    def _P_from(self, knn):
        sigma = self._in_index_units(self.sigma)
        return joint_from_neighbors(knn, lambda d: fixed_sigma_probabilities(d, sigma), self._threads())

    def _plan_new(self, k, warn, sigma=None):
        sigma = self.sigma if sigma is None else float(check_positive(sigma, "sigma"))
        return _fixed_k_plan(self.n_samples, k, self.k, warn), sigma

    def _new_values(self, distances, sigma, n_jobs=None):
        return fixed_sigma_probabilities(distances, self._in_index_units(sigma))


class Uniform(NeighborModel):
    """Equal affinities on the k nearest neighbours (a symmetrised k-NN graph).

    Parameters
    ----------
    k : int, default 30
        Neighbours per point (lowered to N - 1 with a warning), and for new points the default
        of :meth:`to_new`'s ``k`` (at most N): each gets 1 / k on each of its k neighbours.
    neighbors, metric, metric_params, n_jobs, random_state
        See :class:`~fasttsne.affinity.base.NeighborModel`.
    """

    def __init__(self, k=DEFAULT_K, *, neighbors="auto", metric="euclidean", metric_params=None,
                 n_jobs=1, random_state=None):
        super().__init__(neighbors=neighbors, metric=metric, metric_params=metric_params, n_jobs=n_jobs,
                         random_state=random_state)
        self.k = check_k(k)

    def _n_neighbors(self, n_samples):
        return lowered_k(self.k, n_samples - 1, "other points", stacklevel=_WARN_DEPTH)

    @staticmethod
    def _uniform(distances):
        return np.full(distances.shape, 1.0 / distances.shape[1])

    def _P_from(self, knn):
        return joint_from_neighbors(knn, self._uniform, self._threads())

    def _plan_new(self, k, warn):
        return _fixed_k_plan(self.n_samples, k, self.k, warn), None

    def _new_values(self, distances, settings, n_jobs=None):
        return self._uniform(distances)
