"""Initial positions: PCA (default), spectral, random, or a user array.

Following Kobak & Berens (2019), PCA and random initialisations are scaled so the first
coordinate has standard deviation 1e-4: small enough that early exaggeration, not the
initial scale, decides the layout.
"""
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from ._linalg import BLOCK_ENTRIES, principal_axes
from ._scale import rescaled, scale_exponent
from ._validation import check_positions, check_random_state

__all__ = ["pca", "principal_axes", "random", "spectral", "jitter", "median", "weighted_mean", "rescale",
           "initial_positions", "TARGET_STD"]

#: Standard deviation of the first coordinate after rescaling.
TARGET_STD = 1e-4


def rescale(Y, target_std=TARGET_STD):
    """Return ``Y`` scaled so its first column has standard deviation ``target_std``."""
    std = np.std(Y[:, 0])
    if std == 0 or not np.isfinite(std):
        return Y
    return Y * (target_std / std)


def random(n_samples, n_components, random_state=None):
    """Gaussian positions with standard deviation ``TARGET_STD``: (n_samples, n_components) float64.

    ``n_samples`` may be a data matrix, as in openTSNE (its number of rows is used).
    """
    if hasattr(n_samples, "shape"):
        n_samples = n_samples.shape[0]
    rng = check_random_state(random_state)
    return rng.normal(0.0, TARGET_STD, size=(n_samples, n_components))


def pca(X, n_components=2, random_state=None):
    """Project ``X`` onto its first principal components and rescale.

    The axes come from :func:`principal_axes` (blockwise covariance, signs fixed); the
    projection is blockwise too. Components the data does not have (D < n_components, or
    constant data) are filled with small Gaussian noise.

    Returns
    -------
    (N, n_components) float64
    """
    n, D = X.shape
    step = max(1, BLOCK_ENTRIES // max(D, 1))  # rows per block
    # data far from unit magnitude is divided by a power of two (exact) first: its covariance
    # would overflow or underflow, and the positions are rescaled below in any case
    X = rescaled(X, scale_exponent(X))
    mean, V, variances = principal_axes(X, n_components)
    m = V.shape[1]
    Y = np.empty((n, n_components))
    for s in range(0, n, step):
        b = X[s:s + step]
        Y[s:s + step, :m] = (b @ V) - mean @ V
    useful = variances > 1e-12 * max(variances.max(initial=0.0), 1e-300)
    rng = check_random_state(random_state)
    if not useful.all() or m < n_components:
        # degenerate directions: small noise keeps points distinct without choosing a layout
        start = int(useful.sum())
        scale = np.std(Y[:, 0]) if start > 0 else 1.0
        Y[:, start:] = rng.normal(0.0, scale if scale > 0 else 1.0, size=(n, n_components - start))
    return rescale(Y)


def spectral(P, n_components=2, random_state=None, tol=1e-4, max_iter=None):
    """Leading non-trivial eigenvectors of the affinity graph ``P`` (a diffusion map), rescaled.

    Solves ``P v = lambda D v`` (D: the diagonal of row sums, the degrees) for the
    ``n_components + 1`` largest eigenvalues, through the equivalent symmetric problem
    ``D^-1/2 P D^-1/2 u = lambda u`` with ``v = D^-1/2 u`` and scipy's sparse Lanczos
    solver: memory is O(nnz(P) + N * n_components), never N x N. The trivial eigenvector
    (constant, eigenvalue 1) is dropped; the others are weighted by their eigenvalues, as in
    diffusion maps and openTSNE, and the result is rescaled like PCA positions. These are
    scikit-learn's ``SpectralEmbedding(affinity="precomputed")`` axes up to sign and scale.

    Parameters
    ----------
    P : (N, N) sparse or dense array, symmetric, non-negative
        Affinities, e.g. ``embedding.P``; every point needs a positive row sum.
    n_components : int, less than N - 1
    random_state : None, int or Generator
        Starting vector of the solver (the axes do not depend on it beyond solver tolerance).
    tol : float
        Relative accuracy of the eigenvalues (0: machine precision).
    max_iter : int, optional
        Most Lanczos restarts (None: scipy's default, 10 N).

    Returns
    -------
    (N, n_components) float64, the first column with standard deviation ``TARGET_STD``.
    """
    A = sp.csr_matrix(P, dtype=np.float64)
    n = A.shape[0]
    if A.ndim != 2 or A.shape[1] != n:
        raise ValueError(f"spectral initialisation needs a square affinity matrix, got shape {A.shape}.")
    if not 0 < n_components < n - 1:
        raise ValueError(f"spectral initialisation of {n} points can give 1 to {n - 2} components, "
                         f"not {n_components}.")
    degree = np.asarray(A.sum(axis=1)).ravel()
    if not np.all(degree > 0) or not np.all(np.isfinite(degree)):
        raise ValueError("spectral initialisation needs every point to have a positive, finite affinity sum.")
    scale = sp.diags(1.0 / np.sqrt(degree))
    S = scale @ A @ scale
    S = (S + S.T) * 0.5  # exact symmetry for the Lanczos solver
    v0 = check_random_state(random_state).uniform(-1.0, 1.0, n)
    values, vectors = eigsh(S, k=n_components + 1, which="LA", tol=tol, maxiter=max_iter, v0=v0)
    order = np.argsort(values)[::-1]
    Y = vectors[:, order[1:]] / np.sqrt(degree)[:, None] * values[order[1:]]
    Y = Y * np.where(Y[np.argmax(np.abs(Y), axis=0), range(n_components)] < 0, -1.0, 1.0)  # fixed signs
    return rescale(np.ascontiguousarray(Y))


def jitter(x, scale=0.01, random_state=None):
    """A copy of ``x`` (N, d) plus Gaussian noise of standard deviation ``scale * std(x[:, 0])``.

    Separates points that start exactly on top of each other; ``x`` is not modified.
    """
    x = np.array(x, dtype=np.float64, copy=True)
    x += check_random_state(random_state).normal(0.0, np.std(x[:, 0]) * scale, x.shape)
    return x


def median(embedding, neighbors):
    """Each new point at the coordinate-wise median of its reference neighbours' positions.

    Parameters
    ----------
    embedding : (N_ref, d) array-like (an Embedding works)
    neighbors : (M, k) int, indices into the reference

    Returns
    -------
    (M, d) float64
    """
    return np.ascontiguousarray(np.median(np.asarray(embedding)[np.asarray(neighbors)], axis=1))


def weighted_mean(X, embedding, neighbors, distances):
    """Each new point at the weighted mean of its reference neighbours' positions.

    openTSNE's function, with its signature and meaning: the weights are the given
    ``distances`` (M, k) as they are (pass inverse distances or affinities for
    nearer-is-heavier). ``X`` (M, D) only gives the number of new points.

    Returns
    -------
    (M, d) float64
    """
    Y = np.asarray(embedding)[np.asarray(neighbors)]  # (M, k, d)
    w = np.asarray(distances, dtype=np.float64)
    if w.shape != Y.shape[:2] or len(X) != w.shape[0]:
        raise ValueError(f"neighbors {Y.shape[:2]}, distances {w.shape} and X ({len(X)} rows) do not match.")
    return np.ascontiguousarray(np.einsum("mk,mkd->md", w, Y) / w.sum(axis=1, keepdims=True))


def initial_positions(initialization, X, n_components, random_state=None, P=None):
    """Resolve ``initialization`` ("pca", "spectral", "random" or an (N, n_components) array) to positions.

    ``P``: the affinities, needed by "spectral". ``X`` may be None when only ``P`` is known.
    """
    n = X.shape[0] if X is not None else P.shape[0]
    if isinstance(initialization, str):
        if initialization == "pca":
            return pca(X, n_components, random_state)
        if initialization == "spectral":
            return spectral(P, n_components, random_state)
        if initialization == "random":
            return random(n, n_components, random_state)
        raise ValueError(f"unknown initialization {initialization!r}; use 'pca', 'spectral', 'random' or an "
                         f"array of shape ({n}, {n_components}).")
    return check_positions(initialization, n, n_components)
