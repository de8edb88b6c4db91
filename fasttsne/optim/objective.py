"""The objectives gradient descent minimises: KL(P || Q) of a whole map, or of new points
placed against a fixed reference.

Both fill the attractive and (unnormalised) repulsive forces of the current positions and
return the KL when asked. All gradients in fasttsne are the KL gradient divided by 4 (the
convention of openTSNE, for which the "auto" learning rate N / exaggeration is tuned; Belkina
et al. 2019 write the same rule as N / (4 * exaggeration) with the factor kept).
"""
import math

import numpy as np

from .._ext import _attractive
from .divergence import no_repulsion
from .locality import SpatialOrder

__all__ = ["FitObjective", "PartialObjective", "kl_divergence"]


class FitObjective:
    """KL(P || Q) of a whole embedding: attraction over P, repulsion from a backend.

    Parameters
    ----------
    P : (N, N) CSR, int32 indices, summing to 1
    sum_p_log_p : float
        Constant part of the KL.
    gradient : NegativeGradient
    dof : float
    n_jobs : int
        Threads, already resolved (a count >= 1).
    """

    def __init__(self, P, sum_p_log_p, gradient, dof, n_jobs):
        self.P, self.sum_p_log_p, self.gradient, self.dof, self.n_jobs = P, sum_p_log_p, gradient, dof, n_jobs
        self._per_point = np.empty(P.shape[0])
        self._order = None

    def spatial_order(self, n_components):
        """A :class:`~fasttsne.optim.locality.SpatialOrder` for a fit this large, else None.

        While it is entered, :meth:`evaluate` takes positions in its order.
        """
        if not SpatialOrder.worthwhile(self.P.shape[0], n_components):
            return None
        self._order = SpatialOrder(self.P, self.n_jobs)
        return self._order

    def evaluate(self, Y, attractive, repulsive, with_kl):
        """Fill the (N, d) force arrays; return (KL or None, 1 / Z).

        ``repulsive`` is left unnormalised: the step multiplies it by the returned 1 / Z.
        """
        P = self.P if self._order is None or self._order.rows is None else self._order.P_local
        s = _attractive.attractive_forces(P.indptr, P.indices, P.data, Y, self.dof, attractive,
                                          self._per_point, with_kl, self.n_jobs)
        Z = self.gradient(Y, self.dof, repulsive, self.n_jobs)
        if not Z > 0:
            raise no_repulsion(f"Z = {Z:g}")
        # KL(P || Q) = sum p log p - sum p log w + log Z, with the un-exaggerated P (sum P = 1)
        kl = self.sum_p_log_p - s + math.log(Z) if with_kl else None
        return kl, 1.0 / Z


class PartialObjective:
    """Sum over new points of KL(P_i || Q_i), each against the fixed reference.

    Each new point has its own affinity row P_i (summing to 1) over the reference points and
    its own normalisation z_i = sum_j w_ij over the reference, so new points do not interact:
    a batch behaves exactly like its points optimised one by one.

    Parameters
    ----------
    P : (M, N_ref) CSR, int32 indices, rows summing to 1
    sum_p_log_p : float
        sum of p log p over P's entries, the constant part of the KL.
    Y_ref : (N_ref, d) float64, the fixed reference positions (never modified)
    repulsion : ReferenceRepulsion from the gradient backend's ``reference(Y_ref, dof, n_jobs)``
    dof : float
    n_jobs : int
        Threads, already resolved (a count >= 1).
    settle : None or (update, step, every)
        Stop moving the points that have settled: every ``every`` evaluations, a point whose
        last step (its row of the optimiser's ``update`` array (M, d), read and written in
        place) is shorter than ``step`` (embedding units) has its step zeroed and gets no
        forces from then on, so gradient descent leaves it where it is; its forces are no
        longer computed (except when the KL is asked for). Whether and when a point settles
        depends on that point alone, so batches still equal their points one by one, and a
        point that has not settled moves exactly as without ``settle``.
    """

    def __init__(self, P, sum_p_log_p, Y_ref, repulsion, dof, n_jobs, settle=None):
        self.P, self.Y_ref, self.repulsion, self.dof, self.n_jobs = P, Y_ref, repulsion, dof, n_jobs
        self.sum_p_log_p = sum_p_log_p
        self._settle = settle
        self._calls = 0
        self._moving = None  # rows still moving (None: all); P's rows of them in self._P_moving
        self._settled = np.empty(0, dtype=np.intp)
        self._buffers = {}

    def spatial_order(self, n_components):
        """None: new points read the reference, whose order is fixed."""
        return None

    @property
    def n_moving(self):
        """Points still moving (all of them unless ``settle`` was given)."""
        return self.P.shape[0] if self._moving is None else self._moving.size

    def evaluate(self, Y, attractive, repulsive, with_kl):
        """Fill the (M, d) forces, the repulsion already normalised per point; return (KL or None, 1)."""
        if self._settle is not None and self._calls > 0 and self._calls % self._settle[2] == 0:
            self._stop_settled()
        self._calls += 1
        kl = None
        if self._moving is None or with_kl:
            kl = self._forces(self.P, Y, attractive, repulsive, with_kl)
        elif self._moving.size:
            rows = self._moving
            forces = self._scratch("forces", (2, rows.size, Y.shape[1]))
            self._forces(self._P_moving, Y[rows], forces[0], forces[1], False)
            attractive[rows] = forces[0]
            repulsive[rows] = forces[1]
        attractive[self._settled] = 0.0
        repulsive[self._settled] = 0.0
        return kl, 1.0

    def _forces(self, P, Y, attractive, repulsive, with_kl):
        """The forces on the rows of ``Y`` whose affinities are ``P``; their KL when ``with_kl``."""
        per_point, z = self._scratch("per_point", P.shape[0]), self._scratch("z", P.shape[0])
        _attractive.attractive_forces_to_reference(P.indptr, P.indices, P.data, Y, self.Y_ref, self.dof,
                                                   attractive, per_point, with_kl, self.n_jobs)
        self.repulsion(Y, repulsive, z, self.n_jobs)
        if not np.all(z > 0):
            raise no_repulsion(f"Z = 0 for {int(np.count_nonzero(~(z > 0)))} new point(s)")
        repulsive /= z[:, None]
        if with_kl:
            return self.sum_p_log_p - float(per_point.sum()) + float(np.log(z) @ _row_sums(P))
        return None

    def _scratch(self, name, shape):
        """A float64 array of ``shape`` kept across evaluations while the shape stays the same
        (the moving rows shrink only at settling checks), instead of new ones every iteration."""
        shape = shape if isinstance(shape, tuple) else (shape,)
        a = self._buffers.get(name)
        if a is None or a.shape != shape:
            a = self._buffers[name] = np.empty(shape)
        return a

    def _stop_settled(self):
        update, step = self._settle[0], self._settle[1]
        rows = np.arange(self.P.shape[0]) if self._moving is None else self._moving
        settled = np.einsum("ij,ij->i", update[rows], update[rows]) < step * step
        if not settled.any():
            return
        update[rows[settled]] = 0.0
        self._settled = np.concatenate([self._settled, rows[settled]])
        self._moving = rows[~settled]
        self._P_moving = self.P[self._moving]


def _row_sums(P):
    return np.asarray(P.sum(axis=1)).ravel()


def kl_divergence(Y, P, sum_p_log_p, gradient, dof=1.0, n_jobs=1):
    """KL(P || Q) in nats for positions ``Y`` (N, d), using ``gradient`` for Z.

    ``n_jobs`` is a thread count (>= 1).
    """
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    objective = FitObjective(P, sum_p_log_p, gradient, dof, n_jobs)
    return objective.evaluate(Y, np.empty_like(Y), np.empty_like(Y), True)[0]
