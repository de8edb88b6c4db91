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


# ------------------------------------------------------------------ input kinds
DETERMINISTIC = dict(n_iter=30, early_exaggeration_iter=20, neighbors="exact", initialization="pca",
                     random_state=0)


@pytest.fixture(scope="module")
def kinds_data():
    return np.random.default_rng(2).normal(size=(150, 6))


@pytest.fixture(scope="module")
def plain_embeddings(kinds_data):
    """The embedding of the C-contiguous float64 array, per gradient backend."""
    return {method: np.asarray(fasttsne.TSNE(negative_gradient_method=method, **DETERMINISTIC).fit(kinds_data))
            for method in ("exact", "bh", "fft")}


def _as_dataframe(X, tmp_path):
    pd = pytest.importorskip("pandas")
    # built column by column, pandas stores the values Fortran-ordered
    return pd.DataFrame({f"feature{j}": X[:, j] for j in range(X.shape[1])})


def _as_memmap(X, tmp_path):
    path = tmp_path / "X.dat"
    writer = np.memmap(path, dtype=np.float64, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    del writer
    return np.memmap(path, dtype=np.float64, mode="r", shape=X.shape)


def _as_fortran(X, tmp_path):
    return np.asfortranarray(X)


def _as_strided_slice(X, tmp_path):
    big = np.zeros((2 * X.shape[0], 2 * X.shape[1]))
    big[::2, ::2] = X
    return big[::2, ::2]


INPUT_KINDS = {"pandas_dataframe": _as_dataframe, "memmap": _as_memmap, "fortran_ordered": _as_fortran,
               "strided_slice": _as_strided_slice}


def _snapshot(A):
    """A copy of the values, and what describes the container (layout and flags, or dtypes)."""
    values = np.array(A, copy=True)
    if isinstance(A, np.ndarray):
        return values, (type(A), A.flags.c_contiguous, A.flags.f_contiguous, A.flags.writeable, A.strides)
    return values, (type(A), tuple(A.dtypes), tuple(A.columns))


@pytest.mark.parametrize("method", ["exact", "bh", "fft"])
@pytest.mark.parametrize("kind", sorted(INPUT_KINDS))
def test_input_kind_gives_exactly_the_embedding_of_the_plain_array(kinds_data, plain_embeddings, tmp_path,
                                                                   kind, method):
    X = INPUT_KINDS[kind](kinds_data, tmp_path)
    Y = np.asarray(fasttsne.TSNE(negative_gradient_method=method, **DETERMINISTIC).fit(X))
    assert np.array_equal(Y, plain_embeddings[method])


@pytest.mark.parametrize("kind", sorted(INPUT_KINDS))
def test_input_kind_is_left_unchanged(kinds_data, tmp_path, kind):
    X = INPUT_KINDS[kind](kinds_data, tmp_path)
    values, flags = _snapshot(X)
    fasttsne.TSNE(negative_gradient_method="bh", **DETERMINISTIC).fit(X)
    after_values, after_flags = _snapshot(X)
    assert np.array_equal(after_values, values) and after_flags == flags


@pytest.mark.parametrize("method", ["exact", "bh"])
def test_sparse_csr_with_exact_euclidean_neighbours_gives_the_embedding_of_the_dense_array(
        kinds_data, plain_embeddings, method):
    # equal to rounding, not bitwise: sparse products and the sparse PCA sum in another order
    X = sp.csr_matrix(kinds_data)
    before = X.copy()
    Y = np.asarray(fasttsne.TSNE(negative_gradient_method=method, metric="euclidean",
                                 **DETERMINISTIC).fit(X))
    scale = np.abs(plain_embeddings[method]).max()
    np.testing.assert_allclose(Y, plain_embeddings[method], rtol=0, atol=1e-9 * scale)
    assert (X != before).nnz == 0


# ------------------------------------------------------------------ transform input
@pytest.fixture(scope="module")
def small_reference(kinds_data):
    return fasttsne.TSNE(negative_gradient_method="bh", **DETERMINISTIC).fit(kinds_data)


def test_transform_of_a_one_dimensional_new_point_is_rejected_with_a_reshape_hint(small_reference, kinds_data):
    with pytest.raises(ValueError, match=r"X_new must be 2-D.*reshape\(1, -1\) for one sample"):
        small_reference.transform(kinds_data[0])


def test_transform_of_a_three_dimensional_array_is_rejected(small_reference):
    with pytest.raises(ValueError, match="X_new must be 2-D"):
        small_reference.transform(np.zeros((2, 6, 1)))


def test_transform_of_zero_new_points_is_rejected(small_reference):
    with pytest.raises(ValueError, match=r"X_new has 0 sample\(s\)"):
        small_reference.transform(np.zeros((0, 6)))


@pytest.mark.parametrize("dtype", [np.int32, np.float32])
def test_transform_accepts_integer_and_float32_new_points(small_reference, kinds_data, dtype):
    X_new = (kinds_data[:8] * 4).astype(dtype)
    same_values = X_new.astype(np.float64)
    assert np.array_equal(small_reference.transform(X_new, n_iter=20),
                          small_reference.transform(same_values, n_iter=20))


def test_transform_accepts_a_dataframe(small_reference, kinds_data, tmp_path):
    X_new = kinds_data[:8] + 0.1
    frame = _as_dataframe(X_new, tmp_path)
    assert np.array_equal(small_reference.transform(frame, n_iter=20), small_reference.transform(X_new, n_iter=20))


def test_unknown_transform_initialization_is_rejected_listing_the_valid_names(small_reference, kinds_data):
    with pytest.raises(ValueError, match="initialization must be one of 'median', 'weighted', 'random' or an array of positions, got 'pca'"):
        small_reference.transform(kinds_data[:3], initialization="pca")


# ------------------------------------------------------------------ unknown names
@pytest.mark.parametrize("neighbors", ["exact", "annoy", "rpforest", "auto"])
def test_unknown_metric_is_rejected_listing_the_valid_metrics(X, neighbors):
    with pytest.raises(ValueError, match=r"does not support metric 'eucldean'; it supports: .*euclidean"):
        fasttsne.TSNE(metric="eucldean", neighbors=neighbors, **FAST).fit(X)


def test_a_metric_that_is_not_a_string_or_callable_is_rejected_with_type_error(X):
    with pytest.raises(TypeError, match="metric must be a string or a callable"):
        fasttsne.TSNE(metric=2, neighbors="exact", **FAST).fit(X)
