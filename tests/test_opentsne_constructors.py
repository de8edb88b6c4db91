"""openTSNE's constructors (issue 17): ``affinity.PrecomputedAffinities(affinities, normalize)``,
``knn_kwargs=`` on the affinity models, and ``TSNEEmbedding(embedding, affinities, **defaults)``
whose stored gradient-descent defaults later ``optimize`` calls use."""
import io

import numpy as np
import pytest
import scipy.sparse as sp

import fasttsne
from fasttsne import TSNEEmbedding, affinity, initialization
from fasttsne import neighbors as nb
from fasttsne._params import InvalidParameterError


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(5).normal(size=(90, 4))


@pytest.fixture(scope="module")
def user_P():
    """A symmetric, zero-diagonal affinity matrix summing to 10."""
    P = np.random.default_rng(6).random((30, 30))
    P = P + P.T
    np.fill_diagonal(P, 0)
    return P * (10 / P.sum())


@pytest.fixture(scope="module")
def model(x):
    return affinity.PerplexityBasedNN(x, perplexity=10, random_state=0)


@pytest.fixture
def no_neighbour_search(monkeypatch):
    def reached(self, X, k):
        raise AssertionError("the neighbour search started before knn_kwargs were checked")
    monkeypatch.setattr(nb.Annoy, "build", reached)
    monkeypatch.setattr(nb.Exact, "build", reached)


# ---------------------------------------------------------------- PrecomputedAffinities
def test_precomputed_affinities_are_the_given_matrix_scaled_to_sum_to_one(user_P):
    model = affinity.PrecomputedAffinities(user_P)
    assert np.allclose(model.P.toarray(), user_P / 10)


def test_precomputed_affinities_without_normalize_keep_the_given_total(user_P):
    model = affinity.PrecomputedAffinities(sp.csr_matrix(user_P), normalize=False)
    assert np.allclose(model.P.toarray(), user_P)


def test_precomputed_affinities_leave_the_callers_matrix_as_it_was(user_P):
    given = sp.csr_matrix(user_P)
    before = given.toarray()
    affinity.PrecomputedAffinities(given)
    assert np.array_equal(given.toarray(), before)


def test_precomputed_affinities_refuse_a_normalize_that_is_not_a_bool(user_P):
    with pytest.raises(InvalidParameterError, match="normalize"):
        affinity.PrecomputedAffinities(user_P, normalize="yes")


def test_precomputed_affinities_fit_a_map_and_survive_save_and_load(user_P):
    embedding = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, random_state=0).fit(
        affinities=affinity.PrecomputedAffinities(user_P))
    buffer = io.BytesIO()
    embedding.save(buffer)
    buffer.seek(0)
    loaded = fasttsne.load(buffer)
    assert type(loaded.affinities) is affinity.PrecomputedAffinities
    assert np.array_equal(loaded.P.toarray(), embedding.P.toarray())


# ---------------------------------------------------------------- knn_kwargs on the models
@pytest.mark.parametrize("make", [
    lambda x, kw: affinity.PerplexityBasedNN(x, perplexity=10, method="annoy", knn_kwargs=kw, random_state=0),
    lambda x, kw: affinity.Multiscale(x, perplexities=[5, 10], method="annoy", knn_kwargs=kw, random_state=0),
    lambda x, kw: affinity.MultiscaleMixture(x, perplexities=[5, 10], method="annoy", knn_kwargs=kw,
                                             random_state=0),
    lambda x, kw: affinity.FixedSigmaNN(x, sigma=1.0, k=15, method="annoy", knn_kwargs=kw, random_state=0),
    lambda x, kw: affinity.Uniform(x, k_neighbors=15, method="annoy", knn_kwargs=kw, random_state=0),
], ids=["PerplexityBasedNN", "Multiscale", "MultiscaleMixture", "FixedSigmaNN", "Uniform"])
def test_model_knn_kwargs_reach_the_neighbour_backend(x, make):
    assert make(x, {"n_trees": 3}).index.n_trees_ == 3


def test_model_knn_kwargs_give_the_affinities_of_the_backend_configured_so(x):
    by_kwargs = affinity.PerplexityBasedNN(x, perplexity=10, method="annoy", knn_kwargs={"n_trees": 2},
                                           random_state=0)
    by_instance = affinity.PerplexityBasedNN(x, perplexity=10, neighbors=nb.Annoy(n_trees=2, random_state=0))
    assert np.array_equal(by_kwargs.P.toarray(), by_instance.P.toarray())


def test_model_knn_kwargs_leave_the_callers_dict_as_it_was(x):
    given = {"n_trees": 3}
    model = affinity.PerplexityBasedNN(perplexity=10, method="annoy", knn_kwargs=given)
    model.knn_kwargs["n_trees"] = 4
    assert given == {"n_trees": 3}


def test_an_unknown_model_knn_kwargs_key_for_a_named_backend_fails_at_construction():
    with pytest.raises(InvalidParameterError, match="'n_tree'.*n_trees"):
        affinity.PerplexityBasedNN(perplexity=10, method="annoy", knn_kwargs={"n_tree": 3})


def test_an_unknown_model_knn_kwargs_key_for_auto_fails_before_the_search(x, no_neighbour_search):
    with pytest.raises(InvalidParameterError, match="'auto' chose it"):
        affinity.PerplexityBasedNN(x, perplexity=10, knn_kwargs={"n_trees": 3})


@pytest.mark.parametrize("kwargs", [dict(neighbors=nb.Annoy()), dict(method="annoy", knn_kwargs={"metric": "cosine"})],
                         ids=["backend instance", "reserved key"])
def test_model_knn_kwargs_refused_where_they_cannot_apply(kwargs):
    kwargs.setdefault("knn_kwargs", {"n_trees": 3})
    with pytest.raises(InvalidParameterError, match="knn_kwargs"):
        affinity.PerplexityBasedNN(perplexity=10, **kwargs)


def test_model_knn_kwargs_with_a_knn_index_are_refused(x):
    index = fasttsne.nearest_neighbors.Sklearn(x, k=30)
    with pytest.raises(InvalidParameterError, match="knn_index"):
        affinity.PerplexityBasedNN(perplexity=10, knn_index=index, knn_kwargs={"n_trees": 3})


def test_model_knn_kwargs_that_are_not_a_dict_are_refused():
    with pytest.raises(InvalidParameterError, match="dict"):
        affinity.PerplexityBasedNN(perplexity=10, knn_kwargs=[("n_trees", 3)])


def test_a_model_saved_with_knn_kwargs_loads_with_them(x):
    model = affinity.PerplexityBasedNN(x, perplexity=10, method="annoy", knn_kwargs={"n_trees": 3}, random_state=0)
    embedding = TSNEEmbedding(initialization.pca(x, random_state=0), model)
    buffer = io.BytesIO()
    embedding.save(buffer)
    buffer.seek(0)
    assert fasttsne.load(buffer).affinities.knn_kwargs == {"n_trees": 3}


# ---------------------------------------------------------------- TSNEEmbedding(...) defaults
def test_embedding_uses_its_stored_learning_rate_when_a_call_gives_none(x, model):
    init = initialization.pca(x, random_state=0)
    stored = TSNEEmbedding(init, model, learning_rate=40, momentum=0.6).optimize(5)
    given = TSNEEmbedding(init, model).optimize(5, learning_rate=40, momentum=0.6)
    assert np.array_equal(stored, given)
    assert (stored.phases_[0].learning_rate, stored.phases_[0].momentum) == (40, 0.6)


def test_a_keyword_given_to_optimize_overrides_the_stored_default(x, model):
    embedding = TSNEEmbedding(initialization.pca(x, random_state=0), model, learning_rate=40)
    assert embedding.optimize(2, learning_rate=7).phases_[0].learning_rate == 7


def test_the_stored_defaults_carry_over_to_the_embeddings_optimize_returns(x, model):
    embedding = TSNEEmbedding(initialization.pca(x, random_state=0), model, learning_rate=40)
    assert embedding.optimize(2).optimize(2).phases_[1].learning_rate == 40


def test_stored_gradient_parameters_configure_the_repulsion_backend(x, model):
    embedding = TSNEEmbedding(initialization.pca(x, random_state=0), model, negative_gradient_method="bh",
                              theta=0.25)
    assert embedding.gradient.theta == 0.25


def test_stored_callbacks_run_in_later_optimize_calls(x, model):
    seen = []
    embedding = TSNEEmbedding(initialization.pca(x, random_state=0), model,
                              callbacks=lambda it, err, pos: seen.append(it), callbacks_every_iters=2)
    embedding.optimize(4)
    assert seen == [2, 4]


def test_the_embedding_constructor_refuses_an_unknown_keyword(x, model):
    with pytest.raises(InvalidParameterError, match="learning_rat.*learning_rate"):
        TSNEEmbedding(initialization.pca(x, random_state=0), model, learning_rat=40)


def test_the_embedding_constructor_checks_a_stored_default_as_optimize_does(x, model):
    with pytest.raises(InvalidParameterError, match="momentum"):
        TSNEEmbedding(initialization.pca(x, random_state=0), model, momentum=3)
