"""Barnes-Hut repulsion: O(N log N) per step through a space-partitioning tree (1-3 D)."""
import numpy as np

from .._ext import _bh
from .._validation import check_positive
from .base import NegativeGradient, ReferenceRepulsion, reference_positions

__all__ = ["BarnesHut", "BarnesHutReference", "DEFAULT_THETA"]

#: Opening angle of van der Maaten (2014) and openTSNE: about 1.5% relative error in F/Z
#: on a real 2-D embedding (tests/test_bh.py holds the measured bounds).
DEFAULT_THETA = 0.5


def _check_theta(theta):
    return float(check_positive(theta, "theta", allow_zero=True))


class BarnesHut(NegativeGradient):
    """Barnes-Hut approximation of the repulsion, parallel over points.

    A node of the tree (see ``ext/_bh.pyx``) stands for its points, at their centre of mass,
    when the diagonal of their bounding box is below ``theta`` times its distance.

    Parameters
    ----------
    theta : float >= 0, default 0.5
        Accuracy/speed trade-off; 0 gives the exact sums (slowly), larger is coarser. At
        0.5 the repulsion F/Z is within about 2% (relative norm) of the exact one on a
        real 2-D embedding, about what openTSNE's Barnes-Hut gives at the same theta.
    """

    name = "bh"
    max_components = 3

    def __init__(self, theta=DEFAULT_THETA):
        self.theta = _check_theta(theta)
        self._tree = None
        self._z = None

    def __call__(self, Y, dof, out, n_jobs=1):
        n, d = Y.shape
        self.check_components(d)
        if self._tree is None or self._tree.n_components != d:
            self._tree = _bh.SpaceTree(d)
        if self._z is None or self._z.shape[0] != n:
            self._z = np.empty(n, dtype=np.float64)
        self._tree.build(Y)
        return self._tree.repulsion(self.theta, float(dof), out, self._z, n_jobs)

    def reference(self, Y_ref, dof, n_jobs=1):
        """Barnes-Hut repulsion of ``Y_ref`` on new points, tree built once (serially: ``n_jobs``
        is not used); see the base class."""
        return BarnesHutReference(Y_ref, dof, theta=self.theta)

    def __getstate__(self):
        # the tree is scratch rebuilt every call, and not picklable
        return {"theta": self.theta}

    def __setstate__(self, state):
        self.__init__(**state)

    def __repr__(self):
        return f"BarnesHut(theta={self.theta!r})"


class BarnesHutReference(ReferenceRepulsion):
    """Barnes-Hut repulsion of a fixed reference embedding on new points.

    Holds a read-only copy of the reference and the tree over it; pickles as the copy and
    rebuilds the tree on load.

    Parameters
    ----------
    Y_ref : (N_ref, d) array, 1 <= d <= 3, copied
    dof : float > 0
    theta : float >= 0, default 0.5
    """

    def __init__(self, Y_ref, dof, theta=DEFAULT_THETA):
        self.Y_ref = reference_positions(Y_ref, BarnesHut.max_components)
        self.n_components = self.Y_ref.shape[1]
        self.dof = float(check_positive(dof, "dof"))
        self.theta = _check_theta(theta)
        self._tree = _bh.SpaceTree(self.n_components)
        self._tree.build(self.Y_ref)

    def __call__(self, Y_new, out, z_out, n_jobs=1):
        self._check_call(Y_new, out, z_out)
        self._tree.repulsion_on(Y_new, self.theta, self.dof, out, z_out, n_jobs)

    def __getstate__(self):
        return {"Y_ref": self.Y_ref, "dof": self.dof, "theta": self.theta}

    def __setstate__(self, state):
        self.__init__(**state)
