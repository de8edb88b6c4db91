"""Data of any magnitude gives the map of the same data at unit scale: the neighbour models
divide data far from 1 by a power of two before computing distances (fasttsne._scale), keep
that factor with the map (also in a saved file) and divide new points by it too."""
import numpy as np
import pytest
import scipy.sparse as sp

import fasttsne
from fasttsne import _scale
from fasttsne.affinity import FixedSigmaNN, PerplexityBasedNN
from fasttsne.initialization import pca

#: Magnitudes at which squared distances overflow (or underflow) float64, and float32 entirely.
FAR_SCALES = [1e200, 1e-200]
#: Such magnitudes as powers of two: they change only the data's exponents, which the search
#: and the calibration follow exactly once the data is rescaled, so the affinities must be
#: bitwise those of the data itself (1e200 also changes the data's last bits, which may swap
#: two nearly tied k-th neighbours).
EXACT_FAR_SCALES = [2.0 ** 664, 2.0 ** -664]


def _data(n=120, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _fit(X, neighbors="exact", **params):
    return fasttsne.TSNE(n_iter=30, early_exaggeration_iter=20, perplexity=10, neighbors=neighbors,
                         random_state=0, **params).fit(X)


def _place(embedding, X_new):
    return embedding.transform(X_new, n_iter=10, random_state=0)


@pytest.mark.parametrize("exponent", [640, -640])
def test_data_multiplied_by_a_whole_number_of_exponent_steps_gives_the_same_map_bitwise(exponent):
    X = _data()
    assert exponent % _scale.EXPONENT_STEP == 0
    factor = np.ldexp(1.0, exponent)
    plain, scaled = _fit(X), _fit(X * factor)
    np.testing.assert_array_equal(np.asarray(scaled), np.asarray(plain))
    np.testing.assert_array_equal(_place(scaled, X[:4] * factor), _place(plain, X[:4]))


@pytest.mark.parametrize("scale", FAR_SCALES)
def test_data_far_from_unit_scale_gives_the_map_of_the_unit_scale_data(scale):
    X = _data()
    plain, scaled = _fit(X), _fit(X * scale)
    np.testing.assert_allclose(np.asarray(scaled), np.asarray(plain), rtol=0, atol=1e-9)
    np.testing.assert_allclose(_place(scaled, X[:4] * scale), _place(plain, X[:4]), rtol=0, atol=1e-9)


@pytest.mark.parametrize("neighbors", ["exact", "annoy", "rpforest"])
@pytest.mark.parametrize("scale", FAR_SCALES)
def test_every_dense_backend_finds_the_unit_scale_affinities_of_far_scaled_data(neighbors, scale):
    X = _data()
    expected = PerplexityBasedNN(10, neighbors=neighbors, random_state=0).fit(X).P
    P = PerplexityBasedNN(10, neighbors=neighbors, random_state=0).fit(X * scale).P
    # Annoy keeps float32 coordinates: the rescaled data rounds to float32 a little differently
    np.testing.assert_allclose(P.toarray(), expected.toarray(), rtol=0, atol=1e-7)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "manhattan", "chebyshev", "cosine",
                                    "correlation"])
def test_each_homogeneous_metric_gives_the_unit_scale_affinities_of_far_scaled_data(metric):
    X = _data()
    expected = PerplexityBasedNN(10, neighbors="exact", metric=metric).fit(X).P
    for scale in EXACT_FAR_SCALES:
        P = PerplexityBasedNN(10, neighbors="exact", metric=metric).fit(X * scale).P
        np.testing.assert_array_equal(P.toarray(), expected.toarray())


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_sparse_data_far_from_unit_scale_gives_the_unit_scale_affinities(metric):
    X = sp.random(120, 30, density=0.2, random_state=0, format="csr")
    expected = PerplexityBasedNN(10, neighbors="exact", metric=metric).fit(X).P
    for scale in EXACT_FAR_SCALES:
        P = PerplexityBasedNN(10, neighbors="exact", metric=metric).fit(X * scale).P
        np.testing.assert_array_equal(P.toarray(), expected.toarray())


def test_precomputed_distances_far_from_unit_scale_give_the_unit_scale_affinities():
    X = _data()
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(axis=-1))
    expected = PerplexityBasedNN(10, metric="precomputed").fit(D).P
    for scale in EXACT_FAR_SCALES:
        P = PerplexityBasedNN(10, metric="precomputed").fit(D * scale).P
        np.testing.assert_array_equal(P.toarray(), expected.toarray())


def test_fixed_sigma_stays_in_the_units_of_the_data_as_given():
    X = _data()
    expected = FixedSigmaNN(1.5, neighbors="exact").fit(X)
    for scale in FAR_SCALES:
        model = FixedSigmaNN(1.5 * scale, neighbors="exact").fit(X * scale)
        np.testing.assert_allclose(model.P.toarray(), expected.P.toarray(), rtol=1e-6, atol=0)
        np.testing.assert_allclose(model.to_new(X[:3] * scale).toarray(), expected.to_new(X[:3]).toarray(),
                                   rtol=1e-12, atol=0)


@pytest.mark.parametrize("scale", FAR_SCALES)
def test_pca_initialisation_of_far_scaled_data_equals_that_of_the_unit_scale_data(scale):
    X = _data()
    np.testing.assert_allclose(pca(X * scale), pca(X), rtol=1e-9, atol=0)


def test_the_scale_is_saved_with_the_map_and_applied_to_new_points_after_loading(tmp_path):
    X = _data() * 1e200
    embedding = _fit(X)
    assert embedding.affinities.scale_exponent_ == 640
    embedding.save(tmp_path / "far.tsne")
    loaded = fasttsne.load(tmp_path / "far.tsne")
    assert loaded.affinities.scale_exponent_ == 640
    np.testing.assert_array_equal(_place(loaded, X[:4]), _place(embedding, X[:4]))


def test_data_of_ordinary_magnitude_is_used_as_given():
    for X in (_data(), _data() * 1e9, _data() * 1e-9, np.arange(40.0).reshape(20, 2)):
        assert _scale.scale_exponent(X) == 0
        assert _scale.rescaled(X, 0) is X


def test_the_exponent_brings_the_largest_entry_into_the_safe_range_for_every_float64_magnitude():
    half = _scale.EXPONENT_STEP // 2
    for m in (5e-324, 2.2e-308, 1e-200, 2.0 ** -33, 2.0 ** 32, 1e200, np.finfo(np.float64).max):
        e = _scale.scale_exponent(np.array([[m, -m / 3]]))
        assert 2.0 ** -half <= np.ldexp(m, -e) < 2.0 ** half, m
        assert _scale.check_exponent(e) == e


def test_the_callers_far_scaled_data_is_not_modified():
    X = _data() * 1e200
    before = X.copy()
    _fit(X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("scale", FAR_SCALES)
def test_the_quality_report_of_far_scaled_data_equals_that_of_the_unit_scale_data(scale):
    X = _data()
    embedding = _fit(X)
    far, plain = embedding.quality(X * scale).to_dict(), embedding.quality(X).to_dict()
    assert far.keys() == plain.keys()
    for name, value in plain.items():
        if isinstance(value, float):
            assert far[name] == pytest.approx(value, rel=1e-12, abs=0), name
        else:
            assert far[name] == value, name
