"""openTSNE's affinity and neighbour API (issue 17): the k-NN index classes of
``fasttsne.nearest_neighbors``, and the affinity models' openTSNE forms (data or ``knn_index``
in the constructor, ``symmetrize``, ``set_perplexity`` / ``set_perplexities``,
``to_new(return_distances=, k_neighbors=)``, ``MultiscaleMixture``), each against a reference."""
import pickle

import numpy as np
import pytest
from scipy.spatial.distance import cdist

import fasttsne
from fasttsne import affinity, nearest_neighbors
from fasttsne.neighbors import Exact

PERPLEXITY = 10
K = 3 * PERPLEXITY
QUICK = dict(n_iter=10, early_exaggeration_iter=10, random_state=0)


@pytest.fixture(scope="module")
def x():
    rng = np.random.default_rng(3)
    centres = rng.normal(0, 5, size=(3, 4))
    return centres[np.repeat(np.arange(3), 40)] + rng.normal(size=(120, 4))


@pytest.fixture(scope="module")
def x_new(x):
    return x[:5] + 0.1


@pytest.fixture(scope="module")
def graph(x):
    """The exact 30-NN graph of x, as Exact search gives it."""
    return Exact().build(x, K)


def dense(P):
    return np.asarray(P.todense(), dtype=np.float64)


def count_builds(monkeypatch):
    """Patch the exact backend's build to count its calls (each is a search)."""
    calls = []
    original = Exact.build

    def counted(self, X, k):
        calls.append(k)
        return original(self, X, k)
    monkeypatch.setattr(Exact, "build", counted)
    return calls


# ---------------------------------------------------------------- nearest_neighbors


def test_sklearn_index_builds_the_exact_graph(x, graph):
    indices, distances = nearest_neighbors.Sklearn(x, K).build()
    assert np.array_equal(indices, graph[0]) and np.array_equal(distances, graph[1])


def test_balltree_is_openTSNEs_older_name_of_the_exact_index():
    assert nearest_neighbors.BallTree is nearest_neighbors.Sklearn


def test_index_build_searches_once(x, monkeypatch):
    calls = count_builds(monkeypatch)
    index = nearest_neighbors.Sklearn(x, K)
    assert index.build()[0] is index.build()[0]
    assert calls == [K]


def test_index_query_gives_the_backends_neighbours(x, x_new):
    found = nearest_neighbors.Sklearn(x, K).query(x_new, 7)
    backend = Exact()
    backend.build(x, K)
    expected = backend.query(x_new, 7)
    assert np.array_equal(found[0], expected[0]) and np.array_equal(found[1], expected[1])


def test_index_knn_kwargs_reach_the_backend(x):
    index = nearest_neighbors.Annoy(x, 10, random_state=0, knn_kwargs={"n_trees": 3})
    assert index.n_trees == 3


def test_index_k_must_be_below_the_number_of_points(x):
    with pytest.raises(ValueError, match="below N = 120"):
        nearest_neighbors.Sklearn(x, 120)


def test_precomputed_distance_matrix_gives_each_rows_nearest_others(x):
    D = cdist(x, x)
    indices, distances = nearest_neighbors.PrecomputedDistanceMatrix(D, 5).build()
    off = D + np.diag(np.full(len(x), np.inf))
    assert np.array_equal(indices, np.argsort(off, axis=1, kind="stable")[:, :5])
    assert np.array_equal(distances, np.take_along_axis(D, indices, axis=1))


def test_precomputed_distance_matrix_queries_new_points_distances(x, x_new):
    index = nearest_neighbors.PrecomputedDistanceMatrix(cdist(x, x), 5)
    D_new = cdist(x_new, x)
    indices, distances = index.query(D_new, 3)
    assert np.array_equal(indices, np.argsort(D_new, axis=1)[:, :3])
    assert np.array_equal(distances, np.sort(D_new, axis=1)[:, :3])


def test_precomputed_distance_matrix_must_be_square(x):
    with pytest.raises(ValueError, match="square"):
        nearest_neighbors.PrecomputedDistanceMatrix(cdist(x[:10], x), 3)


def test_precomputed_neighbors_give_back_their_graph(graph):
    indices, distances = nearest_neighbors.PrecomputedNeighbors(*graph).build()
    assert np.array_equal(indices, graph[0]) and np.array_equal(distances, graph[1])


def test_precomputed_neighbors_copy_the_arrays_they_are_given(graph):
    indices, distances = graph[0].copy(), graph[1].copy()
    index = nearest_neighbors.PrecomputedNeighbors(indices, distances)
    indices[:] = 0
    distances[:] = 0
    assert np.array_equal(index.build()[0], graph[0]) and np.array_equal(index.build()[1], graph[1])


def test_precomputed_neighbors_cannot_place_new_points(graph, x_new):
    with pytest.raises(ValueError, match="cannot place new points"):
        nearest_neighbors.PrecomputedNeighbors(*graph).query(x_new, 3)


def _bad_graphs(graph):
    indices, distances = graph
    self_loop = indices.copy()
    self_loop[4, 2] = 4
    repeated = indices.copy()
    repeated[6, 1] = repeated[6, 0]
    unsorted = distances.copy()
    unsorted[8, [0, 1]] = unsorted[8, [1, 0]] + [0.0, 1e-3]
    negative = distances.copy()
    negative[0, 0] = -1.0
    nan = distances.copy()
    nan[1, 3] = np.nan
    out_of_range = indices.copy()
    out_of_range[2, 2] = 120
    return {
        "shapes differ": ((indices, distances[:, :5]), "one shape"),
        "not 2-D": ((indices.ravel(), distances.ravel()), "one shape"),
        "k >= N": ((np.tile(np.arange(3), (3, 1)), np.ones((3, 3))), "1 <= k < N"),
        "float indices": ((indices.astype(float), distances), "integer"),
        "index out of range": ((out_of_range, distances), r"\[0, N = 120\)"),
        "self-loop": ((self_loop, distances), "point 4 is listed as its own neighbour"),
        "repeated neighbour": ((repeated, distances), "row 6 .* twice"),
        "unsorted row": ((indices, unsorted), "row 8 .* not sorted"),
        "negative distance": ((indices, negative), "non-negative"),
        "NaN distance": ((indices, nan), "finite"),
    }


@pytest.mark.parametrize("case", ["shapes differ", "not 2-D", "k >= N", "float indices", "index out of range",
                                  "self-loop", "repeated neighbour", "unsorted row", "negative distance",
                                  "NaN distance"])
def test_precomputed_neighbors_refuse_a_bad_graph(graph, case):
    arrays, message = _bad_graphs(graph)[case]
    with pytest.raises(ValueError, match=message):
        nearest_neighbors.PrecomputedNeighbors(*arrays)


def test_a_users_own_index_class_works_as_in_openTSNE(x, graph):
    class Mine(nearest_neighbors.KNNIndex):
        def build(self):
            return graph

        def query(self, query, k):
            return graph[0][:len(query), :k], graph[1][:len(query), :k]

    index = Mine(x, K, metric="my-own-metric")
    model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=index)
    assert np.array_equal(dense(model.P), dense(affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact").P))
    assert model.to_new(x[:2], k=15).shape == (2, 120)


def test_a_users_index_that_returns_a_bad_graph_is_refused(x, graph):
    class Careless(nearest_neighbors.KNNIndex):
        def build(self):
            return graph[0], -graph[1]

    with pytest.raises(ValueError, match="non-negative"):
        affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=Careless(x, K))


# ---------------------------------------------------------------- symmetrize

#: A 5-point graph with 2 neighbours each; some pairs mutual (0-1, 2-3), some one-way.
SMALL_INDICES = np.array([[1, 2], [0, 2], [3, 1], [2, 4], [3, 0]])
SMALL_DISTANCES = np.array([[1.0, 2.0], [1.0, 1.5], [0.5, 1.5], [0.5, 2.5], [2.5, 3.0]])


def _small_conditionals(kind):
    """Row i over its neighbours, by hand: uniform 1/2, or Gaussian with sigma = 1."""
    C = np.zeros((5, 5))
    for i in range(5):
        w = np.full(2, 0.5) if kind == "uniform" else np.exp(-SMALL_DISTANCES[i] ** 2 / 2.0)
        C[i, SMALL_INDICES[i]] = w / w.sum()
    return C


def _small_model(kind, symmetrize):
    graph = nearest_neighbors.PrecomputedNeighbors(SMALL_INDICES, SMALL_DISTANCES)
    if kind == "uniform":
        return affinity.Uniform(knn_index=graph, symmetrize=symmetrize)
    return affinity.FixedSigmaNN(knn_index=graph, sigma=1.0, symmetrize=symmetrize)


@pytest.mark.parametrize("kind", ["uniform", "gaussian"])
@pytest.mark.parametrize("symmetrize, combine", [
    (True, lambda C: (C + C.T) / 2), ("mean", lambda C: (C + C.T) / 2), ("max", lambda C: np.maximum(C, C.T)),
    (False, lambda C: C), ("none", lambda C: C)])
def test_symmetrize_gives_the_hand_computed_matrix(kind, symmetrize, combine):
    expected = combine(_small_conditionals(kind))
    expected /= expected.sum()
    P = _small_model(kind, symmetrize).P
    assert P.dtype == np.float32 and P.indices.dtype == np.int32 and P.has_sorted_indices
    assert np.allclose(dense(P), expected, rtol=1e-6, atol=0)


def test_symmetrize_max_of_uniform_weights_every_edge_the_same():
    P = dense(_small_model("uniform", "max").P)
    assert len(np.unique(P[P > 0])) == 1


def test_symmetrize_true_is_the_standard_P(x):
    standard = affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact").P
    assert np.allclose(dense(standard), dense(affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact",
                                                                         symmetrize="mean").P), atol=0)


def test_unknown_symmetrize_is_refused():
    with pytest.raises(fasttsne.InvalidParameterError, match="symmetrize must be"):
        affinity.PerplexityBasedNN(PERPLEXITY, symmetrize="min")


def test_uniform_symmetrize_max_matches_openTSNE(x):
    openTSNE_affinity = pytest.importorskip("openTSNE.affinity")
    ours = affinity.Uniform(x, k_neighbors=15, method="exact", symmetrize="max").P
    theirs = openTSNE_affinity.Uniform(x, k_neighbors=15, method="exact", symmetrize="max").P
    assert np.allclose(dense(ours), theirs.toarray(), rtol=1e-6, atol=0)


# ---------------------------------------------------------------- construction forms


@pytest.mark.parametrize("model, params", [
    (affinity.PerplexityBasedNN, dict(perplexity=PERPLEXITY)), (affinity.Multiscale, dict(perplexities=[5, 10])),
    (affinity.MultiscaleMixture, dict(perplexities=[5, 10])), (affinity.FixedSigmaNN, dict(sigma=2.0, k=20)),
    (affinity.Uniform, dict(k_neighbors=20))])
def test_data_in_the_constructor_fits_as_fit_does(x, model, params):
    now = model(x, method="exact", **params)
    later = model(**params, neighbors="exact").fit(x)
    assert np.array_equal(dense(now.P), dense(later.P))


def test_a_number_first_is_the_perplexity():
    model = affinity.PerplexityBasedNN(12)
    assert model.perplexity == 12 and model.P is None


def test_a_list_first_is_the_perplexities():
    assert affinity.Multiscale([5, 10]).perplexities == [5.0, 10.0]


def test_fasttsnes_positional_fixed_sigma_form_is_sigma_then_k():
    model = affinity.FixedSigmaNN(2.0, 15)
    assert (model.sigma, model.k) == (2.0, 15)


def test_a_perplexity_given_twice_is_refused():
    with pytest.raises(fasttsne.InvalidParameterError, match="given twice"):
        affinity.PerplexityBasedNN(12, perplexity=20)


def test_method_names_the_neighbour_backend(x):
    assert isinstance(affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact").index, Exact)


def test_method_and_neighbors_together_are_refused():
    with pytest.raises(fasttsne.InvalidParameterError, match="not both"):
        affinity.PerplexityBasedNN(PERPLEXITY, method="exact", neighbors="annoy")


def test_k_neighbors_sets_the_searched_graph(x):
    model = affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact", k_neighbors=40)
    expected = model.from_neighbors(*Exact().build(x, 40))
    assert np.array_equal(dense(model.P), dense(expected))


# ---------------------------------------------------------------- knn_index


@pytest.mark.parametrize("model, params", [
    (affinity.PerplexityBasedNN, dict(perplexity=PERPLEXITY)), (affinity.Multiscale, dict(perplexities=[5, 10])),
    (affinity.FixedSigmaNN, dict(sigma=2.0, k=K)), (affinity.Uniform, dict(k_neighbors=K))])
def test_knn_index_gives_the_P_of_a_fresh_search(x, graph, model, params):
    fresh = model(x, method="exact", **params)
    from_index = model(knn_index=nearest_neighbors.PrecomputedNeighbors(*graph), **params)
    assert np.array_equal(dense(from_index.P), dense(fresh.P))


def test_knn_index_uses_three_perplexities_of_a_larger_graph(x):
    index = nearest_neighbors.Sklearn(x, 3 * K)
    from_index = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=index)
    assert np.array_equal(dense(from_index.P), dense(affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact").P))


def test_knn_index_is_not_searched_again(x, monkeypatch):
    calls = count_builds(monkeypatch)
    index = nearest_neighbors.Sklearn(x, K)
    affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=index)
    affinity.Uniform(knn_index=index)
    assert calls == [K]


def test_knn_index_becomes_the_models_index(x):
    index = nearest_neighbors.Sklearn(x, K)
    model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=index)
    assert model.knn_index is index and model.index is index


def test_knn_index_too_small_for_the_perplexity_lowers_it_with_a_warning(graph):
    small = nearest_neighbors.PrecomputedNeighbors(graph[0][:, :12], graph[1][:, :12])
    with pytest.warns(UserWarning, match="using perplexity 4"):
        model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=small)
    assert model.perplexity_ == 4


def test_data_and_knn_index_together_are_refused(x, graph):
    with pytest.raises(fasttsne.InvalidParameterError, match="not both"):
        affinity.PerplexityBasedNN(x, knn_index=nearest_neighbors.PrecomputedNeighbors(*graph))


def test_knn_index_must_be_a_knn_index(x):
    with pytest.raises(fasttsne.InvalidParameterError, match="KNNIndex"):
        affinity.PerplexityBasedNN(knn_index=Exact())


# ---------------------------------------------------------------- set_perplexity


def test_set_perplexity_equals_a_fresh_fit(x):
    model = affinity.PerplexityBasedNN(x, 30, method="exact")
    model.set_perplexity(PERPLEXITY)
    assert np.array_equal(dense(model.P), dense(affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact").P))
    assert model.sum_p_log_p == pytest.approx(fasttsne.affinity.sum_p_log_p(model.P.data))


def test_set_perplexity_does_not_search(x, monkeypatch):
    model = affinity.PerplexityBasedNN(x, 30, method="exact")
    calls = count_builds(monkeypatch)
    model.set_perplexity(PERPLEXITY)
    assert calls == []


def test_set_perplexities_equals_a_fresh_fit(x):
    model = affinity.Multiscale(x, [10, 30], method="exact")
    model.set_perplexities([5, PERPLEXITY])
    assert np.array_equal(dense(model.P), dense(affinity.Multiscale(x, [5, PERPLEXITY], method="exact").P))


def test_set_perplexity_above_the_kept_neighbours_is_refused(x):
    model = affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact")
    with pytest.raises(RuntimeError, match="new PerplexityBasedNN"):
        model.set_perplexity(K + 1)


def test_set_perplexities_needing_more_neighbours_is_refused(x):
    model = affinity.Multiscale(x, [5, PERPLEXITY], method="exact")
    with pytest.raises(RuntimeError, match="more than the kept graph's 30"):
        model.set_perplexities([5, 20])


def test_set_perplexity_needs_the_kept_graph(x):
    model = affinity.PerplexityBasedNN(x, 30, method="exact", keep_graph=False)
    with pytest.raises(RuntimeError, match="keep_graph=False"):
        model.set_perplexity(PERPLEXITY)


def test_tsnes_own_model_keeps_no_graph(x):
    embedding = fasttsne.TSNE(perplexity=PERPLEXITY, **QUICK).fit(x)
    with pytest.raises(RuntimeError, match="did not keep"):
        embedding.affinities.set_perplexity(5)


def test_an_embedding_optimises_the_recalibrated_P(x):
    model = affinity.PerplexityBasedNN(x, 30, method="exact")
    embedding = fasttsne.TSNE(**QUICK).fit(x, affinities=model)
    model.set_perplexity(PERPLEXITY)
    continued = embedding.optimize(5)
    reference = affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact")
    assert np.array_equal(dense(continued.P), dense(reference.P))


# ---------------------------------------------------------------- to_new


def test_to_new_returns_the_neighbours_it_used(x, x_new):
    model = affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact")
    P_new, indices, distances = model.to_new(x_new, return_distances=True)
    expected = model.index.query(x_new, 15)
    assert np.array_equal(indices, expected[0]) and np.array_equal(distances, expected[1])
    assert np.array_equal(dense(P_new), dense(model.to_new(x_new)))


def test_to_new_k_neighbors_is_k(x, x_new):
    model = affinity.Uniform(x, k_neighbors=20, method="exact")
    assert np.array_equal(dense(model.to_new(x_new, k_neighbors=7)), dense(model.to_new(x_new, k=7)))
    assert np.array_equal(dense(model.to_new(x_new, k_neighbors="auto")), dense(model.to_new(x_new)))


def test_to_new_k_and_k_neighbors_together_are_refused(x, x_new):
    model = affinity.Uniform(x, k_neighbors=20, method="exact")
    with pytest.raises(fasttsne.InvalidParameterError, match="not both"):
        model.to_new(x_new, k=5, k_neighbors=7)


def test_multiscale_to_new_takes_openTSNEs_perplexities(x, x_new):
    model = affinity.Multiscale(x, [5, PERPLEXITY], method="exact")
    assert np.array_equal(dense(model.to_new(x_new, perplexities=[3, 6])),
                          dense(model.to_new(x_new, perplexity=[3, 6])))


# ---------------------------------------------------------------- MultiscaleMixture


def _reference_mixture_row(distances, perplexities):
    """One row's mixture by a plain binary search per scale on tau = 1 / sigma^2."""
    total = np.zeros_like(distances)
    for perplexity in perplexities:
        lo, hi, tau = 0.0, np.inf, 1.0
        for _ in range(200):
            w = np.sqrt(tau) * np.exp(-distances ** 2 * tau / 2)
            q = w / w.sum()
            entropy = -np.sum(q[q > 0] * np.log(q[q > 0]))
            if abs(entropy - np.log(perplexity)) < 1e-10:
                break
            if entropy > np.log(perplexity):
                lo, tau = tau, tau * 2 if hi == np.inf else (tau + hi) / 2
            else:
                hi, tau = tau, (tau + lo) / 2
        total += w
    return total / total.sum()


def test_mixture_conditionals_match_a_per_scale_reference(graph):
    distances = graph[1][:20]
    ours = affinity.mixture_conditionals(distances, [5, PERPLEXITY])
    expected = np.array([_reference_mixture_row(row, [5, PERPLEXITY]) for row in distances])
    assert np.allclose(ours, expected, rtol=1e-4, atol=1e-9)


def test_mixture_of_one_perplexity_is_the_perplexity_model(x):
    mixture = affinity.MultiscaleMixture(x, [PERPLEXITY], method="exact").P
    assert np.allclose(dense(mixture), dense(affinity.PerplexityBasedNN(x, PERPLEXITY, method="exact").P),
                       rtol=1e-6, atol=0)


def test_mixture_differs_from_the_average_of_scales(x):
    mixture = affinity.MultiscaleMixture(x, [5, 30], method="exact").P
    average = affinity.Multiscale(x, [5, 30], method="exact").P
    assert not np.allclose(dense(mixture), dense(average), rtol=1e-2, atol=0)


# ---------------------------------------------------------------- TSNE, transform, save and load


def test_tsne_on_an_index_model_equals_tsne_on_its_own_search(x, x_new):
    model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=nearest_neighbors.Sklearn(x, K))
    with_index = fasttsne.TSNE(**QUICK).fit(x, affinities=model)
    own = fasttsne.TSNE(perplexity=PERPLEXITY, neighbors="exact", **QUICK).fit(x)
    assert np.array_equal(np.asarray(with_index), np.asarray(own))
    assert np.array_equal(with_index.transform(x_new, n_iter=5), own.transform(x_new, n_iter=5))


def test_saved_map_on_a_sklearn_index_transforms_as_before(x, x_new, tmp_path):
    model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=nearest_neighbors.Sklearn(x, K))
    embedding = fasttsne.TSNE(**QUICK).fit(x, affinities=model)
    embedding.save(tmp_path / "map.npz")
    loaded = fasttsne.load(tmp_path / "map.npz")
    assert type(loaded.affinities.index) is Exact
    assert np.array_equal(loaded.transform(x_new, n_iter=5), embedding.transform(x_new, n_iter=5))


def test_saved_map_on_an_annoy_index_places_new_points_as_before(x, x_new, tmp_path):
    model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY,
                                       knn_index=nearest_neighbors.Annoy(x, K, random_state=0))
    embedding = fasttsne.TSNE(**QUICK).fit(x, affinities=model)
    embedding.save(tmp_path / "map.npz")
    loaded = fasttsne.load(tmp_path / "map.npz")
    assert type(loaded.affinities.index) is fasttsne.neighbors.Annoy
    assert np.array_equal(loaded.affinities.index.query(x_new, 7)[0], embedding.affinities.index.query(x_new, 7)[0])


def test_saved_map_on_precomputed_neighbors_loads_and_refuses_new_points(graph, x_new, tmp_path):
    model = affinity.PerplexityBasedNN(perplexity=PERPLEXITY, knn_index=nearest_neighbors.PrecomputedNeighbors(*graph))
    embedding = fasttsne.TSNE(**QUICK).fit(affinities=model)
    embedding.save(tmp_path / "map.npz")
    loaded = fasttsne.load(tmp_path / "map.npz")
    assert np.array_equal(np.asarray(loaded), np.asarray(embedding))
    assert np.array_equal(dense(loaded.P), dense(embedding.P))
    with pytest.raises(ValueError, match="PrecomputedNeighbors"):
        loaded.transform(x_new)


def test_a_loaded_model_keeps_no_graph(x, tmp_path):
    model = affinity.PerplexityBasedNN(x, 30, method="exact")
    fasttsne.TSNE(**QUICK).fit(x, affinities=model).save(tmp_path / "map.npz")
    loaded = fasttsne.load(tmp_path / "map.npz").affinities
    with pytest.raises(RuntimeError, match="loaded or pickled copy"):
        loaded.set_perplexity(PERPLEXITY)


def test_a_pickled_index_keeps_no_graph(x):
    index = nearest_neighbors.Sklearn(x, K)
    index.build()
    copy = pickle.loads(pickle.dumps(index))
    assert np.array_equal(copy.query(x[:3], 4)[0], index.query(x[:3], 4)[0])
    with pytest.raises(ValueError, match="pickled copy"):
        copy.build()


@pytest.mark.parametrize("key, value", [("k", -1), ("n_samples_", "120"), ("metric", "euclidean"),
                                        ("_graph", (np.zeros((120, 30), int), np.zeros((120, 5))))])
def test_a_saved_precomputed_graph_state_is_checked(key, value):
    state = {"n_samples": 120, "n_samples_": 120, "k": 30, "metric": "precomputed", key: value}
    with pytest.raises(ValueError):
        nearest_neighbors.PrecomputedNeighbors.check_state(state)


@pytest.mark.parametrize("state", [{"symmetrize": "min"}, {"_graph": (np.zeros((4, 2), int), np.zeros((4, 9)))}])
def test_a_saved_affinity_model_state_is_checked(state):
    with pytest.raises(ValueError):
        affinity.PerplexityBasedNN.check_state(state)
