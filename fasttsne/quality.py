"""How faithful is a map? The field's standard measures of an embedding, in one report.

Every measure compares data ``X`` (N, D) with its map ``Y`` (N, d), row for row:

- :func:`knn_preservation`: the fraction of each point's k nearest neighbours in X that are
  also among its k nearest neighbours in Y (Kobak & Berens 2019, "kNN").
- :func:`knn_accuracy`: leave-one-out k-NN classification accuracy of the labels in Y.
- :func:`knc`: the fraction of each class mean's k nearest class means in X that are also
  its k nearest class means in Y (Kobak & Berens 2019, "KNC").
- :func:`cpd`: Spearman correlation of the pairwise distances in X and in Y, over pairs of
  points (Kobak & Berens 2019, "CPD").
- :func:`trustworthiness` and :func:`continuity` (Venna & Kaski 2001, 2006): penalties for
  points that are neighbours in Y but not in X (false neighbours), and for neighbours in X
  that are not neighbours in Y (torn neighbourhoods), weighted by how far down the other
  space's ranking they are.
- :func:`report`: all of them, with KL(P || Q) of an Embedding, as a :class:`QualityReport`.

Neighbours and ranks
--------------------
Distances are Euclidean, computed exactly in float64 from the coordinate differences (so
duplicate points are at distance exactly 0). A point is never its own neighbour. Points are
ranked by (distance, index): of two points at the same distance from a query, the one with
the smaller row index is the nearer. That one rule decides every tie (the k-th neighbour,
ranks, duplicates), so results never depend on thread counts or search order.

Large data
----------
The neighbour measures are exact up to :data:`EXACT_MAX_SAMPLES` points and the rank measures
(trustworthiness, continuity) up to :data:`RANK_EXACT_MAX_SAMPLES`. Above that they are the
mean over a seeded random sample of query points, each with its exact neighbours among ALL
points, and come with a standard error (finite-population corrected, so it is 0 when every
point is a query). Wide data is searched one block of queries at a time (a float32 GEMM
ranks candidates, exact float64 distances decide), so memory stays bounded.
"""
import math
import numbers

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree
from scipy.stats import rankdata

from ._ext import _knn
from ._params import InvalidParameterError
from ._threads import check_n_jobs, effective_n_jobs
from ._validation import check_data

__all__ = ["knn_preservation", "knn_accuracy", "knc", "cpd", "trustworthiness", "continuity", "report",
           "QualityReport", "EXACT_MAX_SAMPLES", "RANK_EXACT_MAX_SAMPLES"]

#: The kNN measures are exact (every point a query) up to this many points ...
EXACT_MAX_SAMPLES = 100_000
#: ... and computed on this many sampled query points above it.
SAMPLE_SIZE = 5_000
#: Trustworthiness and continuity rank every point for every query (N operations per query and
#: neighbour), so they are exact up to fewer points ...
RANK_EXACT_MAX_SAMPLES = 10_000
#: ... and sampled with fewer queries above that.
RANK_SAMPLE_SIZE = 500
#: Point pairs for CPD (all pairs when there are fewer).
CPD_PAIRS = 100_000
#: Nearest class means for KNC (Kobak & Berens used 4 for the 10 MNIST digits).
KNC_K = 4
#: Entries of one block of a query-by-points matrix held at a time (float32: 64 MiB).
BLOCK_ENTRIES = 2 ** 24
#: Maps of at most this many dimensions are searched with a k-d tree, wider data with GEMMs.
TREE_MAX_DIMS = 3
#: Candidates kept beyond k before the exact ranking decides; a row whose candidates could
#: hide a nearer point (ties or float32 rounding) is recomputed against all points.
CANDIDATE_MARGIN = 16
#: Distance evaluations (pairs x features) below which a kernel call runs on one thread.
PARALLEL_MIN_WORK = 2 ** 22
_EPS32 = float(np.finfo(np.float32).eps)


# ----------------------------------------------------------------------------- searching
class _TreeSpace:
    """Neighbours and ranks among the rows of a low-dimensional ``Z`` (a map)."""

    def __init__(self, Z, n_jobs):
        self.Z = np.ascontiguousarray(Z, dtype=np.float64)
        self.n_jobs = n_jobs
        self._tree = None

    def neighbours(self, rows, k):
        """(B, k) indices of each query row's k nearest other points, in (distance, index) order."""
        n = self.Z.shape[0]
        c = min(n - 1, k + CANDIDATE_MARGIN)
        if self._tree is None:
            self._tree = cKDTree(self.Z)
        _, cand = self._tree.query(self.Z[rows], c + 1, workers=self.n_jobs)
        cand = np.ascontiguousarray(cand, dtype=np.int64)
        sq = _exact_sq(self.Z, rows, cand, self.n_jobs)
        sq[cand == rows[:, None]] = np.inf  # the query itself, when the tree returned it
        _knn.sort_rows_inplace(cand, sq, self.n_jobs)
        cand, sq = cand[:, :c], sq[:, :c]
        # the tree rounds differently from the exact distances: a row is complete when its
        # last candidate is clearly farther than its k-th (else a tie may hide a nearer point)
        settled = (sq[:, -1] > sq[:, k - 1] * (1 + 1e-9) + 1e-300) | (c == n - 1)
        out = np.ascontiguousarray(cand[:, :k])
        if not settled.all():
            out[~settled] = self._brute(rows[~settled], k)
        return out

    def _rows_sq(self, rows):
        """(B, N) exact squared distances, summed feature by feature as the kernel sums them."""
        out = np.zeros((len(rows), self.Z.shape[0]))
        for f in range(self.Z.shape[1]):
            t = self.Z[:, f][None, :] - self.Z[rows, f][:, None]
            out += t * t
        out[np.arange(len(rows)), rows] = np.inf
        return out

    def _brute(self, rows, k):
        return np.concatenate([_k_smallest(self._rows_sq(block), k)
                               for block in _blocks(rows, self.Z.shape[0], BLOCK_ENTRIES // 4)])

    def ranks(self, rows, targets):
        """Rank (1 = nearest) of ``targets[b, c]`` among all points but ``rows[b]``; 0 where -1."""
        out = np.zeros(targets.shape, dtype=np.int64)
        step = max(1, (BLOCK_ENTRIES // 4) // self.Z.shape[0])
        for start in range(0, len(rows), step):
            sq = self._rows_sq(rows[start:start + step])
            _count_ahead(sq, targets[start:start + step], np.zeros(len(sq)), out[start:start + step],
                         lambda b, near, t: (sq[b, near], sq[b, t]))
        return out


class _GemmSpace:
    """Neighbours and ranks among the rows of a wide ``Z``: float32 GEMM keys, exact decisions.

    The key of point l for query q is ``|r_l|^2 - 2 q.r_l`` on centred float32 copies, i.e. the
    squared distance minus ``|q|^2``, up to a rounding error bounded per query by ``tol``. Keys
    farther apart than twice that are ordered as the exact distances are; closer ones are
    decided by exact float64 distances. One GEMM gives the keys: the points carry ``|r|^2`` as
    an extra column, the queries ``-2 q`` and a 1 (no passes over the block to scale and add).
    """

    def __init__(self, Z, n_jobs):
        self.Z = Z
        self.n_jobs = n_jobs
        n, dim = Z.shape
        center = Z.mean(axis=0, dtype=np.float64)
        self.R = np.empty((n, dim + 1), dtype=np.float32)
        step = max(1, BLOCK_ENTRIES // dim)
        for start in range(0, n, step):
            self.R[start:start + step, :dim] = Z[start:start + step] - center
        centred = self.R[:, :dim]
        norms2 = np.einsum("ij,ij->i", centred, centred, dtype=np.float64)
        self.R[:, dim] = norms2
        norms = np.sqrt(norms2)
        top = float(norms.max())
        # inputs rounded to float32 and the accumulation of D + 1 products (~sqrt(D) roundings
        # in practice), with a factor 2 to spare
        self.tol = 2 * _EPS32 * (1 + math.sqrt(dim)) * (top * top + 2 * norms * top) + 1e-30

    def keys(self, rows):
        Q = self.R[rows]
        Q[:, :-1] *= -2.0  # exact: a power of two
        Q[:, -1] = 1.0
        K = Q @ self.R.T
        K[np.arange(len(rows)), rows] = np.inf  # never its own neighbour
        return K

    def neighbours(self, rows, k, keys=None):
        n = self.Z.shape[0]
        K = self.keys(rows) if keys is None else keys
        c = min(n - 1, k + CANDIDATE_MARGIN)
        cand = np.empty((len(rows), c), dtype=np.int64)
        _knn.smallest_k(K, -1, cand, self.n_jobs)
        sq = _exact_sq(self.Z, rows, cand, self.n_jobs)
        _knn.sort_rows_inplace(cand, sq, self.n_jobs)
        settled = (sq[:, -1] - sq[:, k - 1] > 2 * self.tol[rows]) | (c == n - 1)
        out = np.ascontiguousarray(cand[:, :k])
        if not settled.all():
            out[~settled] = self._brute(rows[~settled], k)
        return out

    def _brute(self, rows, k):
        n = self.Z.shape[0]
        parts = []
        for block in _blocks(rows, n, BLOCK_ENTRIES // 8):
            cand = np.ascontiguousarray(np.broadcast_to(np.arange(n, dtype=np.int64), (len(block), n)))
            sq = _exact_sq(self.Z, block, cand, self.n_jobs)
            sq[np.arange(len(block)), block] = np.inf
            parts.append(_k_smallest(sq, k))
        return np.concatenate(parts)

    def ranks(self, rows, targets, keys=None):
        K = self.keys(rows) if keys is None else keys
        out = np.zeros(targets.shape, dtype=np.int64)

        def exact(b, near, t):  # exact distances decide within the rounding band
            q = np.full(len(near), rows[b], dtype=np.int64)
            return (_exact_sq(self.Z, q, near[:, None], self.n_jobs)[:, 0],
                    _exact_sq(self.Z, rows[b:b + 1], np.array([[t]], dtype=np.int64), self.n_jobs)[0, 0])

        _count_ahead(K, targets, 2 * self.tol[rows], out, exact)
        return out


def _count_ahead(keys, targets, band, out, exact):
    """Write into ``out[b, c]`` the rank of point ``targets[b, c]`` (>= 0) in row b.

    ``keys`` (B, N) orders the points as their distances do, up to ``band[b]``; a point whose
    key is within the band of the target's is ordered by ``exact(b, points, target)``, which
    gives their and the target's exact squared distances, and ties by index. Two counting
    passes per target cost less than sorting the row: a row has at most k targets.
    """
    for b in range(keys.shape[0]):
        row = keys[b]
        for c in np.nonzero(targets[b] >= 0)[0]:
            t = targets[b, c]
            thr = row[t]
            lo = np.count_nonzero(row < thr - band[b])
            rank = lo + 1
            if np.count_nonzero(row <= thr + band[b]) - lo > 1:  # others near the target: decided exactly
                near = np.nonzero(np.abs(row - thr) <= band[b])[0]
                near = near[near != t]
                sq_near, sq_t = exact(b, near, t)
                rank += int(np.count_nonzero((sq_near < sq_t) | ((sq_near == sq_t) & (near < t))))
            out[b, c] = rank


def _space(Z, n_jobs):
    return _TreeSpace(Z, n_jobs) if Z.shape[1] <= TREE_MAX_DIMS else _GemmSpace(Z, n_jobs)


def _exact_sq(Z, rows, cand, n_jobs):
    """(B, c) squared distances from ``Z[rows]`` to ``Z[cand]``, exact float64 from differences."""
    out = np.empty(cand.shape, dtype=np.float64)
    if cand.size:
        # threads only pay for themselves on big calls (a busy machine delays each start)
        threads = n_jobs if cand.size * Z.shape[1] >= PARALLEL_MIN_WORK else 1
        _knn.squared_distances(np.ascontiguousarray(Z[rows]), Z, np.ascontiguousarray(cand), out, threads)
    return out


def _k_smallest(sq, k):
    """(B, k) column indices of the k smallest entries of each row, ties to the smaller index."""
    kth = np.partition(sq, k - 1, axis=1)[:, k - 1]
    out = np.empty((sq.shape[0], k), dtype=np.int64)
    for b in range(sq.shape[0]):
        cols = np.nonzero(sq[b] <= kth[b])[0]
        out[b] = cols[np.lexsort((cols, sq[b, cols]))][:k]
    return out


def _blocks(rows, n, entries):
    step = max(1, entries // max(n, 1))
    return [rows[s:s + step] for s in range(0, len(rows), step)]


# ------------------------------------------------------------------------- the measures
def _per_point(X, Y, k, rows, n_ranked, n_jobs):
    """Per query row: its Y-neighbours (B, k), how many of them are X-neighbours too, and for
    the first ``n_ranked`` rows the trustworthiness and continuity penalties sum(rank - k)."""
    space_x, space_y = _space(X, n_jobs), _space(Y, n_jobs)
    step = max(1, BLOCK_ENTRIES // X.shape[0])
    nbr_y = np.empty((len(rows), k), dtype=np.int64)
    shared = np.empty(len(rows), dtype=np.int64)
    trust, cont = np.zeros(n_ranked), np.zeros(n_ranked)
    for s in range(0, len(rows), step):
        block = rows[s:s + step]
        keys = space_x.keys(block) if isinstance(space_x, _GemmSpace) else None
        nx = space_x.neighbours(block, k) if keys is None else space_x.neighbours(block, k, keys)
        ny = space_y.neighbours(block, k)
        y_in_x = (ny[:, :, None] == nx[:, None, :]).any(2)
        nbr_y[s:s + step] = ny
        shared[s:s + step] = y_in_x.sum(1)
        r = max(0, min(len(block), n_ranked - s))  # rows of this block that are ranked
        if r:
            x_in_y = (nx[:r, :, None] == ny[:r, None, :]).any(2)
            false_nbrs = np.where(y_in_x[:r], -1, ny[:r])  # in Y's neighbourhood only: ranked in X
            torn = np.where(x_in_y, -1, nx[:r])  # in X's neighbourhood only: ranked in Y
            rx = (space_x.ranks(block[:r], false_nbrs) if keys is None
                  else space_x.ranks(block[:r], false_nbrs, keys[:r]))
            ry = space_y.ranks(block[:r], torn)
            trust[s:s + r] = np.where(false_nbrs >= 0, rx - k, 0).sum(1)
            cont[s:s + r] = np.where(torn >= 0, ry - k, 0).sum(1)
    return nbr_y, shared, trust, cont


class _Estimate:
    """The mean of per-point values over a sample of m of N points, and its standard error."""

    def __init__(self, values, n_total):
        values = np.asarray(values, dtype=np.float64)
        m = len(values)
        self.value = float(values.mean())
        self.n = m
        if m >= n_total or m < 2:
            self.se = 0.0
        else:
            # simple random sampling without replacement: finite-population correction
            self.se = float(values.std(ddof=1) / math.sqrt(m) * math.sqrt(1 - m / n_total))


def _rank_normaliser(n, k):
    return 2.0 / (k * (2.0 * n - 3.0 * k - 1.0))


def _check_pair(X, Y):
    if sp.issparse(X):
        raise TypeError("X is a scipy sparse matrix; the quality measures need dense rows: pass "
                        "X.toarray(), or the principal components the map was made from.")
    Y = check_data(Y, name="Y", dtype=np.float64)
    X = check_data(X, name="X")
    if X.shape[0] != Y.shape[0]:
        raise InvalidParameterError(f"X has {X.shape[0]} rows but the map Y has {Y.shape[0]}; "
                                    "they must describe the same points, row for row.")
    return X, Y


def _check_k(k, n, name="k", rank=False):
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise InvalidParameterError(f"{name} must be a positive integer, got {k!r}.")
    limit = (n - 1) / 2 if rank else n - 1
    if k > limit or (rank and 2 * k >= n):
        what = "less than half the number of points" if rank else "less than the number of points"
        raise InvalidParameterError(f"{name}={k} is too large for {n} points: it must be {what}.")
    return int(k)


def _check_labels(labels, n):
    y = np.asarray(labels)
    if y.ndim != 1 or y.shape[0] != n:
        raise InvalidParameterError(f"labels must be one label per point ({n},), got shape {y.shape}.")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
        raise InvalidParameterError("labels contain NaN or infinite values.")
    return np.unique(y, return_inverse=True)[1].ravel()


def _sample_size(n, size, exact_max, default):
    """How many query points: all of them when ``size`` covers them."""
    if size == "auto":
        size = n if n <= exact_max else default
    elif isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise InvalidParameterError(f"sample sizes must be 'auto' or a positive integer, got {size!r}.")
    return min(int(size), n)


def _query_rows(n, sizes, rng):
    """Rows whose first ``m`` are a uniform random sample of size m, for every m in ``sizes``
    (the points in order when all of them are queried)."""
    m = max(sizes)
    if m >= n:
        return np.arange(n, dtype=np.int64) if min(sizes) >= n else rng.permutation(n).astype(np.int64)
    return rng.permutation(n)[:m].astype(np.int64)


def _setup(X, Y, k, n_jobs, rank=False):
    X, Y = _check_pair(X, Y)
    k = _check_k(k, X.shape[0], rank=rank)
    return X, Y, k, effective_n_jobs(check_n_jobs(n_jobs))


def knn_preservation(X, Y, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Fraction of each point's k nearest neighbours in ``X`` that are also among its k
    nearest in ``Y``, averaged over points.

    Parameters
    ----------
    X : (N, D) array-like
        The data, Euclidean distances.
    Y : (N, d) array-like
        The map, row i placing X's row i.
    k : int, 1 <= k < N
    sample_size : "auto" or int
        Query points: "auto" is all of them up to :data:`EXACT_MAX_SAMPLES` points, else a
        sample of :data:`SAMPLE_SIZE`; an int is that many (all when >= N).
    random_state : None, int or numpy Generator
        Seed of the sample (unused when every point is a query).
    n_jobs : int

    Returns
    -------
    float in [0, 1]; 1 when every neighbourhood is kept.
    """
    return _knn_measure(X, Y, k, None, sample_size, random_state, n_jobs)[0].value


def knn_accuracy(Y, labels, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Leave-one-out k-NN classification accuracy in the map ``Y``.

    Each point gets the label most common among its k nearest other points in ``Y``; a tie
    between labels goes to the label first in sorted order (as ``np.bincount(v).argmax()``
    does for integer labels).

    Parameters
    ----------
    Y : (N, d) array-like
    labels : (N,) array-like of any sortable type
    k, sample_size, random_state, n_jobs : see :func:`knn_preservation`

    Returns
    -------
    float in [0, 1]
    """
    Y = check_data(Y, name="Y", dtype=np.float64)
    codes = _check_labels(labels, Y.shape[0])
    k = _check_k(k, Y.shape[0])
    m = _sample_size(Y.shape[0], sample_size, EXACT_MAX_SAMPLES, SAMPLE_SIZE)
    rows = _query_rows(Y.shape[0], [m], np.random.default_rng(random_state))
    nbr = _space(Y, effective_n_jobs(check_n_jobs(n_jobs))).neighbours(rows, k)
    return _Estimate(_votes(nbr, codes, rows), Y.shape[0]).value


def _votes(nbr, codes, rows):
    """1.0 where the majority label of the neighbours is the point's own, else 0.0."""
    n_labels = int(codes.max()) + 1
    flat = (np.arange(len(rows))[:, None] * n_labels + codes[nbr]).ravel()
    counts = np.bincount(flat, minlength=len(rows) * n_labels).reshape(len(rows), n_labels)
    return (counts.argmax(1) == codes[rows]).astype(np.float64)


def _knn_measure(X, Y, k, labels, sample_size, random_state, n_jobs):
    X, Y, k, n_jobs = _setup(X, Y, k, n_jobs)
    m = _sample_size(X.shape[0], sample_size, EXACT_MAX_SAMPLES, SAMPLE_SIZE)
    rows = _query_rows(X.shape[0], [m], np.random.default_rng(random_state))
    nbr_y, shared, _, _ = _per_point(X, Y, k, rows, 0, n_jobs)
    accuracy = None if labels is None else _Estimate(_votes(nbr_y, labels, rows), X.shape[0])
    return _Estimate(shared / k, X.shape[0]), accuracy


def _rank_measures(X, Y, k, sample_size, random_state, n_jobs):
    X, Y, k, n_jobs = _setup(X, Y, k, n_jobs, rank=True)
    n = X.shape[0]
    m = _sample_size(n, sample_size, RANK_EXACT_MAX_SAMPLES, RANK_SAMPLE_SIZE)
    rows = _query_rows(n, [m], np.random.default_rng(random_state))
    _, _, trust, cont = _per_point(X, Y, k, rows, m, n_jobs)
    scale = _rank_normaliser(n, k)
    return _Estimate(1 - scale * trust, n), _Estimate(1 - scale * cont, n)


def trustworthiness(X, Y, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Trustworthiness of the map (Venna & Kaski): are the map's neighbours true neighbours?

    ``T(k) = 1 - 2 / (N k (2N - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k)``, where
    ``U_k(i)`` are the k nearest neighbours of i in ``Y`` that are not among its k nearest in
    ``X``, and ``r(i, j)`` is j's rank (1 = nearest) among the distances from i in ``X``. The
    same as ``sklearn.manifold.trustworthiness`` (which breaks exact ties in its own way).

    Parameters
    ----------
    X : (N, D) array-like
    Y : (N, d) array-like
    k : int, 1 <= k < N / 2
    sample_size : "auto" or int
        "auto": every point up to :data:`RANK_EXACT_MAX_SAMPLES` points, else a sample of
        :data:`RANK_SAMPLE_SIZE` queries (the sums above then run over the sample, scaled by
        N over its size).
    random_state, n_jobs : see :func:`knn_preservation`

    Returns
    -------
    float, at most 1 (1: no false neighbours).
    """
    return _rank_measures(X, Y, k, sample_size, random_state, n_jobs)[0].value


def continuity(X, Y, k=10, *, sample_size="auto", random_state=0, n_jobs=1):
    """Continuity of the map (Venna & Kaski): are the true neighbours kept together?

    :func:`trustworthiness` with the roles of ``X`` and ``Y`` exchanged: the penalty is the
    rank in ``Y`` of each of the k nearest neighbours in ``X`` that the map moved out of the
    k nearest. Parameters and return value as for :func:`trustworthiness`.
    """
    return _rank_measures(X, Y, k, sample_size, random_state, n_jobs)[1].value


def knc(X, Y, labels, k=KNC_K):
    """Fraction of each class mean's k nearest class means in ``X`` that are also its k
    nearest class means in ``Y``, averaged over classes (Kobak & Berens 2019).

    Parameters
    ----------
    X : (N, D) array-like
    Y : (N, d) array-like
    labels : (N,) array-like
        At least k + 1 distinct classes.
    k : int, default 4

    Returns
    -------
    float in [0, 1]
    """
    X, Y = _check_pair(X, Y)
    codes = _check_labels(labels, X.shape[0])
    return _knc(X, Y, codes, k)


def _class_means(Z, codes, n_classes):
    members = sp.csr_matrix((np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(n_classes, len(codes)))
    sums = np.asarray(members @ Z, dtype=np.float64)
    return sums / np.bincount(codes, minlength=n_classes)[:, None]


def _knc(X, Y, codes, k):
    n_classes = int(codes.max()) + 1
    k = _check_k(k, n_classes, name="knc_k")
    mx, my = _class_means(X, codes, n_classes), _class_means(Y, codes, n_classes)
    nx = _means_neighbours(mx, k)
    ny = _means_neighbours(my, k)
    return float((nx[:, :, None] == ny[:, None, :]).any(2).sum() / (n_classes * k))


def _means_neighbours(M, k):
    """k nearest other rows of a small matrix, exact, (distance, index) order."""
    sq = ((M[:, None, :] - M[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(sq, np.inf)
    return _k_smallest(sq, k)


def cpd(X, Y, n_pairs=CPD_PAIRS, *, random_state=0, n_jobs=1):
    """Spearman correlation between the distances of point pairs in ``X`` and in ``Y``.

    Parameters
    ----------
    X : (N, D) array-like
    Y : (N, d) array-like
    n_pairs : int
        Pairs (i, j), i != j, drawn uniformly at random; every pair once when there are at
        most this many (exact). Ties in distance get their average rank.
    random_state : None, int or numpy Generator
    n_jobs : int

    Returns
    -------
    float in [-1, 1]; how well the map keeps the global arrangement.
    """
    X, Y = _check_pair(X, Y)
    return _cpd(X, Y, n_pairs, np.random.default_rng(random_state), effective_n_jobs(check_n_jobs(n_jobs)))[0]


def _cpd(X, Y, n_pairs, rng, n_jobs):
    """(rho, standard error, number of pairs); the error is 0 when all pairs were used."""
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, numbers.Integral) or n_pairs < 3:
        raise InvalidParameterError(f"n_pairs must be an integer >= 3, got {n_pairs!r}.")
    n = X.shape[0]
    exact = n * (n - 1) // 2 <= n_pairs
    if exact:
        i, j = np.triu_indices(n, 1)
    else:
        i = rng.integers(0, n, n_pairs)
        j = rng.integers(0, n - 1, n_pairs)
        j += j >= i
    i, j = i.astype(np.int64), j.astype(np.int64)
    rho = _spearman(_pair_sq(X, i, j, n_jobs), _pair_sq(Y, i, j, n_jobs))
    m = len(i)
    # Bonett & Wright (2000) for Spearman's rho, pairs taken as independent
    se = 0.0 if exact else (1 - rho * rho) * math.sqrt((1 + rho * rho / 2) / (m - 3))
    return rho, se, m


def _pair_sq(Z, i, j, n_jobs):
    out = np.empty(len(i))
    step = max(1, BLOCK_ENTRIES // (8 * Z.shape[1]))
    for s in range(0, len(i), step):
        out[s:s + step] = _exact_sq(Z, i[s:s + step], j[s:s + step, None], n_jobs)[:, 0]
    return out


def _spearman(a, b):
    ra, rb = rankdata(a), rankdata(b)
    ra -= ra.mean()
    rb -= rb.mean()
    denom = math.sqrt(float(ra @ ra) * float(rb @ rb))
    return float(ra @ rb / denom) if denom > 0 else float("nan")


# ---------------------------------------------------------------------------- the report
#: The report's measures in table order: (field, label).
_ROWS = (("knn_preservation", "kNN preservation"), ("knn_accuracy", "kNN accuracy"),
         ("trustworthiness", "trustworthiness"), ("continuity", "continuity"), ("knc", "KNC"),
         ("cpd", "CPD"), ("kl_divergence", "KL divergence"))


class QualityReport:
    """The quality measures of one map, with what each was computed on.

    ``str(report)`` is a table; :meth:`to_dict` and :meth:`to_pandas` give the fields.

    Attributes
    ----------
    n_samples, k : int
    knn_preservation, trustworthiness, continuity, cpd : float
    knn_accuracy, knc : float or None
        None without labels (KNC also with fewer than 3 classes).
    kl_divergence : float or None
        KL(P || Q) of an Embedding with its own P (None for a plain array).
    knn_preservation_se, knn_accuracy_se, trustworthiness_se, continuity_se, cpd_se : float or None
        Standard errors of the sampled estimates; 0 when exact.
    sample_size : int
        Query points of kNN preservation and accuracy (N when exact).
    rank_sample_size : int
        Query points of trustworthiness and continuity.
    cpd_pairs : int
        Point pairs of CPD.
    knc_k : int or None
        Nearest class means of KNC.
    n_classes : int or None
    """

    _FIELDS = ("n_samples", "k", "knn_preservation", "knn_preservation_se", "knn_accuracy", "knn_accuracy_se",
               "trustworthiness", "trustworthiness_se", "continuity", "continuity_se", "knc", "knc_k",
               "n_classes", "cpd", "cpd_se", "cpd_pairs", "kl_divergence", "sample_size", "rank_sample_size")

    def __init__(self, **fields):
        unknown = set(fields) - set(self._FIELDS)
        if unknown:
            raise TypeError(f"unknown report fields {sorted(unknown)}.")
        for name in self._FIELDS:
            setattr(self, name, fields.get(name))

    def to_dict(self):
        """All fields as a plain dict (floats, ints and None), in a fixed order."""
        return {name: getattr(self, name) for name in self._FIELDS}

    def to_pandas(self):
        """A one-row ``pandas.DataFrame`` of :meth:`to_dict` (needs pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("QualityReport.to_pandas needs pandas: pip install pandas") from None
        return pd.DataFrame([self.to_dict()])

    def _basis(self, field):
        n = self.n_samples
        if field in ("knn_preservation", "knn_accuracy"):
            return _points(self.sample_size, n)
        if field in ("trustworthiness", "continuity"):
            return _points(self.rank_sample_size, n)
        if field == "knc":
            return f"{self.n_classes} class means, k = {self.knc_k}"
        if field == "cpd":
            return f"{'all' if self.cpd_se == 0 else 'sampled'} {self.cpd_pairs:,} pairs"
        return "the map's own P"

    def __str__(self):
        lines = [f"fasttsne quality report: {self.n_samples:,} points, k = {self.k}",
                 f"{'measure':<18} {'value':>8}  {'std. error':>10}  computed on"]
        for field, label in _ROWS:
            value = getattr(self, field)
            if value is None:
                continue
            se = getattr(self, field + "_se", 0.0 if field == "knc" else None)
            error = "-" if se is None else ("exact" if se == 0 else f"{se:.4f}")
            lines.append(f"{label:<18} {value:>8.4f}  {error:>10}  {self._basis(field)}")
        return "\n".join(lines)

    def __repr__(self):
        shown = ", ".join(f"{f}={getattr(self, f):.4f}" for f, _ in _ROWS if getattr(self, f) is not None)
        return f"QualityReport(n_samples={self.n_samples}, k={self.k}, {shown})"


def _points(m, n):
    return f"all {n:,} points" if m >= n else f"{m:,} sampled points"


def report(X, Y, labels=None, k=10, *, sample_size="auto", rank_sample_size="auto", cpd_pairs=CPD_PAIRS,
           knc_k=KNC_K, random_state=0, n_jobs=1):
    """Every quality measure of the map ``Y`` of data ``X``, as a :class:`QualityReport`.

    Parameters
    ----------
    X : (N, D) array-like
        The data the map was made from (Euclidean distances), row for row.
    Y : (N, d) array-like or Embedding
        The map. For an Embedding the report also gives its KL divergence with its own P
        (recomputed at its positions when the Embedding does not know it).
    labels : (N,) array-like, optional
        Class labels: adds kNN accuracy and KNC.
    k : int, default 10
        Neighbours of kNN preservation, kNN accuracy, trustworthiness and continuity
        (1 <= k < N / 2).
    sample_size : "auto" or int
        Query points of kNN preservation and accuracy: "auto" is every point up to
        :data:`EXACT_MAX_SAMPLES` points, else a random :data:`SAMPLE_SIZE`.
    rank_sample_size : "auto" or int
        Query points of trustworthiness and continuity: "auto" is every point up to
        :data:`RANK_EXACT_MAX_SAMPLES` points, else a random :data:`RANK_SAMPLE_SIZE`.
    cpd_pairs : int, default 100,000
        Point pairs of CPD.
    knc_k : int, default 4
        Nearest class means of KNC (lowered to the number of classes minus 2 when there are
        fewer than ``knc_k + 2``; KNC is left out below 3 classes).
    random_state : None, int or numpy Generator, default 0
        Seed of every sample (the same seed gives the same report).
    n_jobs : int, default 1

    Returns
    -------
    QualityReport
    """
    kl = getattr(Y, "kl_divergence", None) if hasattr(Y, "optimize") else None
    if hasattr(Y, "optimize") and kl is None:
        kl = Y.optimize(0).kl_divergence  # evaluates KL at the positions without moving them
    X, Y_arr = _check_pair(X, Y)
    n_features = getattr(Y, "n_features", None)
    if n_features is not None and X.shape[1] != n_features:
        raise InvalidParameterError(f"X has {X.shape[1]} features but the map was made from data with "
                                    f"{n_features}.")
    n = X.shape[0]
    k = _check_k(k, n, rank=True)
    n_jobs = effective_n_jobs(check_n_jobs(n_jobs))
    codes = None if labels is None else _check_labels(labels, n)
    rng = np.random.default_rng(random_state)
    m = _sample_size(n, sample_size, EXACT_MAX_SAMPLES, SAMPLE_SIZE)
    m_rank = _sample_size(n, rank_sample_size, RANK_EXACT_MAX_SAMPLES, RANK_SAMPLE_SIZE)
    rows = _query_rows(n, [m, m_rank], rng)
    nbr_y, shared, trust, cont = _per_point(X, Y_arr, k, rows, m_rank, n_jobs)
    nbr_y, shared, rows = nbr_y[:m], shared[:m], rows[:m]
    scale = _rank_normaliser(n, k)
    preservation = _Estimate(shared / k, n)
    trust, cont = _Estimate(1 - scale * trust, n), _Estimate(1 - scale * cont, n)
    rho, rho_se, pairs = _cpd(X, Y_arr, cpd_pairs, rng, n_jobs)
    fields = dict(n_samples=n, k=k, knn_preservation=preservation.value, knn_preservation_se=preservation.se,
                  trustworthiness=trust.value, trustworthiness_se=trust.se, continuity=cont.value,
                  continuity_se=cont.se, cpd=rho, cpd_se=rho_se, cpd_pairs=pairs, kl_divergence=kl,
                  sample_size=m, rank_sample_size=m_rank)
    if codes is not None:
        accuracy = _Estimate(_votes(nbr_y, codes, rows), n)
        n_classes = int(codes.max()) + 1
        fields.update(knn_accuracy=accuracy.value, knn_accuracy_se=accuracy.se, n_classes=n_classes)
        if n_classes >= 3:
            fields.update(knc_k=min(knc_k, n_classes - 2))
            fields.update(knc=_knc(X, Y_arr, codes, fields["knc_k"]))
    return QualityReport(**fields)
