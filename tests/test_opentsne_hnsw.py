"""openTSNE's ``nearest_neighbors.HNSW`` (issue 17): an ImportError with install advice without
the optional hnswlib package, and with it a k-NN index that gives the exact search's graph
where hnswlib's search is exact. hnswlib is not installed with fasttsne, so the tests that
need it run against a brute-force stand-in with hnswlib's interface (its squared "l2" and
its "cosine" distances, float32 results)."""
import sys
import types

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from fasttsne import affinity, nearest_neighbors
from fasttsne.neighbors import Exact


class BruteForceIndex:
    """hnswlib.Index's interface, answering exactly; records the parameters it was given."""

    def __init__(self, space, dim):
        self.space, self.dim = space, dim

    def init_index(self, max_elements, ef_construction, M, random_seed):
        self.params = dict(max_elements=max_elements, ef_construction=ef_construction, M=M)

    def add_items(self, data, ids, num_threads):
        self.data = np.array(data, dtype=np.float32)

    def set_ef(self, ef):
        self.ef = ef

    def knn_query(self, data, k, num_threads):
        assert self.ef >= k, "hnswlib cannot return k hits with ef below k"
        d = cdist(np.asarray(data, dtype=np.float32), self.data, "sqeuclidean" if self.space == "l2" else "cosine")
        labels = np.argsort(d, axis=1, kind="stable")[:, :k]
        return labels.astype(np.uint64), np.take_along_axis(d, labels, axis=1).astype(np.float32)


@pytest.fixture
def hnswlib(monkeypatch):
    module = types.ModuleType("hnswlib")
    module.Index = BruteForceIndex
    monkeypatch.setitem(sys.modules, "hnswlib", module)
    return module


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(2).normal(size=(80, 5))


def test_hnsw_without_hnswlib_raises_import_error_with_install_advice(monkeypatch, x):
    monkeypatch.setitem(sys.modules, "hnswlib", None)  # what an absent package looks like to import
    with pytest.raises(ImportError, match="pip install hnswlib"):
        nearest_neighbors.HNSW(x, k=10)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_hnsw_graph_is_the_exact_graph_where_hnswlib_searches_exactly(hnswlib, x, metric):
    indices, distances = nearest_neighbors.HNSW(x, k=10, metric=metric).build()
    ref_indices, ref_distances = Exact(metric=metric).build(x, 10)
    assert np.array_equal(indices, ref_indices)
    assert np.allclose(distances, ref_distances, rtol=1e-5, atol=1e-5)


def test_hnsw_drops_the_point_itself_when_a_duplicate_comes_first(hnswlib, x):
    data = np.vstack([x, x[:1]])  # point 80 duplicates point 0
    indices, _ = nearest_neighbors.HNSW(data, k=5).build()
    assert (indices[0, 0], indices[80, 0]) == (80, 0)  # each other's nearest, at distance 0
    assert all(i not in row for i, row in enumerate(indices))


def test_hnsw_places_new_points_as_the_exact_search_does(hnswlib, x):
    index = nearest_neighbors.HNSW(x, k=10)
    index.build()
    new = x[:4] + 0.05
    indices, distances = index.query(new, 6)
    expected = np.argsort(cdist(new, x), axis=1)[:, :6]
    assert np.array_equal(indices, expected)
    assert np.allclose(distances, np.sort(cdist(new, x), axis=1)[:, :6], atol=1e-5)


def test_hnsw_knn_kwargs_set_hnswlibs_index_parameters(hnswlib, x):
    index = nearest_neighbors.HNSW(x, k=10, knn_kwargs={"M": 8, "ef_construction": 50})
    index.build()
    assert index._index.params == dict(max_elements=80, ef_construction=50, M=8)


def test_hnsw_refuses_a_metric_hnswlib_does_not_give_as_distances(hnswlib, x):
    with pytest.raises(ValueError, match="'dot'"):
        nearest_neighbors.HNSW(x, k=10, metric="dot")


def test_hnsw_serves_as_an_affinity_models_knn_index(hnswlib, x):
    by_hnsw = affinity.PerplexityBasedNN(perplexity=5, knn_index=nearest_neighbors.HNSW(x, k=15))
    by_exact = affinity.PerplexityBasedNN(perplexity=5, knn_index=nearest_neighbors.Sklearn(x, k=15))
    assert np.allclose(by_hnsw.P.toarray(), by_exact.P.toarray(), atol=1e-6)


def test_an_unknown_hnsw_knn_kwargs_key_is_refused(hnswlib, x):
    with pytest.raises(TypeError, match="ef_constr"):
        nearest_neighbors.HNSW(x, k=10, knn_kwargs={"ef_constr": 50})
