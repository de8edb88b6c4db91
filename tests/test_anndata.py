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
                                           index=[f"cell{i}" for i in range(len(f["y"]))]))
        adata.obsm["X_pca"] = f["X"]
    return adata


@pytest.fixture(scope="module")
def split():
    """A 550-cell reference embedded with fasttsne.tl.tsne and 150 held-out query cells."""
    adata = pbmc()
    order = np.random.default_rng(0).permutation(adata.n_obs)
    reference, query = adata[order[:550]].copy(), adata[order[550:]].copy()
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


def test_key_added_names_both_the_obsm_and_uns_entries():
    adata = pbmc()[:200].copy()
    fasttsne.tl.tsne(adata, key_added="X_tsne_fine", dof=0.8, keep_map=False, early_exaggeration_iter=50, n_iter=50)
    assert "X_tsne_fine" in adata.obsm and adata.uns["tsne_fine"]["params"]["dof"] == 0.8
    assert "map" not in adata.uns["tsne_fine"]


def test_copy_leaves_the_input_untouched():
    adata = pbmc()[:200].copy()
    out = fasttsne.tl.tsne(adata, copy=True, early_exaggeration_iter=50, n_iter=50)
    assert "X_tsne" in out.obsm and "X_tsne" not in adata.obsm and "tsne" not in adata.uns


def test_missing_representation_is_a_clear_error():
    adata = pbmc()[:50].copy()
    with pytest.raises(ValueError, match=r"obsm has no 'X_umap' \(it has: 'X_pca'\)"):
        fasttsne.tl.tsne(adata, use_rep="X_umap")


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
    with pytest.raises(ValueError, match=r"keep_map=True"):
        fasttsne.tl.ingest(adata.copy(), adata)


def test_ingest_accepts_an_embedding_as_the_reference(split):
    reference, query = split
    embedding = fasttsne.tl.load_map(reference)
    a, b = query.copy(), query.copy()
    fasttsne.tl.ingest(a, embedding, use_rep="X_pca", n_iter=50)
    fasttsne.tl.ingest(b, reference, n_iter=50)
    np.testing.assert_array_equal(a.obsm["X_tsne"], b.obsm["X_tsne"])
