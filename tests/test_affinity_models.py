"""Affinity models: each gives a symmetric, normalised CSR P and row-normalised ``to_new``;
perplexity lowering warns; duplicates and far neighbours stay finite; precomputed input."""
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist

import fasttsne
from fasttsne._params import InvalidParameterError
from fasttsne.affinity import FixedSigmaNN, Multiscale, PerplexityBasedNN, Precomputed, Uniform


def models():
    return {
        "perplexity": lambda: PerplexityBasedNN(10, neighbors="exact"),
        "multiscale": lambda: Multiscale([5, 20], neighbors="exact"),
        "fixed-sigma": lambda: FixedSigmaNN(sigma=20.0, k=15, neighbors="exact"),
        "uniform": lambda: Uniform(k=15, neighbors="exact"),
    }


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:600]


@pytest.mark.parametrize("name", models())
def test_P_is_symmetric_csr_summing_to_one_with_int32_indices(X, name):
    P = models()[name]().fit(X).P
    assert sp.isspmatrix_csr(P) and P.indices.dtype == np.int32 and P.indptr.dtype == np.int32
    # float32 values (each rounded once from float64): the sum is 1 to float32's precision
    assert P.data.astype(np.float64).sum() == pytest.approx(1.0, abs=1e-7 if P.dtype == np.float32 else 1e-12)
    assert abs(P - P.T).max() < 1e-15
    assert P.diagonal().max() == 0 and P.data.min() > 0


@pytest.mark.parametrize("name", models())
def test_to_new_rows_sum_to_one(X, name):
    model = models()[name]().fit(X[:500])
    P_new = model.to_new(X[500:])
    assert P_new.shape == (100, 500)
    np.testing.assert_allclose(np.asarray(P_new.sum(axis=1)).ravel(), 1.0, atol=1e-12)


def test_too_large_perplexity_is_lowered_with_a_warning(X):
    with pytest.warns(UserWarning, match=r"perplexity 50 is too large for 31 points.*using perplexity 10"):
        model = PerplexityBasedNN(50, neighbors="exact").fit(X[:31])
    assert model.perplexity_ == pytest.approx(10.0)


def test_multiscale_lowers_each_too_large_perplexity_with_a_warning(X):
    with pytest.warns(UserWarning, match="perplexity 100 is too large"):
        model = Multiscale([5, 100], neighbors="exact").fit(X[:61])
    assert model.perplexities_ == [5.0, pytest.approx(20.0)]


def test_to_new_lowers_a_perplexity_its_k_cannot_support_with_a_warning(X):
    model = PerplexityBasedNN(10, neighbors="exact").fit(X[:300])
    with pytest.warns(UserWarning, match="too large for k = 6 neighbours"):
        P_new = model.to_new(X[300:310], k=6, perplexity=5)
    np.testing.assert_allclose(np.asarray(P_new.sum(axis=1)).ravel(), 1.0)


def test_uniform_lowers_a_too_large_k_with_a_warning(X):
    with pytest.warns(UserWarning, match="k = 30 neighbours is too many"):
        Uniform(k=30, neighbors="exact").fit(X[:20])


@pytest.mark.parametrize("name", ["perplexity", "fixed-sigma"])
def test_duplicate_points_give_finite_affinities(X, name):
    X_dup = np.vstack([X[:100]] * 3 + [np.repeat(X[100:101], 40, axis=0)])  # 40 copies of one point
    P = models()[name]().fit(X_dup).P
    assert np.all(np.isfinite(P.data)) and P.sum() == pytest.approx(1.0)


def test_fixed_sigma_far_neighbours_do_not_underflow(X):
    P = FixedSigmaNN(sigma=1e-3, k=10, neighbors="exact").fit(X * 1e6).P
    assert np.all(np.isfinite(P.data)) and P.sum() == pytest.approx(1.0)


def test_multiscale_with_one_perplexity_is_the_perplexity_model(X):
    single = PerplexityBasedNN(10, neighbors="exact").fit(X).P
    multi = Multiscale([10], neighbors="exact").fit(X).P
    assert abs(single - multi).max() < 1e-15


def test_multiscale_for_size_follows_kobak_and_berens():
    assert Multiscale.for_size(100_000).perplexities == [30.0, 1000.0]
    assert Multiscale.for_size(2_000).perplexities == [30.0]


def test_uniform_weights_neighbours_equally(X):
    P = Uniform(k=15, neighbors="exact").fit(X).P
    n = X.shape[0]
    # 1/k from one side, (1/k + 1/k) when both points list each other; then / 2N
    np.testing.assert_allclose(np.unique(np.round(P.data * 2 * n * 15, 9)), [1.0, 2.0])


def test_precomputed_distances_give_the_same_P_as_the_data(X):
    # digits are integers: jitter them so that no two distances tie at the k-th neighbour
    X = X + np.random.default_rng(0).normal(scale=1e-3, size=X.shape)
    from_data = PerplexityBasedNN(10, neighbors="exact").fit(X).P
    from_distances = PerplexityBasedNN(10, metric="precomputed").fit(cdist(X, X)).P
    assert abs(from_data - from_distances).max() < 1e-12


def test_precomputed_knn_graph_gives_the_same_P_as_the_data(X):
    model = PerplexityBasedNN(10, neighbors="exact").fit(X)
    idx, dist = model.index.build(X, 30)
    rows = np.repeat(np.arange(len(X)), 30)
    graph = sp.csr_matrix((dist.ravel(), (rows, idx.ravel())), shape=(len(X), len(X)))
    from_graph = PerplexityBasedNN(10, metric="precomputed").fit(graph).P
    assert abs(model.P - from_graph).max() < 1e-12


def test_precomputed_P_is_symmetrised_and_normalised_with_a_warning():
    rng = np.random.default_rng(0)
    A = sp.random(50, 50, density=0.2, random_state=rng, format="csr")
    A.setdiag(0)
    with pytest.warns(UserWarning, match="not symmetric"):
        model = Precomputed(A * 3.0)
    expected = (A + A.T) / (A + A.T).sum()
    assert abs(model.P - expected).max() < 1e-15
    assert model.P.indices.dtype == np.int32


def test_precomputed_leaves_the_callers_sparse_P_unchanged():
    rng = np.random.default_rng(0)
    A = sp.random(50, 50, density=0.2, random_state=rng, format="csr")
    A = (A + A.T).tocsr()
    A.setdiag(1.0)      # a diagonal and explicit zeros: both are dropped from the model's copy
    A.data[:5] = 0.0
    before = (A.data.copy(), A.indices.copy(), A.indptr.copy())
    with pytest.warns(UserWarning):     # the diagonal; the zeros make it asymmetric
        Precomputed(A)
    assert all(np.array_equal(a, b) for a, b in zip((A.data, A.indices, A.indptr), before))


def test_precomputed_rejects_negative_affinities():
    with pytest.raises(ValueError, match="negative"):
        Precomputed(-np.eye(3)[::-1])


def test_precomputed_to_new_normalises_rows():
    model = Precomputed(np.ones((4, 4)) - np.eye(4))
    P_new = model.to_new(np.array([[1.0, 3.0, 0.0, 0.0], [0.0, 0.0, 2.0, 2.0]]))
    np.testing.assert_allclose(P_new.toarray(), [[0.25, 0.75, 0, 0], [0, 0, 0.5, 0.5]])


def test_tsne_fit_accepts_an_affinity_model_instance(X):
    affinities = Multiscale([5, 20], neighbors="exact")
    embedding = fasttsne.TSNE(early_exaggeration_iter=5, n_iter=5, negative_gradient_method="exact",
                              random_state=0).fit(X[:200], affinities=affinities)
    assert embedding.affinities is affinities


@pytest.mark.parametrize("name", models())
def test_transform_places_new_points_with_every_neighbour_model(X, name):
    embedding = fasttsne.TSNE(early_exaggeration_iter=5, n_iter=5, negative_gradient_method="exact",
                              random_state=0).fit(X[:200], affinities=models()[name]())
    placed = embedding.transform(X[200:220], n_iter=5)
    assert np.asarray(placed).shape == (20, 2) and np.all(np.isfinite(np.asarray(placed)))


# -- the new-point protocol ----------------------------------------------------------------

@pytest.mark.parametrize("name, params, expected", [
    ("perplexity", {}, 15), ("perplexity", {"perplexity": 8}, 24), ("multiscale", {}, 60),
    ("multiscale", {"perplexity": [2, 4]}, 12), ("fixed-sigma", {}, 15), ("uniform", {"k": 7}, 7)])
def test_neighbors_needed_is_the_k_to_new_uses(X, name, params, expected):
    model = models()[name]().fit(X[:300])
    assert model.neighbors_needed(**params) == expected
    assert model.to_new(X[300:305], **params).getnnz(axis=1).max() <= expected


def test_neighbors_needed_is_lowered_silently_where_to_new_warns(X):
    model = PerplexityBasedNN(5, neighbors="exact").fit(X[:30])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.neighbors_needed(perplexity=20) == 30
    with pytest.warns(UserWarning, match="perplexity 20 is too large for 30 reference points"):
        model.to_new(X[30:32], perplexity=20)


@pytest.mark.parametrize("name", models())
def test_to_new_from_a_given_query_equals_to_new_querying_itself(X, name):
    model = models()[name]().fit(X[:300])
    found = model.index.query(X[300:320], model.neighbors_needed() + 5)
    assert (model.to_new(X[300:320], neighbors=found) != model.to_new(X[300:320])).nnz == 0


@pytest.mark.parametrize("name", ["fixed-sigma", "uniform"])
def test_models_without_a_perplexity_refuse_one_for_new_points(X, name):
    model = models()[name]().fit(X[:100])
    with pytest.raises(InvalidParameterError, match="does not take perplexity"):
        model.to_new(X[100:105], perplexity=5)
    with pytest.raises(InvalidParameterError, match="does not take perplexity"):
        model.neighbors_needed(perplexity=5)


def test_transform_with_a_perplexity_the_model_does_not_take_is_refused(X):
    embedding = fasttsne.TSNE(early_exaggeration_iter=5, n_iter=5, negative_gradient_method="exact",
                              random_state=0).fit(X[:200], affinities=Uniform(k=15, neighbors="exact"))
    with pytest.raises(InvalidParameterError, match="Uniform does not take perplexity"):
        embedding.transform(X[200:210], perplexity=5, n_iter=5)


def test_fixed_sigma_new_points_take_their_own_sigma(X):
    model = FixedSigmaNN(sigma=20.0, k=15, neighbors="exact").fit(X[:300])
    wide, narrow = model.to_new(X[300:301], sigma=1e3), model.to_new(X[300:301], sigma=1.0)
    np.testing.assert_allclose(wide.data, 1 / 15, rtol=1e-3)
    assert narrow.data.max() > 0.9


def test_precomputed_needs_no_neighbours_and_refuses_a_query():
    model = Precomputed(np.ones((4, 4)) - np.eye(4))
    assert model.neighbors_needed() == 0
    with pytest.raises(InvalidParameterError, match="not neighbours"):
        model.to_new(np.ones((1, 4)), neighbors=(np.zeros((1, 2), int), np.zeros((1, 2))))


def test_precomputed_to_new_keeps_each_rows_k_largest():
    model = Precomputed(np.ones((4, 4)) - np.eye(4))
    P_new = model.to_new(np.array([[1.0, 3.0, 2.0, 0.5]]), k=2)
    np.testing.assert_allclose(P_new.toarray(), [[0, 0.6, 0.4, 0]])
