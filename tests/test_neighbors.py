"""Neighbour backends: exactness, recall floors on real data, metrics, sparse and precomputed
input, persistence, the registry and its entry-point plugins, and "auto"."""
import os
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

import fasttsne
from fasttsne import neighbors
from fasttsne.affinity import PerplexityBasedNN
from fasttsne.neighbors import Annoy, Exact, NNDescent, annoy as annoy_module, exact as exact_module

from conftest import load_shared

PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugin")
#: Recall floors of the 90-NN graph against exact search (measured values in docs/neighbors.md).
RECALL_FLOOR = 0.95


def brute_force(Q, R, k, metric="euclidean", exclude_self=False):
    """(indices, distances) of the k nearest rows of R by cdist, ties by index."""
    D = cdist(Q, R, metric)
    if exclude_self:
        np.fill_diagonal(D, np.inf)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(D, idx, 1)


def recall(found, true):
    return np.mean([np.intersect1d(f, t).size / t.size for f, t in zip(found, true)])


@pytest.fixture(scope="module")
def mnist3000():
    """3,000 MNIST test digits, all 784 raw pixels as float32, and their exact 90-NN."""
    X, _ = load_shared("mnist_test")
    X = X[:3000].astype(np.float32)
    return X, Exact(n_jobs=2).build(X, 90)[0]


@pytest.fixture(scope="module")
def digits500(digits):
    return digits[0][:500]


@pytest.fixture
def registry(monkeypatch):
    """The neighbour backends registered, restored after the test."""
    from fasttsne import registry as registry_module
    entry = registry_module._kind(neighbors.KIND)
    monkeypatch.setattr(entry, "classes", dict(entry.classes))
    monkeypatch.setattr(entry, "aliases", dict(entry.aliases))
    return entry.classes


# -- exact ----------------------------------------------------------------------------------

@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "correlation", "manhattan"])
def test_exact_build_matches_brute_force(digits500, metric):
    scipy_metric = {"manhattan": "cityblock"}.get(metric, metric)
    idx, dist = Exact(metric=metric, n_jobs=2).build(digits500, 15)
    ref_idx, ref_dist = brute_force(digits500, digits500, 15, scipy_metric, exclude_self=True)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12, atol=1e-12)
    assert recall(idx, ref_idx) == 1.0


def test_exact_query_matches_brute_force(digits500):
    backend = Exact(n_jobs=2)
    backend.build(digits500[:400], 10)
    idx, dist = backend.query(digits500[400:], 10)
    ref_idx, ref_dist = brute_force(digits500[400:], digits500[:400], 10)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(dist, ref_dist, rtol=1e-12)


def test_exact_is_exact_on_real_784_dimensional_data(mnist3000):
    X, exact_idx = mnist3000
    ref_idx, _ = brute_force(X[:300].astype(np.float64), X.astype(np.float64), 91)
    # row i's own index is its first brute-force neighbour (distance 0)
    assert recall(exact_idx[:300], ref_idx[:, 1:]) == 1.0


def test_exact_never_holds_more_than_one_block(monkeypatch, digits500):
    full = Exact(n_jobs=2).build(digits500, 10)
    monkeypatch.setattr(exact_module, "BLOCK_ENTRIES", 7 * 500)  # 7 rows per block, a ragged last one
    blocked = Exact(n_jobs=2).build(digits500, 10)
    np.testing.assert_array_equal(full[0], blocked[0])
    np.testing.assert_array_equal(full[1], blocked[1])


def test_exact_result_does_not_depend_on_n_jobs(digits500):
    one = Exact(n_jobs=1).build(digits500, 10)
    two = Exact(n_jobs=2).build(digits500, 10)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_duplicate_points_are_at_distance_exactly_zero(digits500):
    X = np.vstack([digits500, digits500[:50]])
    idx, dist = Exact().build(X, 5)
    assert np.all(np.isfinite(dist))
    assert np.all(dist[:50, 0] == 0.0)
    np.testing.assert_array_equal(idx[:50, 0], np.arange(500, 550))


def test_cosine_distance_of_an_all_zero_row_is_one(digits500):
    X = digits500.copy()
    X[3] = 0.0
    _, dist = Exact(metric="cosine").build(X, 5)
    assert np.all(dist[3] == 1.0)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_exact_takes_sparse_csr_and_matches_dense(digits500, metric):
    dense = Exact(metric=metric).build(digits500, 10)
    sparse = Exact(metric=metric).build(sp.csr_matrix(digits500), 10)
    np.testing.assert_array_equal(dense[0], sparse[0])
    np.testing.assert_allclose(dense[1], sparse[1], rtol=1e-12, atol=1e-15)


def test_exact_scipy_metric_rejects_sparse_naming_a_backend_that_takes_it(digits500):
    with pytest.raises(TypeError, match="pynndescent"):
        Exact(metric="manhattan").build(sp.csr_matrix(digits500), 5)


def test_precomputed_dense_distances_give_the_euclidean_neighbours(digits500):
    D = cdist(digits500, digits500)
    idx, dist = Exact(metric="precomputed").build(D, 10)
    ref = Exact().build(digits500, 10)
    np.testing.assert_array_equal(idx, ref[0])
    np.testing.assert_allclose(dist, ref[1], rtol=1e-12)


def test_precomputed_sparse_graph_keeps_the_smallest_explicit_entries(digits500):
    D = cdist(digits500, digits500)
    idx20, dist20 = brute_force(digits500, digits500, 20, exclude_self=True)
    rows = np.repeat(np.arange(500), 20)
    graph = sp.csr_matrix((dist20.ravel(), (rows, idx20.ravel())), shape=D.shape)
    graph.setdiag(0.0)  # an explicit diagonal must be ignored, not taken as a neighbour
    idx, dist = Exact(metric="precomputed").build(graph, 10)
    np.testing.assert_array_equal(idx, idx20[:, :10])
    np.testing.assert_allclose(dist, dist20[:, :10])


def test_precomputed_graph_with_too_few_neighbours_says_how_many_are_needed(digits500):
    idx5, dist5 = brute_force(digits500, digits500, 5, exclude_self=True)
    graph = sp.csr_matrix((dist5.ravel(), (np.repeat(np.arange(500), 5), idx5.ravel())), shape=(500, 500))
    with pytest.raises(ValueError, match="only 5 neighbour.*10 are needed"):
        Exact(metric="precomputed").build(graph, 10)


def test_precomputed_rejects_negative_distances():
    D = np.ones((5, 5))
    D[1, 2] = -1.0
    with pytest.raises(ValueError, match="non-negative"):
        Exact(metric="precomputed").build(D, 2)


# -- annoy ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def annoy_mnist(mnist3000):
    X, _ = mnist3000
    backend = Annoy(n_jobs=2, random_state=0)
    return backend, backend.build(X, 90)


def test_annoy_recall_at_defaults_on_mnist(annoy_mnist, mnist3000):
    _, (idx, _) = annoy_mnist
    assert recall(idx, mnist3000[1]) >= RECALL_FLOOR


def test_annoy_distances_are_the_true_distances_of_its_neighbours(annoy_mnist, mnist3000):
    X = mnist3000[0].astype(np.float64)
    _, (idx, dist) = annoy_mnist
    true = np.linalg.norm(X[:100, None, :] - X[idx[:100]], axis=2)
    np.testing.assert_allclose(dist[:100], true, rtol=1e-5)


def test_annoy_cosine_is_one_minus_cos(digits500):
    idx, dist = Annoy(metric="cosine", random_state=0).build(digits500, 5)
    true = 1.0 - np.sum(digits500[:, None, :] * digits500[idx], axis=2) / (
        np.linalg.norm(digits500, axis=1)[:, None] * np.linalg.norm(digits500[idx], axis=2))
    np.testing.assert_allclose(dist, true, atol=1e-6)


def test_annoy_hamming_is_the_fraction_of_differing_features():
    X = (np.random.default_rng(0).random((200, 40)) > 0.5).astype(np.float64)
    idx, dist = Annoy(metric="hamming", random_state=0).build(X, 3)
    np.testing.assert_allclose(dist, np.mean(X[:, None, :] != X[idx], axis=2))


def test_annoy_hamming_rejects_non_binary_data(digits500):
    with pytest.raises(ValueError, match="0/1"):
        Annoy(metric="hamming").build(digits500, 3)


def test_annoy_same_seed_same_neighbours(digits500):
    a = Annoy(random_state=7, n_trees=3, search_k=20).build(digits500, 10)
    b = Annoy(random_state=7, n_trees=3, search_k=20).build(digits500, 10)
    np.testing.assert_array_equal(a[0], b[0])


def test_annoy_parallel_queries_equal_serial_ones(annoy_mnist, mnist3000, monkeypatch):
    backend, _ = annoy_mnist
    parallel = backend.query(mnist3000[0][:1200], 15)
    monkeypatch.setattr(backend, "n_jobs", 1)
    serial = backend.query(mnist3000[0][:1200], 15)
    np.testing.assert_array_equal(parallel[0], serial[0])
    np.testing.assert_array_equal(parallel[1], serial[1])


def test_annoy_rejects_sparse_naming_a_backend_that_takes_it(digits500):
    with pytest.raises(TypeError, match="pynndescent"):
        Annoy().build(sp.csr_matrix(digits500), 5)


@pytest.mark.parametrize("memfd", [True, False], ids=["memfd", "tempfile-fallback"])
def test_annoy_pickles_without_leaving_files_and_answers_identically(digits500, tmp_path, monkeypatch, memfd):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    if not memfd:
        monkeypatch.delattr(os, "memfd_create", raising=False)
    backend = Annoy(random_state=0)
    backend.build(digits500, 10)
    restored = pickle.loads(pickle.dumps(backend))
    expected = backend.query(digits500[:50] + 0.5, 10)
    got = restored.query(digits500[:50] + 0.5, 10)
    np.testing.assert_array_equal(expected[0], got[0])
    np.testing.assert_array_equal(expected[1], got[1])
    assert os.listdir(tmp_path) == []


# -- pynndescent ----------------------------------------------------------------------------
# Its first build in a process compiles with numba, uncached: ~30 s for dense data and as
# much again for sparse on an idle 2-core machine. That alone exceeds these tests' time
# budget, so they run when FASTTSNE_SLOW_TESTS=1 is set (benchmarks/neighbors.py measures
# the same recall on all of mnist_test).
slow_numba = pytest.mark.skipif(not os.environ.get("FASTTSNE_SLOW_TESTS"),
                                reason="compiles pynndescent with numba (~1 min); set FASTTSNE_SLOW_TESTS=1")


@pytest.fixture(scope="module")
def nndescent_mnist(mnist3000):
    X, _ = mnist3000
    backend = NNDescent(n_jobs=2, random_state=0)
    return backend, backend.build(X, 90)


@slow_numba
def test_pynndescent_recall_at_defaults_on_mnist(nndescent_mnist, mnist3000):
    _, (idx, _) = nndescent_mnist
    assert recall(idx, mnist3000[1]) >= RECALL_FLOOR


@slow_numba
def test_pynndescent_pickles_and_answers_identically(nndescent_mnist, mnist3000):
    backend, _ = nndescent_mnist
    Q = mnist3000[0][:100] + 1.0
    expected = backend.query(Q, 10)
    got = pickle.loads(pickle.dumps(backend)).query(Q, 10)
    np.testing.assert_array_equal(expected[0], got[0])
    np.testing.assert_array_equal(expected[1], got[1])


@slow_numba
def test_pynndescent_pickle_free_state_rebuilds_an_equivalent_index(nndescent_mnist, mnist3000):
    backend, _ = nndescent_mnist
    state = backend.__getstate__()  # what fasttsne.persist stores: arrays and plain values only
    assert state["_index"] is None
    restored = NNDescent.__new__(NNDescent)
    restored.__dict__.update(state)
    X, true = mnist3000
    idx, _ = restored.query(X[:300], 91)
    assert recall(idx[:, 1:], true[:300]) >= RECALL_FLOOR


@slow_numba
def test_pynndescent_takes_sparse_csr(digits500):
    ref_idx, _ = brute_force(digits500, digits500, 10, exclude_self=True)
    idx, dist = NNDescent(random_state=0).build(sp.csr_matrix(digits500), 10)
    assert recall(idx, ref_idx) >= RECALL_FLOOR
    assert np.all(np.isfinite(dist))


# -- registry, plugins, auto ----------------------------------------------------------------

def test_register_makes_a_backend_available_by_name(registry, digits500):
    class Renamed(Exact):
        name = "renamed"

    neighbors.register("renamed", Renamed)
    model = PerplexityBasedNN(5, neighbors="renamed").fit(digits500)
    assert type(model.index) is Renamed


def test_register_rejects_a_class_that_is_not_a_backend(registry):
    with pytest.raises(TypeError, match="NeighborBackend"):
        neighbors.register("bad", dict)


def test_entry_point_plugin_is_found_by_name(registry, monkeypatch, digits):
    monkeypatch.syspath_prepend(PLUGIN_DIR)
    assert "demo-plugin" in neighbors.available()
    embedding = fasttsne.TSNE(neighbors="demo-plugin", perplexity=5, early_exaggeration_iter=5, n_iter=5,
                              negative_gradient_method="exact", random_state=0).fit(digits[0][:200])
    assert type(embedding.affinities.index).__module__ == "fasttsne_demo_plugin"


def test_unknown_backend_name_lists_the_available_ones(digits500):
    with pytest.raises(ValueError, match="unknown neighbour backend 'nope'.*annoy.*exact.*pynndescent"):
        PerplexityBasedNN(5, neighbors="nope").fit(digits500)


def test_a_backend_instance_is_copied_with_its_settings(digits500):
    backend = Exact(metric="cosine")
    model = PerplexityBasedNN(5, neighbors=backend).fit(digits500)
    assert model.index is not backend and isinstance(model.index, Exact)
    assert model.index.metric == "cosine" and model.index.n_samples_ == len(digits500)
    assert backend.n_samples_ is None  # the caller's instance indexes nothing


def test_sparse_input_to_a_dense_only_backend_names_one_that_takes_it(digits500):
    with pytest.raises(TypeError, match="neighbors='pynndescent'"):
        PerplexityBasedNN(5, neighbors="annoy").fit(sp.csr_matrix(digits500))


@pytest.mark.parametrize("n, metric, sparse, expected", [
    (1_000, "euclidean", False, "exact"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES - 1, "euclidean", False, "exact"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES, "euclidean", False, "rpforest"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES, "cosine", False, "rpforest"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES, "sqeuclidean", False, "rpforest"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES_SCIPY, "manhattan", False, "annoy"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES, "braycurtis", False, "pynndescent"),
    (1_000, "euclidean", True, "exact"),
    (neighbors.AUTO_EXACT_MAX_SAMPLES_SPARSE, "euclidean", True, "pynndescent"),
    (1_000, "jaccard", True, "pynndescent"),
    (10 ** 6, "precomputed", False, "exact"),
])
def test_auto_choice(n, metric, sparse, expected):
    assert neighbors.choose_auto(n, metric, sparse, n_features=784) == expected


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine"])
@pytest.mark.parametrize("width", [50, 784, 20_000])
def test_auto_picks_rpforest_for_large_dense_data_of_any_width(metric, width):
    assert neighbors.choose_auto(10 ** 6, metric, False, n_features=width) == "rpforest"


def test_annoy_searches_wide_data_in_a_projection_and_returns_exact_distances(annoy_mnist, mnist3000):
    backend, (idx, dist) = annoy_mnist
    assert backend._axes is not None and backend._axes[1].shape == (784, annoy_module.PROJECTION_DIM)
    X = mnist3000[0].astype(np.float64)
    true = np.linalg.norm(X[:100, None, :] - X[idx[:100]], axis=2)
    np.testing.assert_allclose(dist[:100], true, rtol=1e-12)


def test_annoy_without_projection_searches_all_features(mnist3000):
    X, exact = mnist3000
    backend = Annoy(n_jobs=2, random_state=0, projection=None)
    idx, _ = backend.build(X, 90)
    assert backend._axes is None and recall(idx, exact) >= RECALL_FLOOR


def test_annoy_projected_queries_find_the_neighbours_of_new_points(annoy_mnist, mnist3000):
    backend, _ = annoy_mnist
    X_ref = mnist3000[0]
    X_new, _ = load_shared("mnist_test")
    X_new = X_new[3000:3200].astype(np.float32)
    idx, dist = backend.query(X_new, 15)
    assert recall(idx, brute_force(X_new, X_ref, 15)[0]) >= RECALL_FLOOR
    assert np.all(np.diff(dist, axis=1) >= 0)


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "pca"])
def test_annoy_rejects_a_bad_projection(bad):
    with pytest.raises(ValueError, match="projection must be"):
        Annoy(projection=bad)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_annoy_projected_search_leaves_the_data_unchanged(mnist3000, dtype):
    X = np.array(mnist3000[0][:2500], dtype=dtype)
    before = X.copy()
    Annoy(n_jobs=1, random_state=0).build(X, 10)
    assert np.array_equal(X, before)


def test_projected_annoy_pickles_and_answers_identically(annoy_mnist, mnist3000):
    backend, _ = annoy_mnist
    X_new = mnist3000[0][:50] + 1.0
    restored = pickle.loads(pickle.dumps(backend))
    for got, want in zip(restored.query(X_new, 10), backend.query(X_new, 10)):
        np.testing.assert_array_equal(got, want)


def test_a_wide_data_embedding_saves_loads_and_transforms_identically(mnist3000, tmp_path):
    X = mnist3000[0][:600]
    emb = fasttsne.TSNE(neighbors="annoy", negative_gradient_method="bh", n_iter=20,
                        early_exaggeration_iter=10, random_state=0).fit(X)
    emb.save(tmp_path / "wide.npz")
    loaded = fasttsne.load(tmp_path / "wide.npz")
    np.testing.assert_array_equal(loaded.transform(X[:20] + 1.0, random_state=0),
                                  emb.transform(X[:20] + 1.0, random_state=0))
