"""Exact nearest neighbours by blocked dense distance computation."""
import numpy as np

from .base import NeighborBackend, sort_rows

__all__ = ["Exact"]

#: Entries of one block of the distance matrix (float64): 2**25 is 256 MiB.
BLOCK_ENTRIES = 2 ** 25


class Exact(NeighborBackend):
    """Brute-force k-NN with BLAS, one block of rows at a time (never N x N in memory).

    Candidates are ranked with ``|x|^2 - 2 x.y + |y|^2`` (one GEMM per block); the
    distances returned are then recomputed directly from the differences, so they carry
    no cancellation error even for near-duplicate points.
    """

    name = "exact"
    metrics = frozenset({"euclidean", "sqeuclidean", "cosine"})
    supports_sparse = False

    def build(self, X, k):
        n = X.shape[0]
        self._check_k(k, n - 1)
        self._data = X
        self.n_samples_ = n
        return self._search(X, k, exclude_self=True)

    def query(self, X_new, k):
        self._check_k(k, self.n_samples_)
        return self._search(X_new, k, exclude_self=False)

    def _prepared(self, X):
        X = np.asarray(X, dtype=np.float64)
        if self.metric == "cosine":
            norms = np.linalg.norm(X, axis=1, keepdims=True)
            X = X / np.where(norms > 0, norms, 1.0)
        return X

    def _search(self, Q, k, exclude_self):
        R = self._prepared(self._data)
        Qp = R if exclude_self else self._prepared(Q)
        r_sq = np.einsum("ij,ij->i", R, R)
        n_q, n_r = Qp.shape[0], R.shape[0]
        block = max(1, BLOCK_ENTRIES // max(n_r, 1))
        indices = np.empty((n_q, k), dtype=np.int64)
        for start in range(0, n_q, block):
            stop = min(n_q, start + block)
            q = Qp[start:stop]
            d2 = q @ R.T
            d2 *= -2.0
            d2 += np.einsum("ij,ij->i", q, q)[:, None]
            d2 += r_sq[None, :]
            if exclude_self:
                rows = np.arange(stop - start)
                d2[rows, start + rows] = np.inf
            part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < n_r else np.argsort(d2, axis=1)[:, :k]
            indices[start:stop] = part
        diff_sq = np.empty((n_q, k), dtype=np.float64)
        for start in range(0, n_q, max(1, BLOCK_ENTRIES // (k * Qp.shape[1]))):
            stop = min(n_q, start + max(1, BLOCK_ENTRIES // (k * Qp.shape[1])))
            diff = Qp[start:stop, None, :] - R[indices[start:stop]]
            diff_sq[start:stop] = np.einsum("ijk,ijk->ij", diff, diff)
        if self.metric == "euclidean":
            dist = np.sqrt(diff_sq)
        elif self.metric == "sqeuclidean":
            dist = diff_sq
        else:  # cosine distance 1 - cos = |a - b|^2 / 2 for unit vectors
            dist = diff_sq / 2.0
        return sort_rows(indices, dist)
