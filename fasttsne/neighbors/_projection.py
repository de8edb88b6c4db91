"""Search wide Euclidean data in its principal components, then re-rank exactly.

Tree and graph searches cost time proportional to the dimension. For wide data (more than
``PROJECT_ABOVE`` features) the approximate backends search a projection onto the first
``PROJECTION_DIM`` principal components, keep ``CANDIDATE_FACTOR`` times as many candidates as
asked for, and re-rank those by their exact distance in all features; on MNIST (784 features)
this keeps the recall of the 90-NN graph at a fraction of the time (docs/neighbors.md).
"""
import numpy as np

from .._ext import _knn
from .. import _linalg
from .._threads import one_blas_thread

__all__ = ["PROJECT_ABOVE", "PROJECTION_DIM", "CANDIDATE_FACTOR", "PROJECTION_SAMPLE",
           "check_projection", "principal_axes", "project", "rerank"]

PROJECT_ABOVE = 200
PROJECTION_DIM = 100
CANDIDATE_FACTOR = 2
#: Rows (at most) of the sample the principal axes are estimated from.
PROJECTION_SAMPLE = 10_000
#: Rows projected at a time (bounds the float64 temporaries).
PROJECT_CHUNK_ROWS = 4096
#: Candidate distances, and entries of query rows, handled at a time while re-ranking (8 MiB of
#: float64 distances; the block's copy of the query rows is no larger in entries).
RERANK_BLOCK_ENTRIES = 2 ** 20


def check_projection(projection):
    """``projection`` if valid ("auto", a positive integer or None), else ValueError."""
    if not (projection is None or projection == "auto" or
            (isinstance(projection, (int, np.integer)) and not isinstance(projection, bool)
             and projection >= 1)):
        raise ValueError(f"projection must be 'auto', a positive integer or None, got {projection!r}.")
    return projection


def principal_axes(X, projection, metric):
    """(mean (D,), axes (D, m)) float64 of X's first principal components, or None.

    Parameters
    ----------
    X : (N, D) array
    projection : "auto", int or None
        "auto": ``PROJECTION_DIM`` components for Euclidean data with more than
        ``PROJECT_ABOVE`` features; an int: that many; None: no projection.
    metric : str
        Only Euclidean-like data (``"euclidean"``, or rows already normalised for a
        Euclidean search) are projected; the caller says which by passing "euclidean".
    """
    m = projection
    if m == "auto":
        if metric != "euclidean" or X.shape[1] <= PROJECT_ABOVE:
            return None
        m = PROJECTION_DIM
    if m is None or metric != "euclidean" or m >= X.shape[1]:
        return None
    with one_blas_thread():  # see project
        mean, axes, _ = _linalg.principal_axes(X[::max(1, X.shape[0] // PROJECTION_SAMPLE)], m)
    return mean, np.ascontiguousarray(axes)


def project(X, axes):
    """X's coordinates on ``axes`` (from :func:`principal_axes`), (N, m) float32."""
    mean, V = axes
    out = np.empty((X.shape[0], V.shape[1]), dtype=np.float32)
    # on one BLAS thread: BLAS's own threads wait for work by spinning, and after these small
    # products they would compete for the cores with the search's threads; on a busy machine
    # threads that wait for each other are also slowed by every one the system pauses
    with one_blas_thread():
        for start in range(0, X.shape[0], PROJECT_CHUNK_ROWS):
            out[start:start + PROJECT_CHUNK_ROWS] = (X[start:start + PROJECT_CHUNK_ROWS] - mean) @ V
    return out


def rerank(Q, R, candidates, k, n_jobs=1, order=None):
    """The k nearest of each row's candidates by exact squared Euclidean distance.

    Parameters
    ----------
    Q : (M, D) queries; R : (N, D) reference (Q is cast to R's dtype).
    candidates : (M, c) integer indices into R, c >= k, distinct within a row.
    k : int
    n_jobs : int
    order : (M,) int array, optional
        The order to process the rows in. Rows whose candidates overlap, processed together,
        read the same reference rows from cache: the rpforest backend passes its trees' leaf
        order, for that reason.

    Returns
    -------
    indices : (M, k) int64
    squared : (M, k) float64
        Squared distances accumulated in float64 from the differences; rows sorted by
        (distance, index).
    """
    Q = np.ascontiguousarray(Q, dtype=R.dtype)
    m, c = candidates.shape
    indices, squared = np.empty((m, k), dtype=np.int64), np.empty((m, k))
    # in blocks of rows: the (M, c) candidate distances never exist all at once, nor, for wide
    # data, a copy of many query rows (each row's result does not depend on the blocks)
    step = max(1, RERANK_BLOCK_ENTRIES // max(c, Q.shape[1], 1))
    for s in range(0, m, step):
        rows = slice(s, s + step) if order is None else order[s:s + step]
        cand = np.ascontiguousarray(candidates[rows], dtype=np.int64)
        sq = np.empty(cand.shape)
        _knn.squared_distances(np.ascontiguousarray(Q[rows]), R, cand, sq, n_jobs)
        if k < c:
            keep = np.argpartition(sq, k - 1, axis=1)[:, :k]
            cand, sq = np.take_along_axis(cand, keep, 1), np.take_along_axis(sq, keep, 1)
        indices[rows] = cand
        squared[rows] = sq
    _knn.sort_rows_inplace(indices, squared, n_jobs)
    return indices, squared
