"""Neighbours and ranks for the quality measures: exact, ties to the smaller row index, in bounded
memory (the rules are in :mod:`fasttsne.quality`)."""
import math

import numpy as np
from scipy.spatial import cKDTree

from .._ext import _knn, _topk
from .._threads import one_blas_thread

#: Entries of one block of a query-by-points matrix held at a time (float32: 64 MiB).
BLOCK_ENTRIES = 2 ** 24
#: Maps of at most this many dimensions are searched with a k-d tree, wider data with GEMMs.
TREE_MAX_DIMS = 3
#: Candidates kept beyond k before the exact ranking decides; a row whose candidates could
#: hide a nearer point (ties or float32 rounding) is recomputed against all points.
CANDIDATE_MARGIN = 16
#: Distance evaluations (pairs x features) below which a kernel call runs on one thread.
PARALLEL_MIN_WORK = 2 ** 22
#: Queries per call when only neighbours are wanted (no ranks): the fused search holds no keys
#: block, so a call costs (queries x candidates) memory and more queries share the threads better.
NEIGHBOUR_QUERIES = 8192
_EPS32 = float(np.finfo(np.float32).eps)


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
        sq = exact_sq(self.Z, rows, cand, self.n_jobs)
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
        return np.concatenate([k_smallest(self._rows_sq(block), k)
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

    def candidates(self, rows, c, keys=None):
        """(B, c) indices of the c smallest keys of each query row (in no order), from ``keys``
        when given, else by the fused search (no (B, N) keys in memory)."""
        cand = np.empty((len(rows), c), dtype=np.int64)
        if keys is not None:
            _knn.smallest_k(keys, -1, cand, self.n_jobs)
            return cand
        with one_blas_thread():  # each of the kernel's threads runs its own GEMMs
            _topk.smallest_keys(self.R, np.ascontiguousarray(rows, dtype=np.int64), cand, self.n_jobs)
        return cand

    def neighbours(self, rows, k, keys=None):
        n = self.Z.shape[0]
        c = min(n - 1, k + CANDIDATE_MARGIN)
        cand = self.candidates(rows, c, keys)
        sq = exact_sq(self.Z, rows, cand, self.n_jobs)
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
            sq = exact_sq(self.Z, block, cand, self.n_jobs)
            sq[np.arange(len(block)), block] = np.inf
            parts.append(k_smallest(sq, k))
        return np.concatenate(parts)

    def ranks(self, rows, targets, keys=None):
        K = self.keys(rows) if keys is None else keys
        out = np.zeros(targets.shape, dtype=np.int64)

        def exact(b, near, t):  # exact distances decide within the rounding band
            q = np.full(len(near), rows[b], dtype=np.int64)
            return (exact_sq(self.Z, q, near[:, None], self.n_jobs)[:, 0],
                    exact_sq(self.Z, rows[b:b + 1], np.array([[t]], dtype=np.int64), self.n_jobs)[0, 0])

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


def search_space(Z, n_jobs):
    return _TreeSpace(Z, n_jobs) if Z.shape[1] <= TREE_MAX_DIMS else _GemmSpace(Z, n_jobs)


def exact_sq(Z, rows, cand, n_jobs):
    """(B, c) squared distances from ``Z[rows]`` to ``Z[cand]``, exact float64 from differences."""
    out = np.empty(cand.shape, dtype=np.float64)
    if cand.size:
        # threads only pay for themselves on big calls (a busy machine delays each start)
        threads = n_jobs if cand.size * Z.shape[1] >= PARALLEL_MIN_WORK else 1
        _knn.squared_distances(np.ascontiguousarray(Z[rows]), Z, np.ascontiguousarray(cand), out, threads)
    return out


def k_smallest(sq, k):
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
def per_point(X, Y, k, rows, n_ranked, n_jobs):
    """Per query row: its Y-neighbours (B, k), how many of them are X-neighbours too, and for
    the first ``n_ranked`` rows the trustworthiness and continuity penalties sum(rank - k)."""
    space_x, space_y = search_space(X, n_jobs), search_space(Y, n_jobs)
    nbr_y = np.empty((len(rows), k), dtype=np.int64)
    shared = np.empty(len(rows), dtype=np.int64)
    trust, cont = np.zeros(n_ranked), np.zeros(n_ranked)
    for s, e in _query_blocks(len(rows), n_ranked, X.shape[0]):
        block = rows[s:e]
        r = max(0, min(len(block), n_ranked - s))  # rows of this block that are ranked
        # ranks need every key of a row; neighbours alone are found without them
        keys = space_x.keys(block) if r and isinstance(space_x, _GemmSpace) else None
        nx = space_x.neighbours(block, k) if keys is None else space_x.neighbours(block, k, keys)
        ny = space_y.neighbours(block, k)
        y_in_x = (ny[:, :, None] == nx[:, None, :]).any(2)
        nbr_y[s:e] = ny
        shared[s:e] = y_in_x.sum(1)
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


def _query_blocks(m, n_ranked, n):
    """(start, stop) of the blocks of m queries: the first ``n_ranked`` in blocks whose keys
    (block x n) fit :data:`BLOCK_ENTRIES`, the others :data:`NEIGHBOUR_QUERIES` at a time."""
    ranked_step = max(1, BLOCK_ENTRIES // n)
    ranked = min(n_ranked, m)
    bounds = list(range(0, ranked, ranked_step)) + list(range(ranked, m, NEIGHBOUR_QUERIES))
    return list(zip(bounds, bounds[1:] + [m]))
