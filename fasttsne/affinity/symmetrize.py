"""The joint P of a k-NN graph under openTSNE's ``symmetrize`` settings.

The models' conditionals ``C`` (row i: point i's distribution over its k neighbours, summing
to 1) become P in one of three ways, each normalised to sum to 1:

- ``True`` or ``"mean"``: ``(C + C^T) / 2N``, standard t-SNE (Cython, no scipy temporaries);
- ``"max"``: the element-wise ``max(C, C^T)``, normalised; for :class:`Uniform` weights this
  is the unweighted, symmetrised k-NN graph;
- ``False`` or ``"none"``: ``C / N``, not symmetric: each point attracts only the neighbours
  it chose.
"""
import numpy as np
import scipy.sparse as sp

from .._params import InvalidParameterError
from .._sparse import to_csr
from .calibration import joint_from_neighbors

__all__ = ["SYMMETRIZE_CHOICES", "check_symmetrize", "joint_from_graph"]

#: The values ``symmetrize`` takes.
SYMMETRIZE_CHOICES = (True, False, "mean", "max", "none")
_MODES = {True: "mean", False: "none", "mean": "mean", "max": "max", "none": "none"}


def check_symmetrize(value):
    """``value`` if it is one of :data:`SYMMETRIZE_CHOICES`, else an InvalidParameterError."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value in _MODES:
        return value
    raise InvalidParameterError(f"symmetrize must be True, False, 'mean', 'max' or 'none', got {value!r}.")


def joint_from_graph(knn, conditionals, symmetrize=True, n_jobs=1):
    """P from a k-NN graph and the model's conditionals, symmetrised as ``symmetrize`` says.

    Parameters
    ----------
    knn : list ``[indices, distances]``, (N, k) each
        Emptied here (see :func:`~fasttsne.affinity.calibration.joint_from_neighbors`).
    conditionals : callable
        ``distances -> (N, k)`` non-negative conditional affinities, rows summing to 1.
    symmetrize : one of :data:`SYMMETRIZE_CHOICES`
    n_jobs : int

    Returns
    -------
    (N, N) CSR, float32 values, int32 indices sorted within rows, summing to 1; symmetric
    unless ``symmetrize`` is False or "none".
    """
    mode = _MODES[check_symmetrize(symmetrize)]
    if mode == "mean":
        return joint_from_neighbors(knn, conditionals, n_jobs)
    indices = np.asarray(knn.pop(0))
    n = indices.shape[0]
    if indices.size and (indices.min() < 0 or indices.max() >= n):
        raise ValueError(f"neighbour indices must lie in [0, {n}), got [{indices.min()}, {indices.max()}].")
    C = to_csr(indices, conditionals(knn.pop(0)), n)
    del indices
    if mode == "max":
        C = C.maximum(C.T).tocsr()
    C.eliminate_zeros()
    C.sort_indices()
    if C.nnz >= 2 ** 31:
        raise ValueError("the affinity matrix has more than 2^31 non-zeros; lower the perplexity.")
    data = (C.data / C.data.sum()).astype(np.float32)
    P = sp.csr_matrix((data, C.indices.astype(np.int32), C.indptr.astype(np.int32)), shape=(n, n), copy=False)
    P.has_sorted_indices = True
    return P
