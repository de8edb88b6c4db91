"""fasttsne.tl on a real single-cell AnnData: embed a reference, ingest query cells into it."""
import os

import numpy as np
import pytest

import fasttsne
from conftest import SHARED_DATA

anndata = pytest.importorskip("anndata")
pd = pytest.importorskip("pandas")

#: Short schedule: 550 cells, a few seconds in all.
FAST = dict(early_exaggeration_iter=100, n_iter=200)


def pbmc():
    """scanpy's pbmc68k_reduced (700 cells) as an AnnData: 765 genes, X_pca, bulk_labels."""
    path = os.path.join(SHARED_DATA, "pbmc68k_reduced.npz")
    if not os.path.exists(path):
        pytest.skip(f"{path} not found")
    with np.load(path, allow_pickle=False) as f:
        adata = anndata.AnnData(
            f["X_genes"], obs=pd.DataFrame({"bulk_labels": pd.Categorical(f["label_names"][f["y"]])},
                                           index=[f"cell{i}" for i in range(len(f["y"]))]),
            var=pd.DataFrame(index=[f"gene{j}" for j in range(f["X_genes"].shape[1])]))
        adata.obsm["X_pca"] = f["X"]
    return adata


def scanpy_style_pca(adata, n_comps=30):
    """What scanpy.pp.pca(adata, n_comps) stores: obsm['X_pca'], varm['PCs'], uns['pca']['params']."""
    X = np.asarray(adata.X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    adata.varm["PCs"] = vt[:n_comps].T
    adata.obsm["X_pca"] = centred @ vt[:n_comps].T
    adata.uns["pca"] = {"params": {"zero_center": True, "use_highly_variable": False}}


@pytest.fixture(scope="module")
def split():
    """A 550-cell reference (its own PCA, as scanpy.pp.pca makes it, then fasttsne.tl.tsne) and
    150 held-out query cells that have genes only, as new data has."""
    adata = pbmc()
    order = np.random.default_rng(0).permutation(adata.n_obs)
    reference, query = adata[order[:550]].copy(), adata[order[550:]].copy()
    scanpy_style_pca(reference)
    del query.obsm["X_pca"]
    fasttsne.tl.tsne(reference, **FAST)
    return reference, query


def test_tsne_writes_positions_to_obsm(split):
    reference, _ = split
    Y = reference.obsm["X_tsne"]
    assert Y.shape == (550, 2) and np.all(np.isfinite(Y))


def test_tsne_positions_are_those_of_the_core_tsne(split):
    reference, _ = split
    expected = fasttsne.TSNE(random_state=0, **FAST).fit_transform(reference.obsm["X_pca"])
    np.testing.assert_array_equal(reference.obsm["X_tsne"], expected)


def test_tsne_records_its_parameters_in_uns(split):
    reference, _ = split
    params = reference.uns["tsne"]["params"]
    assert params["use_rep"] == "X_pca" and params["perplexity"] == 30.0 and params["n_iter"] == 200
    assert reference.uns["tsne"]["kl_divergence"] > 0


def test_key_added_names_both_the_obsm_and_the_uns_entry_as_in_scanpy():
    adata = pbmc()[:200].copy()
    fasttsne.tl.tsne(adata, key_added="tsne_fine", dof=0.8, keep_map=False, early_exaggeration_iter=50, n_iter=50)
    assert "tsne_fine" in adata.obsm and adata.uns["tsne_fine"]["params"]["dof"] == 0.8
    assert "map" not in adata.uns["tsne_fine"] and "X_tsne" not in adata.obsm and "tsne" not in adata.uns


def test_defaults_are_scanpys(split):
    reference, _ = split
    params = reference.uns["tsne"]["params"]
    assert (params["perplexity"], params["early_exaggeration"], params["metric"], params["random_state"]) == (
        30.0, 12.0, "euclidean", 0)


def small(n_vars, n_obs=120):
    rng = np.random.default_rng(1)
    return anndata.AnnData(rng.normal(size=(n_obs, n_vars)) + np.repeat(np.eye(3, n_vars) * 8, n_obs // 3, axis=0))


def test_few_variables_are_embedded_from_X_as_in_scanpy():
    adata = small(20)
    fasttsne.tl.tsne(adata, keep_map=False, early_exaggeration_iter=30, n_iter=30)
    assert adata.uns["tsne"]["params"]["use_rep"] == "X"
    expected = fasttsne.TSNE(random_state=0, early_exaggeration_iter=30, n_iter=30).fit_transform(adata.X)
    np.testing.assert_array_equal(adata.obsm["X_tsne"], expected)


def test_many_variables_without_a_pca_is_a_clear_error():
    with pytest.raises(ValueError, match=r"60 variables and no obsm\['X_pca'\].*scanpy.pp.pca.*use_rep='X'"):
        fasttsne.tl.tsne(small(60))


def test_n_pcs_embeds_the_first_principal_components():
    adata = small(60)
    scanpy_style_pca(adata, n_comps=20)
    fasttsne.tl.tsne(adata, n_pcs=5, keep_map=False, early_exaggeration_iter=30, n_iter=30)
    expected = fasttsne.TSNE(random_state=0, early_exaggeration_iter=30, n_iter=30).fit_transform(
        adata.obsm["X_pca"][:, :5])
    np.testing.assert_array_equal(adata.obsm["X_tsne"], expected)
    assert adata.uns["tsne"]["params"]["n_pcs"] == 5 and adata.uns["tsne"]["params"]["use_rep"] == "X_pca"


def test_n_pcs_larger_than_the_representation_is_rejected():
    adata = small(60)
    scanpy_style_pca(adata, n_comps=10)
    with pytest.raises(ValueError, match=r"n_pcs=20 but obsm\['X_pca'\] has 10 columns"):
        fasttsne.tl.tsne(adata, n_pcs=20)


def test_copy_leaves_the_input_untouched():
    adata = pbmc()[:200].copy()
    out = fasttsne.tl.tsne(adata, copy=True, early_exaggeration_iter=50, n_iter=50)
    assert "X_tsne" in out.obsm and "X_tsne" not in adata.obsm and "tsne" not in adata.uns


def test_missing_representation_is_a_clear_error():
    adata = pbmc()[:50].copy()
    with pytest.raises(ValueError, match=r"obsm has no 'X_umap' \(it has: 'X_pca'\)"):
        fasttsne.tl.tsne(adata, use_rep="X_umap")


def test_ingest_projects_the_query_onto_the_reference_pcs_as_scanpy_does(split):
    reference, query = split
    query = query.copy()
    fasttsne.tl.ingest(query, reference, n_iter=10)
    X = np.asarray(query.X, dtype=np.float64)
    expected = (X - X.mean(axis=0)) @ reference.varm["PCs"]  # scanpy centres the query on its own mean
    np.testing.assert_allclose(query.obsm["X_pca"], expected, rtol=1e-10, atol=1e-10)


def test_ingest_projects_only_the_highly_variable_genes_when_the_pca_used_them():
    adata = small(60)
    hvg = np.arange(60) % 2 == 0
    adata.var["highly_variable"] = hvg
    X = np.asarray(adata.X)
    centred = X[:, hvg] - X[:, hvg].mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    pcs = np.zeros((60, 10))
    pcs[hvg] = vt[:10].T  # scanpy's layout: one row per gene, zeros for the others
    adata.varm["PCs"], adata.obsm["X_pca"] = pcs, centred @ vt[:10].T
    adata.uns["pca"] = {"params": {"zero_center": True, "use_highly_variable": True}}
    reference, query = adata[:90].copy(), adata[90:].copy()
    fasttsne.tl.tsne(reference, perplexity=10, early_exaggeration_iter=30, n_iter=30)
    fasttsne.tl.ingest(query, reference, n_iter=10)
    Xq = np.asarray(query.X)[:, hvg]
    np.testing.assert_allclose(query.obsm["X_pca"], (Xq - Xq.mean(axis=0)) @ vt[:10].T, atol=1e-10)


def test_ingest_without_reference_pcs_explains_why_a_query_pca_is_wrong(split):
    reference, query = split
    reference = reference.copy()
    del reference.varm["PCs"]
    with pytest.raises(ValueError, match=r"varm has no 'PCs'.*a PCA of the query itself would have other axes"):
        fasttsne.tl.ingest(query.copy(), reference)


def test_ingest_rejects_a_query_with_other_genes(split):
    reference, query = split
    with pytest.raises(ValueError, match=r"var_names differ"):
        fasttsne.tl.ingest(query[:, ::-1].copy(), reference)


def test_ingest_with_inplace_false_returns_a_copy_and_leaves_the_query_alone(split):
    reference, query = split
    out = fasttsne.tl.ingest(query, reference, inplace=False, n_iter=10)
    assert "X_tsne" in out.obsm and "X_tsne" not in query.obsm and "X_pca" not in query.obsm


def test_ingest_names_scanpys_inplace_when_given_copy(split):
    reference, query = split
    with pytest.raises(TypeError, match=r"inplace=False"):
        fasttsne.tl.ingest(query, reference, copy=True)


def test_ingest_places_query_cells_next_to_reference_cells_of_their_type(split):
    reference, query = split
    query = query.copy()
    fasttsne.tl.ingest(query, reference)
    Y_ref, Y_new = reference.obsm["X_tsne"], query.obsm["X_tsne"]
    d = ((Y_new[:, None, :] - Y_ref[None, :, :]) ** 2).sum(-1)
    nearest = np.argsort(d, axis=1)[:, :10]
    ref_labels = np.asarray(reference.obs["bulk_labels"])
    predicted = [pd.Series(ref_labels[row]).mode()[0] for row in nearest]
    # bulk_labels are noisy (correlation-assigned); a 10-NN classifier in X_pca scores ~0.8
    assert np.mean(predicted == np.asarray(query.obs["bulk_labels"])) >= 0.65


def test_ingest_transfers_labels_by_majority_of_reference_neighbours(split):
    reference, query = split
    truth = np.asarray(query.obs["bulk_labels"])
    query = query.copy()
    del query.obs["bulk_labels"]
    fasttsne.tl.ingest(query, reference, obs="bulk_labels")
    transferred = query.obs["bulk_labels"]
    assert list(transferred.cat.categories) == list(reference.obs["bulk_labels"].cat.categories)
    assert np.mean(np.asarray(transferred) == truth) >= 0.65


def test_ingest_does_not_move_the_reference(split):
    reference, query = split
    before = reference.obsm["X_tsne"].copy()
    fasttsne.tl.ingest(query.copy(), reference, n_iter=10)
    np.testing.assert_array_equal(reference.obsm["X_tsne"], before)


def test_reference_map_survives_write_h5ad_and_read_h5ad(split, tmp_path):
    reference, query = split
    reference.write_h5ad(tmp_path / "ref.h5ad")
    again = anndata.read_h5ad(tmp_path / "ref.h5ad")
    a, b = query.copy(), query.copy()
    fasttsne.tl.ingest(a, reference, n_iter=50)
    fasttsne.tl.ingest(b, again, n_iter=50)
    np.testing.assert_array_equal(a.obsm["X_tsne"], b.obsm["X_tsne"])


def test_ingest_without_a_stored_map_says_how_to_make_one():
    adata = pbmc()[:100].copy()
    with pytest.raises(ValueError, match=r"holds no t-SNE map: run fasttsne.tl.tsne\(adata_ref\) first"):
        fasttsne.tl.ingest(adata.copy(), adata)


def test_ingest_accepts_an_embedding_as_the_reference(split):
    reference, query = split
    embedding = fasttsne.tl.load_map(reference)
    a, b = query.copy(), query.copy()
    fasttsne.tl.ingest(b, reference, n_iter=50)  # projects b onto the reference PCs
    a.obsm["X_pca"] = b.obsm["X_pca"]
    fasttsne.tl.ingest(a, embedding, use_rep="X_pca", n_iter=50)
    np.testing.assert_array_equal(a.obsm["X_tsne"], b.obsm["X_tsne"])
