"""Everyday cases: wide and sparse data get PCA axes without a D x D eigen-problem, maps fitted
with a RandomState save, and verbose output survives a missing stderr."""
import sys
import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp

import fasttsne
from fasttsne import _linalg
from fasttsne.initialization import pca


#: Tests lower the feature threshold so that small data takes the truncated-SVD path.
SMALL_THRESHOLD = 50


@pytest.fixture
def low_threshold(monkeypatch):
    monkeypatch.setattr(_linalg, "COVARIANCE_MAX_FEATURES", SMALL_THRESHOLD)


def _wide(n=120, d=200, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.linspace(3.0, 0.1, d)


def _axes_by_covariance(X, k, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(_linalg, "COVARIANCE_MAX_FEATURES", 10 ** 9)
        return _linalg.principal_axes(X, k)


def test_wide_dense_data_gets_the_covariance_axes_from_a_truncated_svd(low_threshold, monkeypatch):
    X = _wide()
    assert X.shape[1] > _linalg.COVARIANCE_MAX_FEATURES
    mean, V, var = _linalg.principal_axes(X, 2)
    mean_ref, V_ref, var_ref = _axes_by_covariance(X, 2, monkeypatch)
    np.testing.assert_allclose(mean, mean_ref, atol=1e-12)
    np.testing.assert_allclose(V, V_ref, atol=1e-8)
    np.testing.assert_allclose(var, var_ref, rtol=1e-8)


def test_wide_sparse_data_gets_the_same_axes_as_its_dense_copy(low_threshold, monkeypatch):
    X = sp.random(120, 200, density=0.2, random_state=1, format="csr") @ sp.diags(np.linspace(3.0, 0.1, 200))
    X = sp.csr_matrix(X)
    mean, V, var = _linalg.principal_axes(X, 2)
    mean_ref, V_ref, var_ref = _axes_by_covariance(X.toarray(), 2, monkeypatch)
    np.testing.assert_allclose(V, V_ref, atol=1e-8)
    np.testing.assert_allclose(var, var_ref, rtol=1e-8)


@pytest.mark.parametrize("sparse", [False, True])
def test_pca_of_wide_data_never_forms_the_feature_covariance(sparse):
    n, d = 200, 5000  # the D x D covariance would take 200 MB
    rng = np.random.default_rng(0)
    X = sp.random(n, d, density=0.01, random_state=0, format="csr") if sparse else rng.normal(size=(n, d))
    tracemalloc.start()
    try:
        Y = pca(X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert Y.shape == (n, 2) and np.all(np.isfinite(Y))
    assert peak < 0.1 * d * d * 8, f"peak {peak / 2 ** 20:.0f} MiB"


def test_a_map_fitted_with_a_randomstate_saves_and_loads(tmp_path):
    X = np.random.default_rng(0).normal(size=(80, 5))
    emb = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10,
                        random_state=np.random.RandomState(0)).fit(X)
    emb.save(tmp_path / "map.tsne")
    np.testing.assert_array_equal(np.asarray(fasttsne.load(tmp_path / "map.tsne")), np.asarray(emb))


def test_verbose_fit_runs_when_stderr_is_none(monkeypatch):
    monkeypatch.setattr(sys, "stderr", None)
    X = np.random.default_rng(0).normal(size=(80, 5))
    emb = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, random_state=0, verbose=True).fit(X)
    assert np.all(np.isfinite(np.asarray(emb)))
