"""Spectral initialisation of P, and its use where PCA of X makes no sense."""
import tracemalloc

import numpy as np
import pytest
from sklearn.manifold import SpectralEmbedding

from fasttsne import TSNE
from fasttsne.affinity import PerplexityBasedNN, Precomputed
from fasttsne.initialization import TARGET_STD, spectral


@pytest.fixture(scope="module")
def P():
    rng = np.random.default_rng(0)
    # one connected cloud with distinct spreads, so the leading eigenvectors are well separated
    X = rng.normal(size=(300, 4)) * [4.0, 2.0, 0.5, 0.5]
    return PerplexityBasedNN(15, random_state=0).fit(X).P


def test_spectral_agrees_with_sklearn_spectral_embedding_up_to_sign_and_scale(P):
    Y = spectral(P, 2, random_state=0, tol=0)
    ref = SpectralEmbedding(2, affinity="precomputed", random_state=0, eigen_solver="arpack").fit_transform(P)
    for axis in range(2):
        assert abs(np.corrcoef(Y[:, axis], ref[:, axis])[0, 1]) >= 0.99


def test_spectral_is_scaled_like_pca_init(P):
    Y = spectral(P, 2, random_state=0)
    assert Y.shape == (P.shape[0], 2) and np.isclose(np.std(Y[:, 0]), TARGET_STD)


def test_spectral_refuses_a_point_without_affinities(P):
    A = P.tolil()
    A[0, :] = 0
    A[:, 0] = 0
    with pytest.raises(ValueError, match="positive"):
        spectral(A.tocsr(), 2)


def test_fit_from_fitted_affinities_alone_starts_spectral(P):
    aff = Precomputed(P)
    tsne = TSNE(n_iter=0, early_exaggeration_iter=0, random_state=0)
    emb = tsne.prepare_initial(affinities=aff)
    assert np.allclose(np.asarray(emb), spectral(aff.P, 2, random_state=0))
    assert TSNE(n_iter=5, early_exaggeration_iter=5, random_state=0).fit(affinities=aff).shape == (P.shape[0], 2)


def test_fit_without_x_or_fitted_affinities_is_refused():
    with pytest.raises(ValueError, match="without X"):
        TSNE().fit()


def test_precomputed_distances_start_spectral_without_n_squared_work():
    """PCA of a distance matrix would build an N x N covariance (200 MB at N=5000) and
    eigensolve it: spectral initialisation of the sparse P needs neither."""
    n = 5000
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(n, 3))
    D = np.sqrt(np.maximum(((Z[:, None, :] - Z[None, :, :]) ** 2).sum(-1), 0))
    tsne = TSNE(metric="precomputed", perplexity=10, n_jobs=2, random_state=0)
    tracemalloc.start()
    emb = tsne.prepare_initial(D)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.5 * n * n * 8  # well below one more N x N float64 matrix
    aff = emb.affinities
    assert np.allclose(np.asarray(emb), spectral(aff.P, 2, random_state=0))
