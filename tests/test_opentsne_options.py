"""openTSNE's options on TSNE and Embedding: neighbors="approx", knn_kwargs, the X= spelling."""
import inspect
import io
import sys
import types

import numpy as np
import pytest
import scipy.sparse

import fasttsne
from fasttsne import neighbors as nb
from fasttsne._params import InvalidParameterError
from fasttsne.affinity import NeighborModel, PerplexityBasedNN



@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).normal(size=(150, 5))


@pytest.fixture(scope="module")
def small_map(X):
    return fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0).fit(X)


@pytest.fixture
def no_neighbour_search(monkeypatch):
    def reached(self, X):
        raise AssertionError("the neighbour search started before the parameters were checked")
    monkeypatch.setattr(NeighborModel, "fit", reached)


def short_tsne(**params):
    return fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, random_state=0, **params)


# ---------------------------------------------------------------- neighbors="approx"
@pytest.mark.parametrize("metric, sparse", [("euclidean", False), ("cosine", False), ("manhattan", False),
                                            ("chebyshev", False), ("euclidean", True), ("precomputed", False)])
def test_approx_picks_what_auto_picks_for_large_data_at_any_size(metric, sparse):
    large = nb.choose_auto(10 ** 8, metric, sparse)
    assert nb.choose_approx(metric, sparse) == large
    backend = nb.get_backend("approx", n_samples=50, metric=metric, sparse=sparse)
    assert backend.name == large


def test_approx_searches_approximately_where_auto_searches_exactly(X):
    assert nb.choose_auto(len(X), "euclidean", False) == "exact"
    embedding = short_tsne(neighbors="approx").fit(X)
    assert embedding.affinities.index.name == "rpforest"


def test_approx_keeps_plain_python_callables_on_exact_search():
    def manhattan(a, b):
        return float(np.abs(a - b).sum())
    assert nb.choose_approx(manhattan, False) == "exact"


def test_approx_is_a_documented_choice_of_the_neighbors_parameter():
    assert "'approx'" in fasttsne.TSNE.__doc__


# ---------------------------------------------------------------- knn_kwargs
def test_knn_kwargs_reach_the_neighbour_backend(X):
    embedding = short_tsne(neighbors="rpforest", knn_kwargs={"n_trees": 3, "max_rounds": 1}).fit(X)
    index = embedding.affinities.index
    assert (index.n_trees, index.max_rounds) == (3, 1)


def test_knn_kwargs_give_what_the_backend_instance_with_those_settings_gives(X):
    by_kwargs = short_tsne(neighbors="rpforest", knn_kwargs={"n_trees": 2, "max_rounds": 0}).fit(X)
    by_instance = short_tsne(neighbors=nb.RPForest(n_trees=2, max_rounds=0, random_state=0)).fit(X)
    assert np.array_equal(np.asarray(by_kwargs), np.asarray(by_instance))


def test_an_unknown_knn_kwargs_key_fails_before_the_neighbour_search_naming_the_accepted_ones(X,
                                                                                            no_neighbour_search):
    with pytest.raises(InvalidParameterError, match=r"'rpforest' does not take 'n_tree'; it takes: n_trees, "):
        short_tsne(neighbors="rpforest", knn_kwargs={"n_tree": 3}).fit(X)


def test_an_unknown_knn_kwargs_key_for_an_auto_choice_says_what_auto_chose(X, no_neighbour_search):
    with pytest.raises(InvalidParameterError, match=r"'exact' \(neighbors='auto' chose it for this data\)"):
        short_tsne(knn_kwargs={"n_trees": 3}).fit(X)


def test_a_bad_knn_kwargs_value_fails_before_the_neighbour_search(X, no_neighbour_search):
    with pytest.raises(InvalidParameterError, match="n_trees"):
        short_tsne(neighbors="annoy", knn_kwargs={"n_trees": 0}).fit(X)


def test_knn_kwargs_may_not_set_what_tsne_takes_as_parameters(X, no_neighbour_search):
    with pytest.raises(InvalidParameterError, match="may not set metric"):
        short_tsne(neighbors="rpforest", knn_kwargs={"metric": "cosine"}).fit(X)


def test_knn_kwargs_with_a_backend_instance_are_refused(X, no_neighbour_search):
    with pytest.raises(InvalidParameterError, match="set them on it instead"):
        short_tsne(neighbors=nb.RPForest(), knn_kwargs={"n_trees": 3}).fit(X)


def test_knn_kwargs_with_given_affinities_are_refused(X):
    affinities = PerplexityBasedNN(10, random_state=0).fit(X)
    with pytest.raises(InvalidParameterError, match="configure the affinities' backend"):
        short_tsne(knn_kwargs={"n_trees": 3}).fit(X, affinities=affinities)
    with pytest.raises(InvalidParameterError, match="configure the affinities' backend"):
        short_tsne(knn_kwargs={"n_trees": 3}).fit(affinities=affinities)


def test_a_map_fitted_with_knn_kwargs_saves_and_places_new_points_after_loading(X):
    embedding = short_tsne(neighbors="rpforest", knn_kwargs={"n_trees": 3}).fit(X)
    buffer = io.BytesIO()
    embedding.save(buffer)
    buffer.seek(0)
    loaded = fasttsne.load(buffer)
    assert loaded.affinities.index.n_trees == 3
    assert np.array_equal(loaded.transform(X[:3]), embedding.transform(X[:3]))


def test_backend_parameters_are_the_constructor_keywords_but_the_common_four():
    assert nb.backend_parameters(nb.Annoy) == ("n_trees", "search_k", "projection")
    assert nb.backend_parameters(nb.Exact) == ()


def test_pynndescent_backend_takes_pynndescents_own_keywords_but_those_it_sets(monkeypatch):
    # a stand-in module: importing pynndescent itself compiles numba code for seconds
    fake = types.ModuleType("pynndescent")

    class NNDescent:
        def __init__(self, data, metric="euclidean", metric_kwds=None, n_neighbors=30, n_trees=None,
                     n_iters=None, random_state=None, n_jobs=None):
            pass
    fake.NNDescent = NNDescent
    monkeypatch.setitem(sys.modules, "pynndescent", fake)
    assert nb.backend_parameters(nb.NNDescent) == ("n_neighbors", "n_trees", "n_iters")


# ---------------------------------------------------------------- X= (openTSNE's first parameter name)
@pytest.mark.parametrize("method", ["transform", "prepare_partial"])
def test_the_new_points_take_opentsnes_keyword(method, small_map, X):
    openTSNE = pytest.importorskip("openTSNE")
    name = list(inspect.signature(getattr(openTSNE.TSNEEmbedding, method)).parameters)[1]
    assert name == "X"
    by_keyword = getattr(small_map, method)(**{name: X[:4]})
    assert np.array_equal(np.asarray(by_keyword), np.asarray(getattr(small_map, method)(X[:4])))


def test_the_new_points_given_twice_are_refused(small_map, X):
    with pytest.raises(InvalidParameterError, match="given twice"):
        small_map.transform(X[:2], X=X[:2])


def test_no_new_points_is_an_error_that_names_both_spellings(small_map):
    with pytest.raises(InvalidParameterError, match="X_new.*X"):
        small_map.transform()



# ---------------------------------------------------------------- prepare_interpolation_grid
@pytest.fixture(scope="module")
def fft_map(X):
    return fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0,
                         negative_gradient_method="fft").fit(X)


def fresh_copy(embedding):
    """The same map without its cached reference repulsion."""
    return embedding.optimize(0)


def test_the_prepared_grid_spans_what_opentsnes_spans_for_the_same_padding():
    openTSNE = pytest.importorskip("openTSNE")
    rng = np.random.default_rng(1)
    Y = rng.uniform(-3, 3, size=(60, 2))
    Y[:2] = [[-3, -3], [3, 3]]  # centred and square: openTSNE's grid is one box for both axes
    theirs = openTSNE.TSNEEmbedding(Y.copy(), types.SimpleNamespace(P=scipy.sparse.identity(60, format="csr")))
    theirs.prepare_interpolation_grid(padding=0.25)
    width = theirs.box_x_lower_bounds[1] - theirs.box_x_lower_bounds[0]
    their_edges = [theirs.box_x_lower_bounds[0], theirs.box_x_lower_bounds[-1] + width]
    ours = fasttsne.Embedding(Y, PerplexityBasedNN(5, random_state=0).fit(rng.normal(size=(60, 3))),
                              negative_gradient_method="fft")
    ours.prepare_interpolation_grid(padding=0.25)
    box = ours.reference_repulsion().box
    np.testing.assert_allclose(box, [their_edges, their_edges], atol=1e-12)


def test_transform_reuses_the_prepared_grid(fft_map, X, monkeypatch):
    embedding = fresh_copy(fft_map)
    embedding.prepare_interpolation_grid(padding=0.5)
    prepared = embedding.reference_repulsion()
    monkeypatch.setattr(type(embedding.gradient), "reference", lambda *a, **k: pytest.fail("rebuilt"))
    embedding.transform(X[:3])
    assert embedding.reference_repulsion() is prepared and prepared.padding == 0.5


def test_preparing_at_the_default_padding_changes_no_transform_result(fft_map, X):
    unprepared = fresh_copy(fft_map).transform(X[:5])
    embedding = fresh_copy(fft_map)
    embedding.prepare_interpolation_grid()
    assert np.array_equal(embedding.transform(X[:5]), unprepared)


def test_a_wider_padding_changes_the_grid_not_where_new_points_go(fft_map, X):
    default = fresh_copy(fft_map).transform(X[:5])
    embedding = fresh_copy(fft_map)
    embedding.prepare_interpolation_grid(padding=1.0)
    np.testing.assert_allclose(embedding.transform(X[:5]), default, atol=1e-4)


@pytest.mark.parametrize("method", ["bh", "exact"])
def test_without_a_grid_preparing_warns_and_prepares_nothing(method, X):
    embedding = short_tsne(negative_gradient_method=method).fit(X)
    with pytest.warns(UserWarning, match=f"'{method}'.*nothing was prepared"):
        embedding.prepare_interpolation_grid()
    assert embedding.__dict__.get("_reference_cache") is None


def test_a_negative_padding_is_refused_before_any_work(fft_map, monkeypatch):
    embedding = fresh_copy(fft_map)
    monkeypatch.setattr(type(embedding.gradient), "reference", lambda *a, **k: pytest.fail("built"))
    with pytest.raises(InvalidParameterError, match="padding must be a non-negative number"):
        embedding.prepare_interpolation_grid(padding=-0.1)
