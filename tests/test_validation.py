"""Bad input gets a clear error; the caller's data is never modified."""
import numpy as np
import pytest
import scipy.sparse as sp

import fasttsne

FAST = dict(n_iter=5, early_exaggeration_iter=5, random_state=0)


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(100, 4))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_values_are_rejected_naming_count_and_row(X, bad):
    X[7, 2] = bad
    X[9, 0] = bad
    with pytest.raises(ValueError, match=r"contains 2 NaN or infinite value\(s\) \(first in row 7\)"):
        fasttsne.TSNE(**FAST).fit(X)


def test_one_dimensional_input_is_rejected_with_a_reshape_hint():
    with pytest.raises(ValueError, match=r"must be 2-D.*reshape\(-1, 1\)"):
        fasttsne.TSNE(**FAST).fit(np.arange(10.0))


def test_three_dimensional_input_is_rejected():
    with pytest.raises(ValueError, match="must be 2-D"):
        fasttsne.TSNE(**FAST).fit(np.zeros((5, 2, 2)))


def test_a_single_point_is_rejected():
    with pytest.raises(ValueError, match="needs at least 2"):
        fasttsne.TSNE(**FAST).fit(np.zeros((1, 3)))


def test_zero_features_are_rejected():
    with pytest.raises(ValueError, match="at least one column"):
        fasttsne.TSNE(**FAST).fit(np.zeros((10, 0)))


def test_complex_input_is_rejected_with_type_error():
    with pytest.raises(TypeError, match="complex"):
        fasttsne.TSNE(**FAST).fit(np.ones((10, 2), dtype=complex))


def test_object_input_is_rejected_with_type_error():
    with pytest.raises(TypeError, match="not numeric"):
        fasttsne.TSNE(**FAST).fit(np.array([["a", "b"]] * 10, dtype=object))


def test_sparse_input_to_a_dense_only_backend_is_rejected(X):
    with pytest.raises((TypeError, ValueError), match="sparse"):
        fasttsne.TSNE(neighbors="annoy", **FAST).fit(sp.csr_matrix(X))


def test_read_only_input_is_accepted_and_left_unchanged(X):
    X.setflags(write=False)
    before = X.copy()
    fasttsne.TSNE(**FAST).fit(X)
    assert np.array_equal(X, before)


def test_float32_input_is_not_modified(X):
    X32 = X.astype(np.float32)
    before = X32.copy()
    fasttsne.TSNE(**FAST).fit(X32)
    assert np.array_equal(X32, before) and X32.dtype == np.float32


def test_initialization_array_is_not_modified(X):
    init = np.random.default_rng(1).normal(size=(100, 2))
    before = init.copy()
    fasttsne.TSNE(initialization=init, **FAST).fit(X)
    assert np.array_equal(init, before)


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.bool_, np.float16])
def test_integer_bool_and_half_inputs_are_accepted(X, dtype):
    Y = fasttsne.TSNE(**FAST).fit_transform((np.abs(X) * 3).astype(dtype))
    assert np.all(np.isfinite(Y))


def test_lists_are_accepted(X):
    assert fasttsne.TSNE(**FAST).fit_transform(X.tolist()).shape == (100, 2)


@pytest.mark.parametrize("n", [2, 3])
def test_two_and_three_points_give_finite_output(n):
    with pytest.warns(UserWarning, match="perplexity"):
        Y = fasttsne.TSNE(**FAST).fit_transform(np.arange(n * 3, dtype=float).reshape(n, 3))
    assert Y.shape == (n, 2) and np.all(np.isfinite(Y))
