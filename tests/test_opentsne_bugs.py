"""Bugs met porting openTSNE workflows (issue 17), each pinned by the behaviour it broke."""
import os

import numpy as np
import pytest

import fasttsne
from fasttsne.neighbors import choose_auto
from fasttsne.neighbors.nndescent import _pynndescent_kwds


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).random((150, 4))


def _short(**kw):
    return fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, random_state=1, **kw)


def test_embedding_random_state_makes_random_partial_init_repeatable(X):
    embedding = _short().fit(X)
    first = np.asarray(embedding.prepare_partial(X[:5], initialization="random"))
    second = np.asarray(embedding.prepare_partial(X[:5], initialization="random"))
    assert np.array_equal(first, second)


def test_embedding_random_state_makes_transform_repeatable(X):
    embedding = _short().fit(X)
    a = embedding.transform(X[:5], initialization="random", n_iter=5)
    b = embedding.transform(X[:5], initialization="random", n_iter=5)
    assert np.array_equal(a, b)


def test_auto_sends_a_plain_python_callable_metric_to_exact_search(X):
    def l1(a, b):
        return np.abs(a - b).sum()

    assert choose_auto(100_000, l1, False) == "exact"
    emb = _short(metric=l1).fit(X)
    ref = _short(metric="manhattan", neighbors="exact").fit(X)
    assert np.allclose(np.asarray(emb), np.asarray(ref))


@pytest.mark.skipif(not os.environ.get("FASTTSNE_SLOW_TESTS"),
                    reason="compiles pynndescent with numba (~1 min); set FASTTSNE_SLOW_TESTS=1")
def test_pynndescent_accepts_more_threads_than_cores(X):
    emb = _short(neighbors="pynndescent", n_jobs=512).fit(X)
    assert np.all(np.isfinite(np.asarray(emb)))


def test_mahalanobis_takes_sklearns_covariance_spelling(X):
    cov = np.cov(X.T)
    given = cov.copy()
    with_v = _short(metric="mahalanobis", metric_params={"V": given}, neighbors="exact").fit(X)
    with_vi = _short(metric="mahalanobis", metric_params={"VI": np.linalg.inv(cov)}, neighbors="exact").fit(X)
    assert np.allclose(np.asarray(with_v), np.asarray(with_vi))
    assert np.array_equal(given, cov)  # the user's matrix is not modified


def test_mahalanobis_covariance_is_given_to_pynndescent_as_its_inverse():
    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    assert np.allclose(_pynndescent_kwds("mahalanobis", {"V": cov})["vinv"], np.linalg.inv(cov))
    assert np.allclose(_pynndescent_kwds("mahalanobis", {"VI": cov})["vinv"], cov)
    assert _pynndescent_kwds("euclidean", {}) is None
