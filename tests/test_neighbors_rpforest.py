"""The rpforest neighbour backend: random-projection forest + NN-descent.

Kernels: ext/_rptrees.pyx, ext/_nndescent.pyx, ext/_rpquery.pyx.
"""
import pickle

import numpy as np
import pytest
import scipy.sparse as sp

from fasttsne import neighbors
from fasttsne.neighbors import Exact, RPForest

from conftest import load_shared

K = 15
#: Recall floor of the K-NN graph on 2,000 MNIST digits (PCA 50); measured ~0.99.
RECALL_FLOOR = 0.95


def recall(found, true):
    return float(np.mean([np.intersect1d(f, t).size / t.shape[0] for f, t in zip(found, true)]))


@pytest.fixture(scope="module")
def mnist_wide():
    """1,500 MNIST test digits, the middle 12 of their 28 pixel rows (336 features, above the
    projected search's 200; fewer than 784 keeps the principal axes cheap), float32."""
    X, _ = load_shared("mnist_test")
    return np.ascontiguousarray(X[:1500, 8 * 28:20 * 28], dtype=np.float32)


@pytest.fixture(scope="module")
def built(mnist2000):
    X, _ = mnist2000
    backend = RPForest(n_jobs=2, random_state=0)
    indices, distances = backend.build(X, K)
    return backend, indices, distances


def test_is_registered():
    assert "rpforest" in neighbors.available()
    assert isinstance(neighbors.get_backend("rpforest", n_samples=100), RPForest)


def test_recall_against_exact_search(mnist2000, built):
    X, _ = mnist2000
    _, indices, _ = built
    true, _ = Exact().build(X, K)
    assert recall(indices, true) >= RECALL_FLOOR


def test_recall_on_wide_data_searched_in_principal_components(mnist_wide):
    backend = RPForest(n_jobs=2, random_state=0)
    indices, _ = backend.build(mnist_wide, K)
    assert backend._axes is not None
    true, _ = Exact().build(mnist_wide, K)
    assert recall(indices, true) >= RECALL_FLOOR


def test_rows_sorted_self_excluded_exact_distances(mnist2000, built):
    X, _ = mnist2000
    _, indices, distances = built
    assert indices.dtype == np.int64 and distances.dtype == np.float64
    assert indices.shape == distances.shape == (len(X), K)
    assert not np.any(indices == np.arange(len(X))[:, None])
    assert np.all(np.diff(distances, axis=1) >= 0)
    assert all(len(np.unique(row)) == K for row in indices)
    exact = np.linalg.norm(X[:, None, :] - X[indices], axis=2)
    np.testing.assert_allclose(distances, exact, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_thread_count_does_not_change_the_result(mnist2000, built, n_jobs):
    X, _ = mnist2000
    _, indices, distances = built
    other = RPForest(n_jobs=n_jobs, random_state=0).build(X, K)
    np.testing.assert_array_equal(other[0], indices)
    np.testing.assert_array_equal(other[1], distances)


def test_same_random_state_same_neighbours(mnist2000, built):
    X, _ = mnist2000
    again = RPForest(n_jobs=2, random_state=0).build(X, K)
    np.testing.assert_array_equal(again[0], built[1])


def test_query_finds_neighbours_of_new_points(mnist2000):
    X, _ = mnist2000
    ref, new = X[:1500], X[1500:]
    backend = RPForest(n_jobs=2, random_state=0)
    backend.build(ref, K)
    indices, distances = backend.query(new, K)
    exact = Exact()
    exact.build(ref, K)
    true, true_dist = exact.query(new, K)
    assert recall(indices, true) >= RECALL_FLOOR
    assert np.all(np.diff(distances, axis=1) >= 0)
    # distances from the float32 search copy of the reference: exact up to its rounding
    np.testing.assert_allclose(distances, np.linalg.norm(new[:, None, :] - ref[indices], axis=2),
                               rtol=1e-5)


def test_projected_search_holds_blas_to_one_thread_then_restores_it(mnist_wide, monkeypatch):
    # BLAS threads spin while they wait, competing with the search's own threads afterwards
    from threadpoolctl import threadpool_info
    from fasttsne.neighbors import _projection

    def blas_threads():
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    seen, real = [], _projection._linalg.principal_axes

    def spy(X, m):
        seen.append(blas_threads())
        return real(X, m)

    before = blas_threads()
    monkeypatch.setattr(_projection._linalg, "principal_axes", spy)
    RPForest(n_jobs=2, random_state=0).build(mnist_wide, K)
    assert seen and all(n == 1 for n in seen[0])
    assert blas_threads() == before


def test_query_on_wide_data(mnist_wide):
    backend = RPForest(n_jobs=2, random_state=0)
    backend.build(mnist_wide[:1000], K)
    indices, distances = backend.query(mnist_wide[1000:], K)
    exact = Exact()
    exact.build(mnist_wide[:1000], K)
    assert recall(indices, exact.query(mnist_wide[1000:], K)[0]) >= RECALL_FLOOR


def test_pickle_round_trip_answers_identically(mnist2000, built):
    X, _ = mnist2000
    backend = built[0]
    restored = RPForest.from_bytes(backend.to_bytes())
    np.testing.assert_array_equal(restored.query(X[:50], K)[0], backend.query(X[:50], K)[0])
    assert isinstance(pickle.loads(pickle.dumps(backend)), RPForest)


def test_duplicate_points(mnist2000):
    X, _ = mnist2000
    X = np.repeat(X[:300], 4, axis=0)  # every point has three copies
    indices, distances = RPForest(random_state=0).build(X, 10)
    assert not np.any(indices == np.arange(len(X))[:, None])
    assert np.all(distances[:, :3] == 0)


def test_all_points_identical():
    X = np.ones((200, 5))
    indices, distances = RPForest(random_state=0).build(X, 10)
    assert np.all(distances == 0)
    assert all(len(np.unique(row)) == 10 for row in indices)


@pytest.mark.parametrize("n", [11, 12, 40])
def test_barely_more_points_than_neighbours(n):
    X = np.random.default_rng(1).normal(size=(n, 3))
    indices, distances = RPForest(random_state=0).build(X, 10)
    true, true_dist = Exact().build(X, 10)
    np.testing.assert_array_equal(indices, true)
    np.testing.assert_allclose(distances, true_dist)


def test_query_asking_for_every_indexed_point():
    X = np.random.default_rng(2).normal(size=(30, 4))
    backend = RPForest(random_state=0)
    backend.build(X, 10)
    indices, _ = backend.query(X[:3] + 0.01, 30)
    assert all(sorted(row) == list(range(30)) for row in indices)


def test_input_left_unchanged(mnist2000):
    X, _ = mnist2000
    X = X[:500].copy()
    before = X.copy()
    backend = RPForest(metric="cosine", random_state=0)
    backend.build(X, K)
    backend.query(X[:10], K)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("metric", ["sqeuclidean", "cosine"])
def test_other_metrics_match_exact_distances(mnist2000, metric):
    X, _ = mnist2000
    X = X[:800]
    indices, distances = RPForest(metric=metric, random_state=0).build(X, K)
    true, true_dist = Exact(metric=metric).build(X, K)
    assert recall(indices, true) >= RECALL_FLOOR
    # the same neighbour at the same distance, up to float64 rounding
    np.testing.assert_allclose(distances[:, 0], true_dist[:, 0], rtol=1e-9, atol=1e-12)


def test_unsupported_metric_is_refused():
    with pytest.raises(ValueError, match="does not support metric 'manhattan'"):
        RPForest(metric="manhattan")


def test_sparse_input_is_refused(digits):
    X, _ = digits
    with pytest.raises(TypeError, match="does not take sparse input"):
        RPForest().build(sp.csr_matrix(X), 5)


@pytest.mark.parametrize("params", [{"n_trees": 0}, {"n_candidates": 1.5}, {"max_rounds": -1},
                                    {"projection": 0}])
def test_bad_parameters_are_refused(params):
    with pytest.raises(ValueError):
        RPForest(**params)


@pytest.fixture(scope="module")
def mnist_6000():
    """6,000 MNIST test digits, pixel rows 10-15 (168 features, searched as they are): more
    points than one block of the join's update queue (4096 hubs). The trees alone reach a
    recall of ~0.79 here, NN-descent ~0.99."""
    X, _ = load_shared("mnist_test")
    return np.ascontiguousarray(X[:6000, 10 * 28:16 * 28], dtype=np.float32)


def test_join_over_several_update_blocks_keeps_recall_and_thread_independence(mnist_6000):
    two = RPForest(n_jobs=2, random_state=0)
    indices, distances = two.build(mnist_6000, K)
    assert two._axes is None and two.n_rounds_ >= 1
    true, _ = Exact().build(mnist_6000, K)
    assert recall(indices, true) >= RECALL_FLOOR
    one = RPForest(n_jobs=1, random_state=0).build(mnist_6000, K)
    np.testing.assert_array_equal(one[0], indices)
