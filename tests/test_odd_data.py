"""Odd but valid data gives finite output for every backend, in fit and in transform.

Each case is tiny and runs a short schedule: the point is that nothing degenerate (zero
distances, zero variance, huge or tiny scales, a far outlier, fewer points than the
perplexity wants) produces NaN, infinity, a crash or a silent floating-point warning.
"""
import os
import tracemalloc
import warnings

import numpy as np
import pytest

import fasttsne

GRADIENTS = ["exact", "bh", "fft"]
slow = pytest.mark.skipif(not os.environ.get("FASTTSNE_SLOW_TESTS"),
                          reason="compiles pynndescent with numba (~1 min); set FASTTSNE_SLOW_TESTS=1")
NEIGHBORS = ["exact", "annoy", "rpforest", pytest.param("pynndescent", marks=slow)]
SHORT = dict(early_exaggeration_iter=20, n_iter=30, random_state=0)


def _odd_data():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(120, 5))
    constant_columns = base.copy()
    constant_columns[:, [1, 3]] = [7.0, -2.0]
    outlier = base.copy()
    outlier[0] += 1e6
    return {
        "many_duplicate_rows": np.repeat(base[:10], 12, axis=0),
        "all_points_identical": np.full((100, 5), 3.0),
        "constant_columns": constant_columns,
        "magnitude_1e6": base * 1e6,
        "magnitude_1e-6": base * 1e-6,
        "one_far_outlier": outlier,
        "fewer_points_than_3_perplexity": base[:40],
    }


ODD = _odd_data()
CASES = sorted(ODD)
_fits = {}


def fitted(case, gradient, neighbors="exact", n_components=2):
    """(Embedding, warnings raised while fitting), computed once per combination."""
    key = (case, gradient, neighbors, n_components)
    if key not in _fits:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            emb = fasttsne.TSNE(n_components=n_components, negative_gradient_method=gradient,
                                neighbors=neighbors, **SHORT).fit(ODD[case])
        _fits[key] = emb, caught
    return _fits[key]


@pytest.fixture
def no_neighbour_search(monkeypatch):
    """Make any neighbour search fail: a refusal under test must come before that work."""
    def search(*args, **kwargs):
        raise AssertionError("neighbours were searched before the refusal")

    monkeypatch.setattr(fasttsne.affinity.PerplexityBasedNN, "fit", search)


def floating_point_warnings(caught):
    return [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]


# ------------------------------------------------------------------ fit, every backend pair
@pytest.mark.parametrize("neighbors", NEIGHBORS)
@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize("case", CASES)
def test_fit_gives_finite_positions_of_the_right_shape(case, gradient, neighbors):
    emb, _ = fitted(case, gradient, neighbors)
    Y = np.asarray(emb)
    assert Y.shape == (ODD[case].shape[0], 2)
    assert np.all(np.isfinite(Y))


@pytest.mark.parametrize("neighbors", NEIGHBORS)
@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize("case", CASES)
def test_fit_reports_a_finite_kl_divergence(case, gradient, neighbors):
    emb, _ = fitted(case, gradient, neighbors)
    assert np.isfinite(emb.kl_divergence) and emb.kl_divergence >= -1e-9


@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize("case", CASES)
def test_fit_raises_no_floating_point_warning(case, gradient):
    _, caught = fitted(case, gradient)
    assert floating_point_warnings(caught) == []


@pytest.mark.parametrize("gradient", GRADIENTS)
def test_fewer_points_than_3_perplexity_lowers_the_perplexity_with_a_warning(gradient):
    _, caught = fitted("fewer_points_than_3_perplexity", gradient)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("perplexity 30 is too large for 40 points" in m for m in messages)


def test_distinct_points_stay_distinct_when_all_points_are_identical_but_one():
    X = np.zeros((60, 3))
    X[0] = 1.0
    Y = fasttsne.TSNE(perplexity=10, negative_gradient_method="exact", **SHORT).fit_transform(X)
    assert np.all(np.isfinite(Y))
    assert np.linalg.norm(Y[0] - np.median(Y[1:], axis=0)) > 0


# ------------------------------------------------------------------ 1-D and 3-D embeddings
@pytest.mark.parametrize("gradient, n_components", [("exact", 1), ("exact", 3), ("bh", 1), ("bh", 3),
                                                    ("fft", 1), ("fft", 3)])
@pytest.mark.parametrize("case", CASES)
def test_one_and_three_dimensional_embeddings_are_finite(case, gradient, n_components):
    emb, _ = fitted(case, gradient, n_components=n_components)
    Y = np.asarray(emb)
    assert Y.shape == (ODD[case].shape[0], n_components)
    assert np.all(np.isfinite(Y)) and np.isfinite(emb.kl_divergence)


def test_fft_refuses_four_dimensional_embeddings_before_any_work(no_neighbour_search):
    with pytest.raises(ValueError, match=r"'fft' supports at most 3-D embeddings, got n_components=4; "
                                         r"use 'exact'"):
        fasttsne.TSNE(n_components=4, negative_gradient_method="fft", **SHORT).fit(ODD["constant_columns"])


# ------------------------------------------------------------------ transform into odd references
def _new_points(case, kind):
    X = ODD[case]
    if kind == "duplicates_of_reference_points":
        return np.vstack([X[:3], X[:3]])
    if kind == "far_outlier":
        return X[:1] + 1e6 * (1.0 + np.abs(X).max())
    if kind == "all_identical":
        return np.repeat(X.mean(axis=0, keepdims=True), 5, axis=0)
    raise ValueError(kind)


NEW_KINDS = ["duplicates_of_reference_points", "far_outlier", "all_identical"]


@pytest.mark.parametrize("kind", NEW_KINDS)
@pytest.mark.parametrize("gradient", GRADIENTS)
@pytest.mark.parametrize("case", CASES)
def test_transform_of_odd_new_points_is_finite(case, gradient, kind):
    emb, _ = fitted(case, gradient)
    X_new = _new_points(case, kind)
    Y = emb.transform(X_new, n_iter=30)
    assert Y.shape == (X_new.shape[0], 2)
    assert np.all(np.isfinite(Y))


@pytest.mark.parametrize("kind", NEW_KINDS)
@pytest.mark.parametrize("case", CASES)
def test_transform_kl_is_finite_without_floating_point_warnings(case, kind):
    emb, _ = fitted(case, "bh")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        partial = emb.prepare_partial(_new_points(case, kind)).optimize(20)
    assert np.isfinite(partial.kl_divergence)


@pytest.mark.parametrize("neighbors", NEIGHBORS)
@pytest.mark.parametrize("kind", NEW_KINDS)
def test_transform_through_each_neighbour_backend_is_finite(neighbors, kind):
    emb, _ = fitted("many_duplicate_rows", "bh", neighbors)
    Y = emb.transform(_new_points("many_duplicate_rows", kind), n_iter=30)
    assert np.all(np.isfinite(Y))


# ------------------------------------------------------------------ sizes
def test_exact_neighbour_search_memory_grows_linearly_not_quadratically(monkeypatch):
    """Exact search never holds the N x N distances, only blocks of BLOCK_ENTRIES of them,
    so its cost at large N is time (O(N^2 D)), not memory."""
    from fasttsne.neighbors import Exact, exact
    monkeypatch.setattr(exact, "BLOCK_ENTRIES", 2 ** 16)

    def peak_bytes(n):
        X = np.random.default_rng(0).normal(size=(n, 3))
        tracemalloc.start()
        try:
            Exact().build(X, 10)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = peak_bytes(3000), peak_bytes(6000)
    assert large < 2.5 * small  # quadratic would be 4x
    assert large < 6000 * 6000 * 4 / 4  # a quarter of the float32 distance matrix


def test_exact_gradient_refuses_too_many_points_before_searching_neighbours(no_neighbour_search):
    from fasttsne.gradients.exact import MAX_EXACT_SAMPLES
    X = np.zeros((MAX_EXACT_SAMPLES + 1, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"negative_gradient_method='exact' is O\(N\^2\).*use 'fft' or 'bh'"):
        fasttsne.TSNE(negative_gradient_method="exact").fit(X)


def test_too_many_points_for_a_4d_embedding_are_refused_saying_the_dimension_is_the_obstacle(
        no_neighbour_search):
    # beyond 3-D "auto" has only the exact gradient, so 'bh' and 'fft' are no way out
    from fasttsne.gradients.exact import MAX_EXACT_SAMPLES
    X = np.zeros((MAX_EXACT_SAMPLES + 1, 1), dtype=np.float32)
    with pytest.raises(ValueError, match=r"O\(N\^2\).*need n_components <= 3, got 4"):
        fasttsne.TSNE(n_components=4).fit(X)
