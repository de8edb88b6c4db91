"""fasttsne.sklearn.TSNE: scikit-learn's TSNE interface and meanings, and scikit-learn's own checks."""
import inspect
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import squareform

pytest.importorskip("sklearn", minversion="1.6")
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.manifold import TSNE as SklearnTSNE  # noqa: E402
from sklearn.manifold._t_sne import _gradient_descent, _kl_divergence  # noqa: E402
from sklearn.metrics import pairwise_distances  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fasttsne  # noqa: E402
from fasttsne._params import InvalidParameterError  # noqa: E402
from fasttsne.sklearn import TSNE  # noqa: E402
from quality import knn_accuracy  # noqa: E402

#: A short schedule: scikit-learn's checks fit dozens of times on 10-150 points.
FAST = dict(early_exaggeration_iter=20, max_iter=50)

#: Checks that cannot pass for t-SNE, with the reason. Both compare ``fit_transform(X)``
#: with ``fit(X).transform(X)``; in t-SNE the first is the optimised map of X, the second
#: places X's points anew into that map (the map does not move), so they differ by design,
#: exactly as for any transformer whose ``transform`` is out-of-sample.
EXPECTED_FAILED_CHECKS = {
    "check_transformer_general": "fit_transform (the optimised map) differs from transform (points "
                                 "placed into the fixed map) by design in t-SNE",
    "check_transformer_data_not_an_array": "same comparison of fit_transform with transform; "
                                           "non-array input is tested in test_fit_accepts_a_list_of_lists",
}


def _expected_failed(estimator):
    return EXPECTED_FAILED_CHECKS


@parametrize_with_checks([TSNE(**FAST)], expected_failed_checks=_expected_failed)
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        # the checks' tiny datasets make fasttsne lower the perplexity, which it says
        warnings.filterwarnings("ignore", message="perplexity .* is too large", category=UserWarning)
        check(estimator)


@pytest.fixture(scope="module")
def X200(digits):
    return digits[0][:200]


# ------------------------------------------------------------------ the signature
def test_signature_is_scikit_learns_with_its_defaults_except_method():
    ours = inspect.signature(TSNE).parameters
    for name, param in inspect.signature(SklearnTSNE).parameters.items():
        assert name in ours, name
        if name == "method":
            assert ours[name].default == "auto"
        else:
            assert ours[name].default == param.default, name


def test_a_scikit_learn_script_with_every_parameter_runs_unchanged(X200):
    params = dict(n_components=2, perplexity=20.0, early_exaggeration=10.0, learning_rate=100.0, max_iter=300,
                  n_iter_without_progress=250, min_grad_norm=1e-9, metric="euclidean", metric_params=None,
                  init="random", verbose=0, random_state=0, method="barnes_hut", angle=0.4, n_jobs=None)
    SklearnTSNE(**params)._validate_params()  # scikit-learn takes these values
    est = TSNE(**params).fit(X200)
    assert est.embedding_.shape == (200, 2) and est.n_iter_ == 300


# ------------------------------------------------------------------ each parameter's meaning
def test_max_iter_counts_the_exploration_iterations(X200):
    est = TSNE(max_iter=260, min_grad_norm=0, random_state=0).fit(X200)
    assert est.n_iter_ == est.embedding_object_.n_iter == 260


def test_learning_rate_200_takes_the_step_of_scikit_learns_200(digits):
    """One exploration step from the same positions with the same P: fasttsne's optimiser
    with the learning rate this estimator gives it for 200 moves every point as far as
    scikit-learn's gradient descent with 200."""
    from fasttsne._sklearn_schedule import SKLEARN_GRADIENT_SCALE
    est = TSNE(method="exact", init="random", random_state=0, early_exaggeration_iter=0, max_iter=0)
    embedding = est.fit(digits[0][:120]).embedding_object_
    Y0 = np.array(embedding)
    P = squareform(embedding.P.toarray().astype(np.float64), checks=False)  # scikit-learn's condensed P
    # min_gain 1.2 pins every gain at 1.2 in both: the two delta-bar-delta codes grow or shrink
    # the first gains differently where the previous update is exactly 0
    moved = embedding.optimize(1, learning_rate=SKLEARN_GRADIENT_SCALE * 200.0, exaggeration=12.0, momentum=0.5,
                               min_gain=1.2, max_step_norm=None)
    p, _, _ = _gradient_descent(_kl_divergence, Y0.ravel().copy(), 0, 1, momentum=0.5, learning_rate=200.0,
                                min_gain=1.2, args=[P * 12.0, 1, len(Y0), 2])
    # fasttsne re-centres the map after each step (the gradient itself sums to zero)
    start = Y0 - Y0.mean(axis=0)
    p = p.reshape(Y0.shape)
    np.testing.assert_allclose(np.array(moved) - start, p - p.mean(axis=0) - start, rtol=1e-6)


def test_fit_runs_the_core_schedule_with_4_times_the_learning_rate_and_scikit_learns_momenta(X200):
    est = TSNE(learning_rate=200.0, max_iter=400, min_grad_norm=0, random_state=3, method="barnes_hut")
    # scikit-learn's schedule, not fasttsne's default: 250 exploration iterations, no annealing
    core = fasttsne.TSNE(learning_rate=800.0, early_exaggeration_iter=250, anneal_iter=0, n_iter=150,
                         initial_momentum=0.5, final_momentum=0.8, negative_gradient_method="bh", random_state=3)
    # the stopping rules' checks read the run but do not change it
    np.testing.assert_array_equal(est.fit_transform(X200), core.fit_transform(X200))


def test_learning_rate_auto_is_scikit_learns_rule(X200, digits):
    assert TSNE(random_state=0, **FAST).fit(X200).learning_rate_ == 50.0  # max(200 / 12 / 4, 50)
    est = TSNE(early_exaggeration=2.0, early_exaggeration_iter=0, max_iter=0).fit(digits[0][:600])
    assert est.learning_rate_ == 75.0  # 600 / 2 / 4


def test_numeric_learning_rate_is_reported_as_given(X200):
    assert TSNE(learning_rate=321.0, random_state=0, **FAST).fit(X200).learning_rate_ == 321.0


#: Small runs that scikit-learn's (NumPy) exact method does quickly too.
SMALL = dict(method="exact", perplexity=10.0, init="random", random_state=0)


def _frozen(**params):
    """Parameters whose steps are too small to move any point: the KL never improves."""
    return dict(SMALL, learning_rate=1e-300, **params)


def test_n_iter_without_progress_stops_a_stalled_run_where_scikit_learn_does(X200):
    # best KL at the main phase's first check (300); 450 is the first check more than 100 after it
    est = TSNE(**_frozen(n_iter_without_progress=100, min_grad_norm=0)).fit(X200[:60])
    assert est.n_iter_ == 450
    sk = SklearnTSNE(**_frozen(n_iter_without_progress=100, min_grad_norm=0)).fit(X200[:60])
    assert sk.n_iter_ + 1 == est.n_iter_  # scikit-learn reports the index of its last iteration


def test_n_iter_without_progress_minus_one_stops_at_the_first_check_without_progress(X200):
    assert TSNE(**_frozen(n_iter_without_progress=-1, min_grad_norm=0)).fit(X200[:60]).n_iter_ == 350


def test_min_grad_norm_ends_each_phase_at_its_first_check_where_scikit_learn_does(X200):
    est = TSNE(min_grad_norm=1e10, **SMALL).fit(X200[:60])
    assert est.n_iter_ == 100  # exploration stops at 50, the main phase at 100
    assert SklearnTSNE(min_grad_norm=1e10, **SMALL).fit(X200[:60]).n_iter_ + 1 == 100


def test_gradient_norm_checked_is_scikit_learns_scale_times_the_gains(digits):
    from fasttsne._sklearn_schedule import scaled_gradient_norm
    est = TSNE(method="exact", init="random", random_state=0, early_exaggeration_iter=0, max_iter=0)
    embedding = est.fit(digits[0][:120]).embedding_object_
    Y = np.array(embedding)
    P = squareform(embedding.P.toarray().astype(np.float64), checks=False)
    _, grad = _kl_divergence(Y.ravel(), P * 12.0, 1, len(Y), 2)
    gains = np.linspace(0.5, 2.0, Y.size).reshape(Y.shape)
    embedding.optimizer_state.gains[:] = gains
    assert scaled_gradient_norm(embedding, 12.0) == pytest.approx(np.linalg.norm(grad * gains.ravel()), rel=1e-6)


def test_callable_metric_gives_the_map_of_the_named_metric(X200):
    def manhattan(a, b):
        return np.abs(a - b).sum()
    named = TSNE(metric="manhattan", neighbors="exact", random_state=0, **FAST).fit(X200[:120])
    called = TSNE(metric=manhattan, random_state=0, **FAST).fit(X200[:120])
    np.testing.assert_allclose(called.embedding_object_.P.toarray(), named.embedding_object_.P.toarray(),
                               rtol=1e-5, atol=1e-12)


def test_metric_params_reach_the_metric(X200):
    minkowski1 = TSNE(metric="minkowski", metric_params={"p": 1}, neighbors="exact", random_state=0, **FAST)
    manhattan = TSNE(metric="manhattan", neighbors="exact", random_state=0, **FAST)
    np.testing.assert_allclose(minkowski1.fit(X200).embedding_object_.P.toarray(),
                               manhattan.fit(X200).embedding_object_.P.toarray(), rtol=1e-5, atol=1e-12)


def test_dense_precomputed_distances_give_the_affinities_of_the_features(X200):
    from_X = TSNE(init="random", neighbors="exact", random_state=0, **FAST).fit(X200)
    D = pairwise_distances(X200)
    from_D = TSNE(metric="precomputed", init="random", random_state=0, **FAST).fit(D)
    np.testing.assert_allclose(from_D.embedding_object_.P.toarray(), from_X.embedding_object_.P.toarray(),
                               rtol=1e-4, atol=1e-10)
    assert from_D.n_features_in_ == 200


def test_sparse_precomputed_neighbour_graph_gives_the_affinities_of_the_features(X200):
    from_X = TSNE(init="random", neighbors="exact", random_state=0, **FAST).fit(X200)
    graph = NearestNeighbors(n_neighbors=91).fit(X200).kneighbors_graph(mode="distance")
    from_graph = TSNE(metric="precomputed", init="random", random_state=0, **FAST).fit(graph)
    np.testing.assert_allclose(from_graph.embedding_object_.P.toarray(), from_X.embedding_object_.P.toarray(),
                               rtol=1e-4, atol=1e-10)


@pytest.mark.parametrize("make, init, message", [
    (lambda D: D, "pca", 'The parameter init="pca" cannot be used with metric="precomputed".'),
    (lambda D: D[:, :50], "random", "X should be a square distance matrix"),
    (lambda D: D - 1.0, "random", "TSNE.fit\\(\\). With metric='precomputed', X should contain positive distances."),
    (lambda D: sp.csr_matrix(D - 1.0), "random", "should contain positive distances"),
    (lambda D: sp.csr_matrix(D), "random", 'TSNE with method="exact" does not accept sparse precomputed'),
], ids=["pca-init", "not-square", "negative", "negative-sparse", "sparse-with-exact"])
def test_bad_precomputed_input_gets_scikit_learns_error(X200, make, init, message):
    D = pairwise_distances(X200[:60])
    with pytest.raises((ValueError, TypeError), match=message):
        TSNE(metric="precomputed", init=init, method="exact", **FAST).fit(make(D))
    with pytest.raises((ValueError, TypeError), match=message):
        SklearnTSNE(metric="precomputed", init=init, method="exact", perplexity=5).fit(make(D))


def test_init_array_is_used_as_given_and_not_modified(X200):
    Y0 = np.random.default_rng(0).normal(size=(200, 2))
    before = Y0.copy()
    est = TSNE(init=Y0, early_exaggeration_iter=0, max_iter=0).fit(X200)
    np.testing.assert_array_equal(est.embedding_, before)
    np.testing.assert_array_equal(Y0, before)


@pytest.mark.parametrize("init", ["pca", "random"])
def test_pca_and_random_init_start_at_scikit_learns_scale(X200, init):
    est = TSNE(init=init, random_state=0, early_exaggeration_iter=0, max_iter=0).fit(X200)
    assert np.std(est.embedding_[:, 0]) == pytest.approx(1e-4, rel=0.2)


def test_pca_init_starts_on_the_principal_components(X200):
    Y = TSNE(init="pca", early_exaggeration_iter=0, max_iter=0).fit_transform(X200)
    pcs = PCA(2).fit_transform(X200)
    for k in range(2):
        assert abs(np.corrcoef(Y[:, k], pcs[:, k])[0, 1]) > 0.999


def test_verbose_2_prints_scikit_learns_check_lines(X200, capsys):
    TSNE(verbose=2, random_state=0, max_iter=300).fit(X200)
    out = capsys.readouterr().out
    assert "[t-SNE] Iteration 50: error = " in out and "gradient norm = " in out
    assert "[t-SNE] KL divergence after 250 iterations with early exaggeration" in out
    assert "[t-SNE] KL divergence after 300 iterations" in out


def test_verbose_0_prints_nothing(X200, capsys):
    TSNE(random_state=0, **FAST).fit(X200)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("method, backend", [("barnes_hut", "BarnesHut"), ("exact", "ExactGradient"),
                                             ("fft", "FFTInterpolation")])
def test_method_selects_the_gradient(X200, method, backend):
    est = TSNE(method=method, angle=0.3, random_state=0, **FAST).fit(X200)
    gradient = est.embedding_object_.gradient
    assert type(gradient).__name__ == backend
    if method == "barnes_hut":
        assert gradient.theta == 0.3


def test_exact_method_uses_scikit_learns_affinities_over_all_pairs(X200):
    from sklearn.manifold._t_sne import _joint_probabilities
    X = X200[:120]
    est = TSNE(method="exact", early_exaggeration_iter=0, max_iter=0).fit(X)
    P_sklearn = squareform(_joint_probabilities(pairwise_distances(X, squared=True), 30.0, 0))
    np.testing.assert_allclose(est.embedding_object_.P.toarray(), P_sklearn, rtol=1e-3, atol=1e-9)


def test_exact_method_map_is_saved_and_loaded_with_its_affinities(X200, tmp_path):
    embedding = TSNE(method="exact", random_state=0, **FAST).fit(X200[:100]).embedding_object_
    embedding.save(tmp_path / "map.fts")
    again = fasttsne.load(tmp_path / "map.fts")
    assert (again.P != embedding.P).nnz == 0
    np.testing.assert_array_equal(again.transform(X200[100:110], random_state=0),
                                  embedding.transform(X200[100:110], random_state=0))


def test_barnes_hut_uses_the_affinities_of_3_perplexity_neighbours(X200):
    P = TSNE(method="barnes_hut", perplexity=10.0, early_exaggeration_iter=0, max_iter=0).fit(X200).embedding_object_.P
    assert P.getnnz(axis=1).min() >= 30 and P.getnnz() < 200 * 60


def test_barnes_hut_refuses_4_components_with_scikit_learns_message(X200):
    with pytest.raises(ValueError, match="'n_components' should be inferior to 4 for the barnes_hut"):
        TSNE(n_components=4, method="barnes_hut").fit(X200)


def test_n_jobs_reaches_the_embedding(X200):
    assert TSNE(n_jobs=2, early_exaggeration_iter=0, max_iter=0).fit(X200).embedding_object_.n_jobs == 2


def test_extra_fasttsne_keywords_reach_the_embedding(X200):
    est = TSNE(dof=0.6, random_state=0, **FAST).fit(X200)
    assert est.embedding_object_.dof == 0.6


@pytest.mark.parametrize("params, message", [
    ({"max_iter": 100}, r"'max_iter' parameter of TSNE must be an int in the range \[250, inf\)"),
    ({"learning_rate": "fast"}, r"'learning_rate' parameter of TSNE must be 'auto' or a float"),
    ({"learning_rate": 0.0}, r"'learning_rate' parameter of TSNE must be 'auto' or a float"),
    ({"method": "bh"}, r"'method' parameter of TSNE must be a str among"),
    ({"angle": 1.5}, r"'angle' parameter of TSNE must be a float in the range \[0, 1\]"),
    ({"init": "spectral"}, r"'init' parameter of TSNE must be"),
    ({"n_iter_without_progress": -2}, r"'n_iter_without_progress' parameter of TSNE must be an int"),
    ({"early_exaggeration": 0.5}, r"'early_exaggeration' parameter of TSNE must be a float in the range \[1"),
    ({"min_grad_norm": -1.0}, r"'min_grad_norm' parameter"),
    ({"verbose": -1}, r"'verbose' parameter"),
    ({"n_jobs": 0}, r"n_jobs"),
    ({"metric_params": [1]}, r"'metric_params' parameter"),
])
def test_bad_parameter_values_are_refused_before_any_work(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        TSNE(**params).fit(np.zeros((5, 3)))  # would fail later on: constant data is fine, 5 points too


# ------------------------------------------------------------------ inputs and fitted attributes
def test_fitted_attributes(X200):
    est = TSNE(random_state=0, **FAST)
    assert est.fit(X200) is est
    assert isinstance(est.embedding_, np.ndarray) and est.embedding_.shape == (200, 2)
    assert isinstance(est.embedding_object_, fasttsne.Embedding)
    np.testing.assert_array_equal(np.asarray(est.embedding_object_), est.embedding_)
    assert est.kl_divergence_ == est.embedding_object_.kl_divergence > 0
    assert est.n_iter_ == 50 and est.n_features_in_ == 64
    assert not hasattr(est, "feature_names_in_")


def test_dataframe_input_records_feature_names(X200):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X200, columns=[f"pixel{i}" for i in range(64)])
    est = TSNE(random_state=0, **FAST).fit(df)
    assert list(est.feature_names_in_) == list(df.columns)
    np.testing.assert_array_equal(est.embedding_, TSNE(random_state=0, **FAST).fit_transform(X200))


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_features_give_the_affinities_of_the_dense_array(X200, fmt):
    dense = TSNE(random_state=0, neighbors="exact", **FAST).fit(X200)
    sparse = TSNE(random_state=0, neighbors="exact", **FAST).fit(sp.csr_matrix(X200).asformat(fmt))
    np.testing.assert_allclose(sparse.embedding_object_.P.toarray(), dense.embedding_object_.P.toarray(),
                               rtol=1e-4, atol=1e-10)


def test_fit_transform_returns_the_fitted_embedding(X200):
    est = TSNE(random_state=0, **FAST)
    np.testing.assert_array_equal(est.fit_transform(X200[:100]), est.embedding_)


def test_fit_accepts_a_list_of_lists(X200):
    Y_list = TSNE(random_state=0, **FAST).fit_transform(X200[:100].tolist())
    np.testing.assert_array_equal(Y_list, TSNE(random_state=0, **FAST).fit_transform(X200[:100]))


# ------------------------------------------------------------------ transform
@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    est = TSNE(random_state=0, early_exaggeration_iter=20, max_iter=60).fit(X[:300])
    return est, X, y


def test_transform_places_new_points_next_to_their_class(fitted):
    est, X, y = fitted
    Y_new = est.transform(X[300:400])
    # a new point's nearest training points in the map mostly share its label
    d = ((Y_new[:, None, :] - est.embedding_[None, :, :]) ** 2).sum(-1)
    nearest = np.argsort(d, axis=1)[:, :5]
    votes = np.array([np.bincount(y[:300][row], minlength=10).argmax() for row in nearest])
    assert (votes == y[300:400]).mean() >= 0.85


def test_transform_does_not_move_the_fitted_embedding(fitted):
    est, X, _ = fitted
    before = est.embedding_.copy()
    est.transform(X[300:320])
    np.testing.assert_array_equal(est.embedding_, before)
    np.testing.assert_array_equal(np.asarray(est.embedding_object_), before)


def test_transform_params_reach_embedding_transform(fitted):
    est, X, _ = fitted
    moved = clone(est).set_params(transform_params={"n_iter": 0})
    moved.embedding_object_, moved.n_features_in_ = est.embedding_object_, est.n_features_in_
    # with no iterations the new points stay at their initial (median-of-neighbours) positions
    start = est.embedding_object_.prepare_partial(X[300:310])
    np.testing.assert_allclose(moved.transform(X[300:310]), np.asarray(start))


def test_transform_rejects_data_with_other_features(fitted):
    est, X, _ = fitted
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:10, :20])


def test_transform_of_precomputed_distances_to_the_training_points(X200):
    D = pairwise_distances(X200[:150])
    est = TSNE(metric="precomputed", init="random", random_state=0, **FAST).fit(D)
    Y_new = est.transform(pairwise_distances(X200[150:], X200[:150]))
    assert Y_new.shape == (50, 2) and np.all(np.isfinite(Y_new))


def test_set_output_pandas_gives_named_dataframes(fitted):
    pd = pytest.importorskip("pandas")
    est, X, _ = fitted
    est = clone(est).set_output(transform="pandas")
    Y = est.fit_transform(X[:150])
    assert isinstance(Y, pd.DataFrame) and list(Y.columns) == ["tsne0", "tsne1"]
    assert isinstance(est.transform(X[150:160]), pd.DataFrame)


def test_pipeline_after_scaler_and_pca_fits_and_transforms(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), PCA(20, random_state=0), TSNE(random_state=0, **FAST))
    Y = pipe.fit_transform(X[:300])
    assert Y.shape == (300, 2)
    assert knn_accuracy(Y, y[:300]) >= 0.8
    assert pipe.transform(X[300:350]).shape == (50, 2)


def test_get_params_set_params_and_clone_round_trip():
    est = TSNE(perplexity=12, dof=0.7, transform_params={"n_iter": 10})
    assert est.get_params()["perplexity"] == 12
    est.set_params(perplexity=20)
    copy = clone(est)
    assert copy is not est and copy.get_params() == est.get_params()


def test_pickled_estimator_transforms_like_the_original(fitted):
    est, X, _ = fitted
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.transform(X[300:310]), est.transform(X[300:310]))
