"""The neighbour-backend protocol every backend implements."""
import numpy as np

__all__ = ["NeighborBackend"]


class NeighborBackend:
    """k-nearest-neighbour search over a reference set.

    Subclasses set the class attributes and implement :meth:`build` and :meth:`query`.

    Attributes
    ----------
    name : str
        Registry name.
    metrics : frozenset of str
        Metric names the backend supports.
    supports_sparse : bool
        Whether :meth:`build` / :meth:`query` accept scipy CSR input.

    Parameters
    ----------
    metric : str
        Distance metric.
    metric_params : dict, optional
        Extra keyword arguments for the metric.
    n_jobs : int
        Threads used for building and querying.
    random_state : None, int or numpy Generator
        Seed of any randomised index.
    """

    name = "base"
    metrics = frozenset()
    supports_sparse = False

    def __init__(self, metric="euclidean", metric_params=None, n_jobs=1, random_state=None):
        if isinstance(metric, str) and metric not in self.metrics:
            raise ValueError(f"neighbour backend {self.name!r} does not support metric {metric!r}; "
                             f"it supports: {', '.join(sorted(self.metrics))}.")
        self.metric = metric
        self.metric_params = dict(metric_params or {})
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.n_samples_ = None

    def build(self, X, k):
        """Index ``X`` and return the k nearest neighbours of each of its points.

        Parameters
        ----------
        X : (N, D) array (or CSR when ``supports_sparse``)
        k : int, 1 <= k < N

        Returns
        -------
        indices : (N, k) int64
            Neighbour indices, self excluded, sorted by increasing distance.
        distances : (N, k) float64
            The matching distances in the metric's units.
        """
        raise NotImplementedError

    def query(self, X_new, k):
        """Return the k nearest indexed points of each row of ``X_new``.

        Returns
        -------
        indices : (M, k) int64, distances : (M, k) float64, sorted by increasing distance.
        """
        raise NotImplementedError

    def _check_k(self, k, n):
        if not 1 <= k <= n:
            raise ValueError(f"cannot find {k} neighbours among {n} points.")


def sort_rows(indices, distances):
    """Sort each row of (indices, distances) by distance; stable, so ties keep index order."""
    order = np.argsort(distances, axis=1, kind="stable")
    return np.take_along_axis(indices, order, 1), np.take_along_axis(distances, order, 1)
