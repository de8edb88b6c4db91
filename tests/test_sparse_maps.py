"""Maps fitted on sparse input work after save/load and in tl.ingest, whatever the integer
type of the CSR index arrays (scipy picks int32 or int64)."""
import os

import numpy as np
import pytest
import scipy.sparse as sp

import fasttsne


def _sparse(index_dtype, n=150):
    X = sp.random(n, 30, density=0.2, random_state=0, format="csr")
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    return X


#: pynndescent compiles with numba on first use (about a minute).
SLOW = pytest.mark.skipif(not os.environ.get("FASTTSNE_SLOW_TESTS"),
                          reason="compiles pynndescent with numba (~1 min); set FASTTSNE_SLOW_TESTS=1")


@pytest.mark.parametrize("neighbors", ["exact", pytest.param("pynndescent", marks=SLOW)])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_a_sparse_map_transforms_the_same_after_save_and_load(tmp_path, index_dtype, metric, neighbors):
    if neighbors == "pynndescent":
        pytest.importorskip("pynndescent")
    X = _sparse(index_dtype)
    emb = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, neighbors=neighbors, metric=metric,
                        perplexity=10, random_state=0).fit(X)
    emb.save(tmp_path / "sparse.tsne")
    loaded = fasttsne.load(tmp_path / "sparse.tsne")
    expected = emb.transform(X[:3], n_iter=3, random_state=0)
    np.testing.assert_array_equal(loaded.transform(X[:3], n_iter=3, random_state=0), expected)


def test_ingest_places_sparse_query_cells_and_carries_labels():
    anndata = pytest.importorskip("anndata")
    from fasttsne import tl
    X = _sparse(np.int32).astype(np.float32)
    ref, query = anndata.AnnData(X[:120].copy()), anndata.AnnData(X[120:].copy())
    ref.obs["kind"] = np.array(["a", "b"] * 60)
    tl.tsne(ref, use_rep="X", n_iter=5, early_exaggeration_iter=5, perplexity=10, neighbors="exact",
            random_state=0)
    tl.ingest(query, ref, obs="kind", n_iter=3)
    assert query.obsm["X_tsne"].shape == (30, 2) and np.all(np.isfinite(query.obsm["X_tsne"]))
    assert set(query.obs["kind"]) <= {"a", "b"}
