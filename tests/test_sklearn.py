"""fasttsne.sklearn.TSNE: a scikit-learn transformer that passes scikit-learn's own checks."""
import inspect
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", minversion="1.6")
from sklearn.base import clone  # noqa: E402
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fasttsne  # noqa: E402
from fasttsne.sklearn import TSNE  # noqa: E402
from quality import knn_accuracy  # noqa: E402

#: A short schedule: scikit-learn's checks fit dozens of times on 10-150 points.
FAST = dict(early_exaggeration_iter=20, n_iter=30)

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


def test_estimator_exposes_every_parameter_of_the_core_tsne():
    core = set(inspect.signature(fasttsne.TSNE.__init__).parameters) - {"self"}
    wrapper = set(inspect.signature(TSNE.__init__).parameters) - {"self"}
    assert wrapper - core == {"transform_params"}
    assert core <= wrapper


def test_estimator_defaults_match_the_core_tsne():
    core = fasttsne.TSNE()
    for name, value in TSNE().get_params().items():
        if name != "transform_params":
            assert getattr(core, name) == value, name


@pytest.fixture(scope="module")
def fitted(digits):
    X, y = digits
    est = TSNE(random_state=0, **FAST).fit(X[:300])
    return est, X, y


def test_fit_returns_self_with_the_embedding_as_an_array(digits):
    X, _ = digits
    est = TSNE(random_state=0, **FAST)
    assert est.fit(X[:100]) is est
    assert isinstance(est.embedding_, np.ndarray) and est.embedding_.shape == (100, 2)
    assert isinstance(est.model_, fasttsne.Embedding)
    assert est.n_features_in_ == 64 and est.n_iter_ == 50


def test_fit_transform_returns_the_fitted_embedding(digits):
    X, _ = digits
    est = TSNE(random_state=0, **FAST)
    Y = est.fit_transform(X[:100])
    np.testing.assert_array_equal(Y, est.embedding_)


def test_fit_transform_equals_the_core_tsne_with_the_same_parameters(digits):
    X, _ = digits
    Y = TSNE(random_state=1, **FAST).fit_transform(X[:150])
    np.testing.assert_array_equal(Y, fasttsne.TSNE(random_state=1, **FAST).fit_transform(X[:150]))


def test_fit_accepts_a_list_of_lists(digits):
    X, _ = digits
    Y_list = TSNE(random_state=0, **FAST).fit_transform(X[:100].tolist())
    np.testing.assert_array_equal(Y_list, TSNE(random_state=0, **FAST).fit_transform(X[:100]))


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
    np.testing.assert_array_equal(np.asarray(est.model_), before)


def test_transform_params_reach_embedding_transform(fitted):
    est, X, _ = fitted
    moved = clone(est).set_params(transform_params={"n_iter": 0})
    moved.model_, moved.n_features_in_ = est.model_, est.n_features_in_
    # with no iterations the new points stay at their initial (median-of-neighbours) positions
    start = est.model_.prepare_partial(X[300:310])
    np.testing.assert_allclose(moved.transform(X[300:310]), np.asarray(start))


def test_transform_rejects_data_with_other_features(fitted):
    est, X, _ = fitted
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:10, :20])


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
