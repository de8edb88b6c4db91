"""Low-level helpers for sparse affinity matrices: CSR layout the kernels take, symmetrisation,
and ``sum p log p``. Nothing here knows about neighbours or models."""
import numpy as np
import scipy.sparse as sp

__all__ = ["to_csr", "to_csr_sorted", "keep_largest", "joint_probabilities", "sum_p_log_p", "SUM_BLOCK"]

#: Entries of P converted to float64 at a time by :func:`sum_p_log_p`.
SUM_BLOCK = 1 << 20


def to_csr(indices, values, n_cols):
    """(M, k) neighbour indices and values -> (M, n_cols) CSR with int32 indices."""
    indices = np.asarray(indices)
    m, k = indices.shape
    # int32 from the start (when they fit): scipy then keeps int32 indices throughout
    itype = np.int32 if max(m * k, n_cols) < 2 ** 31 else np.int64
    indptr = np.arange(0, m * k + 1, k, dtype=itype)
    # copies: scipy's sum_duplicates works in place on the arrays it is given
    M = sp.csr_matrix((np.array(values, dtype=np.float64).ravel(), indices.ravel().astype(itype), indptr),
                      shape=(m, n_cols))
    M.sum_duplicates()
    M.indices = M.indices.astype(np.int32, copy=False)
    M.indptr = M.indptr.astype(np.int32 if M.nnz < 2 ** 31 else np.int64, copy=False)
    return M


def to_csr_sorted(M):
    """CSR with sorted int32 indices (what the kernels take)."""
    M = sp.csr_matrix(M)
    M.sum_duplicates()
    M.sort_indices()
    M.indices = M.indices.astype(np.int32, copy=False)
    M.indptr = M.indptr.astype(np.int32, copy=False)
    return M


def keep_largest(M, k):
    """Each row's k largest entries of a CSR matrix (the others are dropped, in place)."""
    M = M.tocsr()
    rows = []
    for i in range(M.shape[0]):  # once per transform call, over new points only
        start, stop = M.indptr[i], M.indptr[i + 1]
        if stop - start > k:
            drop = np.argpartition(M.data[start:stop], stop - start - k)[:stop - start - k]
            rows.append(start + drop)
    if rows:
        M.data[np.concatenate(rows)] = 0.0
        M.eliminate_zeros()
    return M


def joint_probabilities(P_conditional):
    """Symmetrise conditionals: P = (P_cond + P_cond^T) / (2N), a CSR summing to 1.

    The result has int32 indices (what the Cython kernels take), sorted, no duplicates.
    """
    n = P_conditional.shape[0]
    P = (P_conditional + P_conditional.T).tocsr()
    P.data /= 2.0 * n
    P.eliminate_zeros()
    P.sum_duplicates()
    P.sort_indices()
    if P.nnz >= 2 ** 31:
        raise ValueError("the affinity matrix has more than 2^31 non-zeros; lower the perplexity.")
    P.indices = P.indices.astype(np.int32, copy=False)
    P.indptr = P.indptr.astype(np.int32, copy=False)
    return P


def sum_p_log_p(values):
    """``sum v log v`` over the non-negative ``values`` (any float dtype; 0 log 0 = 0),
    accumulated in float64.

    In blocks, so float32 P never makes a float64 copy of itself.
    """
    total = 0.0
    for start in range(0, values.size, SUM_BLOCK):
        v = values[start:start + SUM_BLOCK].astype(np.float64)
        v = v[v > 0]
        total += float(np.dot(v, np.log(v)))
    return total


def check_csr(M, shape, what="the matrix", nonnegative=False):
    """Refuse a CSR matrix whose arrays a compiled kernel could not index safely.

    Parameters
    ----------
    M : scipy.sparse.csr_matrix
    shape : (int, int) or (int, None)
        Expected shape (None: any number of columns).
    what : str
        Name used in the message.
    nonnegative : bool
        Also require finite, non-negative values.

    Raises
    ------
    ValueError
        When ``M`` is not CSR, has another shape, its ``indptr`` is not a non-decreasing
        run from 0 to the number of stored values, a column index is out of range, or
        (``nonnegative``) a value is negative or not finite.
    """
    if not sp.issparse(M) or M.format != "csr":
        raise ValueError(f"{what} is not a CSR matrix.")
    rows, cols = M.shape
    if rows != shape[0] or (shape[1] is not None and cols != shape[1]):
        raise ValueError(f"{what} has shape {M.shape}, expected {tuple(shape)}.")
    indptr, indices, data = M.indptr, M.indices, M.data
    if indptr.ndim != 1 or indptr.size != rows + 1 or indices.ndim != 1 or data.ndim != 1:
        raise ValueError(f"{what} has malformed CSR arrays.")
    if indices.dtype.kind not in "iu" or indptr.dtype.kind not in "iu" or data.dtype.kind not in "biuf":
        raise ValueError(f"{what} has CSR arrays of the wrong dtypes.")
    if indptr[0] != 0 or indptr[-1] != indices.size or indices.size != data.size or np.any(np.diff(indptr) < 0):
        raise ValueError(f"{what} has an inconsistent row pointer (indptr).")
    if indices.size and (indices.min() < 0 or indices.max() >= cols):
        raise ValueError(f"{what} has column indices outside [0, {cols}).")
    if nonnegative and data.size and not (np.all(np.isfinite(data)) and data.min() >= 0):
        raise ValueError(f"{what} has negative or non-finite values.")
