"""Per-point kernels on k-NN distances and the symmetric P built from them.

The arithmetic every neighbour-based model shares: perplexity calibration, the fixed-bandwidth
Gaussian, symmetrisation of a k-NN graph straight into CSR, and the rules that lower a
perplexity or k the data cannot support (with a warning that says so).
"""
import numbers
import warnings

import numpy as np
import scipy.sparse as sp

from .._ext import _affinity

__all__ = ["conditional_probabilities", "fixed_sigma_probabilities", "joint_from_neighbors",
           "lowered_perplexity", "neighbors_for_perplexity", "check_k", "lowered_k",
           "PERPLEXITY_TOL", "PERPLEXITY_MAX_ITER", "NEIGHBORS_PER_PERPLEXITY"]

#: Tolerance of the perplexity binary search, in nats of entropy.
PERPLEXITY_TOL = 1e-5
#: Binary-search steps per point.
PERPLEXITY_MAX_ITER = 200
#: Neighbours per point searched per unit of perplexity (k = 3 * perplexity): beyond three
#: perplexities a Gaussian calibrated to that perplexity leaves negligible mass.
NEIGHBORS_PER_PERPLEXITY = 3


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


def perplexity_limit(n_available):
    """The largest perplexity ``n_available`` candidate neighbours support (at least 1)."""
    return max(n_available / NEIGHBORS_PER_PERPLEXITY, 1.0)


def lowered_perplexity(perplexity, n_available, described_as, formula, stacklevel=3, warn=True):
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
    warn : bool
        False to lower silently (when only the resulting k is wanted).
    """
    limit = perplexity_limit(n_available)
    if perplexity > limit:
        if warn:
            warnings.warn(f"perplexity {perplexity:g} is too large for {described_as} (at most {formula} = "
                          f"{limit:.3g}); using perplexity {limit:.3g}.", UserWarning, stacklevel=stacklevel)
        return limit
    return float(perplexity)


def neighbors_for_perplexity(perplexity, n_points):
    """k = 3 * perplexity neighbours, at least 1 and at most ``n_points``."""
    return max(1, min(n_points, int(NEIGHBORS_PER_PERPLEXITY * perplexity)))


def check_k(k, name="k"):
    """``k`` as an int, or a ValueError unless it is a positive integer."""
    if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)) or k < 1:
        raise ValueError(f"{name} must be a positive integer, got {k!r}.")
    return int(k)


def lowered_k(k, n_points, what, stacklevel=3, warn=True):
    """``k``, or ``n_points`` with a warning when there are fewer than ``k`` of ``what``."""
    if k > n_points:
        if warn:
            warnings.warn(f"k = {k} neighbours is too many for {n_points} {what}; using k = {n_points}.",
                          UserWarning, stacklevel=stacklevel)
        return n_points
    return k
