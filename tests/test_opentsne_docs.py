"""The examples of docs/opentsne.md run, in order, as openTSNE code would (issue 17)."""
import pathlib
import re

import numpy as np
import pytest

import fasttsne

DOC = pathlib.Path(__file__).resolve().parent.parent / "docs" / "opentsne.md"


@pytest.fixture(scope="module")
def namespace():
    """Each example run in one shared namespace, as a reader runs them one after the other."""
    ns = {"__name__": "__docs__"}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S):
        exec(compile(block, str(DOC), "exec"), ns)
    return ns


def test_simple_usage_gives_an_indexable_embedding(namespace):
    embedding = namespace["embedding"]
    assert isinstance(embedding, fasttsne.TSNEEmbedding)
    assert np.array_equal(namespace["plot_x"], np.asarray(embedding)[:, 0])
    assert np.allclose(namespace["centred"].mean(axis=0), 0)


def test_multiscale_example_uses_the_mixture(namespace):
    assert isinstance(namespace["embedding_ms"].affinities, fasttsne.affinity.Multiscale)


def test_step_by_step_example_continues_the_optimisation(namespace):
    assert namespace["embedding_train_2"].n_iter == 100
    assert namespace["embedding_train"].n_iter == 0  # optimize returned new embeddings


def test_precomputed_and_affinity_only_examples_start_spectral(namespace):
    from fasttsne.initialization import spectral
    tsne = fasttsne.TSNE(n_iter=0, early_exaggeration_iter=0, random_state=0)
    start = tsne.prepare_initial(affinities=namespace["affinities_train"])
    assert np.allclose(np.asarray(start), spectral(namespace["affinities_train"].P, 2, random_state=0))
    assert namespace["embedding_d"].shape == namespace["embedding_a"].shape == (180, 2)


def test_transform_and_partial_examples_place_new_points_near_their_cluster(namespace):
    Y = np.asarray(namespace["embedding_train_2"])
    y = namespace["y"]
    centres = np.array([Y[y == c].mean(axis=0) for c in range(3)])
    for placed in (namespace["y_new"], np.asarray(namespace["partial"])):
        nearest = np.argmin(((placed[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        assert list(nearest) == [0, 1, 2, 0]


def test_callback_example_stops_at_the_first_check(namespace):
    assert namespace["stopped"].n_iter == namespace["embedding_train_2"].n_iter + 10


def test_per_call_gradient_parameter_example(namespace):
    assert namespace["finer"].gradient.theta == 0.8


def test_annealing_example_recalibrates_the_shared_model(namespace):
    affinities = namespace["affinities_annealing"]
    assert affinities.perplexity == 10
    assert namespace["embedding_annealing"].affinities is affinities
    assert namespace["embedding_annealing"].n_iter == 100


def test_shared_index_example_searches_once_for_both_models(namespace):
    knn = namespace["knn"]
    assert namespace["affinities_30"].knn_index is knn and namespace["affinities_10"].knn_index is knn
    assert namespace["affinities_30"].P.nnz > namespace["affinities_10"].P.nnz


def test_precomputed_graph_example_fits_and_refuses_new_points(namespace):
    assert namespace["embedding_graph"].shape == (180, 2)
    assert "PrecomputedNeighbors" in namespace["transform_error"]


def test_other_models_example_gives_new_points_rows_and_neighbours(namespace):
    P_new, indices = namespace["P_new"], namespace["new_indices"]
    assert P_new.shape == (4, 180) and indices.shape == namespace["new_distances"].shape == (4, 15)
    assert isinstance(namespace["affinities_mixture"], fasttsne.affinity.MultiscaleMixture)
    assert (namespace["affinities_sigma"].P != namespace["affinities_sigma"].P.T).nnz > 0


def test_new_points_given_as_x_land_where_positional_ones_do(namespace):
    assert np.array_equal(namespace["y_new_again"], namespace["y_new"])


def test_interpolation_grid_example_prepares_the_grid_transform_used(namespace):
    assert namespace["embedding_fft"].reference_repulsion().padding == 0.25
    assert namespace["y_new_fft"].shape == (4, 2)


def test_approx_example_searches_approximately_with_the_given_trees(namespace):
    index = namespace["embedding_approx"].affinities.index
    assert (index.name, index.n_trees) == ("rpforest", 4)


def test_direct_embedding_example_uses_the_stored_learning_rate_until_a_call_overrides_it(namespace):
    assert namespace["embedding_direct"].gradient_params["theta"] == 0.6
    auto = fasttsne.optim.auto_learning_rate(180, 1.0)
    assert [p.learning_rate for p in namespace["embedding_direct_2"].phases_] == [200, auto]
    assert [p.momentum for p in namespace["embedding_direct_2"].phases_] == [0.5, 0.5]


def test_affinity_knn_kwargs_example_builds_the_backend_with_them(namespace):
    index = namespace["affinities_trees"].index
    assert (index.name, index.n_trees_) == ("annoy", 5)


def test_precomputed_affinities_example_fits_from_the_given_matrix(namespace):
    assert np.allclose(namespace["affinities_user"].P.toarray(), namespace["affinities_train"].P.toarray())
    assert namespace["embedding_user"].shape == (180, 2)


def test_hnsw_example_builds_the_index_or_says_how_to_install_hnswlib(namespace):
    if "hnsw_advice" in namespace:
        assert "pip install hnswlib" in namespace["hnsw_advice"]
    else:
        assert namespace["affinities_hnsw"].P.shape == (180, 180)
