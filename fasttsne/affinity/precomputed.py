"""A P computed by the user, validated, symmetrised and normalised."""
import warnings

import numpy as np
import scipy.sparse as sp

from .._params import InvalidParameterError
from .._sparse import joint_probabilities, keep_largest, to_csr_sorted
from .base import AffinityModel
from .calibration import check_k

__all__ = ["Precomputed", "PrecomputedAffinities"]


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
    There is no neighbour index (``index`` is None): new points are described by their
    affinities to the reference, which the user computes the same way as P, and
    :meth:`to_new` takes those as ``X_new``.
    """

    def __init__(self, P):
        self._set_P(P, normalize=True)

    def _set_P(self, P, normalize):
        """Validate, symmetrise and (with ``normalize``) normalise ``P`` into :attr:`P`."""
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
        total = P.data.sum()
        joint = joint_probabilities(P)
        # symmetrising keeps the total; without normalize the matrix keeps the scale given
        joint.data /= joint.data.sum() if normalize else joint.data.sum() / total
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

    def neighbors_needed(self, *, k=None, **params):
        """0: new points' rows are given, no neighbour search is needed."""
        self._check_new_params(params)
        return 0

    def to_new(self, X_new, *, k=None, neighbors=None, n_jobs=None, **params):
        """New points' affinities to the reference, each row normalised to sum to 1.

        Parameters
        ----------
        X_new : (M, N) sparse matrix or dense array
            Non-negative affinities of each new point to the N reference points.
        k : int, optional
            Keep only each row's k largest affinities.
        neighbors : None
            Not taken (there is no neighbour index); an error when given.
        n_jobs : None or int, optional
            Unused: normalising the rows is serial.
        """
        self._check_new_params(params)
        if neighbors is not None:
            raise InvalidParameterError("Precomputed affinities take new points' affinities as X_new, "
                                        "not neighbours.")
        P_new = self._validated(X_new, "X_new")
        if P_new.shape[1] != self.n_samples:
            raise ValueError(f"X_new must have {self.n_samples} columns (one affinity per reference point), "
                             f"got shape {P_new.shape}.")
        if k is not None:
            P_new = keep_largest(P_new, check_k(k))
        sums = np.asarray(P_new.sum(axis=1)).ravel()
        if np.any(sums <= 0):
            raise ValueError(f"row {int(np.argmax(sums <= 0))} of X_new has no positive affinity; "
                             "every new point needs at least one reference neighbour.")
        P_new = sp.diags(1.0 / sums) @ P_new
        return to_csr_sorted(P_new)


class PrecomputedAffinities(Precomputed):
    """openTSNE's name and signature for :class:`Precomputed`.

    Parameters
    ----------
    affinities : (N, N) sparse matrix or dense array
        Non-negative, finite, not all zero; validated and symmetrised as by
        :class:`Precomputed` (openTSNE uses an asymmetric matrix as given).
    normalize : bool, default True
        Scale P to sum to 1. False keeps the total given, as in openTSNE (the attraction is
        then scaled by that total, and the reported KL divergence assumes a total of 1).

    Notes
    -----
    openTSNE's ``to_new`` refuses all new points; here new points' affinities to the
    reference are taken as by :meth:`Precomputed.to_new`.
    """

    def __init__(self, affinities, normalize=True):
        if not isinstance(normalize, (bool, np.bool_)):
            raise InvalidParameterError(f"normalize must be True or False, got {normalize!r:.40}.")
        self._set_P(affinities, normalize=bool(normalize))
