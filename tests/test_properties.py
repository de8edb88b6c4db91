"""Property tests: over shapes, dtypes, scales and memory layouts, ``fit`` and ``transform``
give finite output of the right shape and leave the caller's data exactly as it was.

Examples are derandomised (the same ones every run) and few, with tiny schedules, so the
file stays fast; a failing example is printed by hypothesis and can be pasted into a test.
"""
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import fasttsne

#: FASTTSNE_HYPOTHESIS_EXAMPLES=500 explores more (still derandomised, so reproducible).
SETTINGS = settings(max_examples=int(os.environ.get("FASTTSNE_HYPOTHESIS_EXAMPLES", 25)), deadline=None,
                    derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.float64, np.float32, np.int32, np.uint8, np.bool_, np.float16]
LAYOUTS = ["C", "F", "strided"]
FAST_FIT = dict(n_iter=10, early_exaggeration_iter=10, neighbors="exact", random_state=0)
#: The transform reference: 40 points with 4 features.
REF_FEATURES = 4


def _cast(values, dtype):
    """``values`` (float64, any scale) in ``dtype`` as a user would hold them there.

    Integer and bool arrays hold the rounded (clipped) values; float16 clips to its range,
    because values beyond it are infinite, which is invalid input rather than odd input.
    """
    if dtype == np.bool_:
        return values > np.median(values)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return np.clip(np.rint(values), info.min, info.max).astype(dtype)
    if dtype == np.float16:
        big = float(np.finfo(np.float16).max)
        return np.clip(values, -big, big).astype(np.float16)
    return values.astype(dtype)


def _laid_out(A, layout):
    """``A`` as a C-ordered, Fortran-ordered or strided (every other row and column) array."""
    if layout == "C":
        return np.ascontiguousarray(A)
    if layout == "F":
        return np.asfortranarray(A)
    big = np.zeros((2 * A.shape[0], 2 * A.shape[1]), dtype=A.dtype)
    big[::2, ::2] = A
    view = big[::2, ::2]
    assert not view.flags.c_contiguous and not view.flags.f_contiguous
    return view


@st.composite
def data(draw, n_samples, n_features):
    """(array, description) with the drawn shape, dtype, scale and layout."""
    n = draw(n_samples)
    d = draw(n_features)
    dtype = draw(st.sampled_from(DTYPES))
    scale = 10.0 ** draw(st.integers(-6, 6))
    layout = draw(st.sampled_from(LAYOUTS))
    seed = draw(st.integers(0, 2 ** 16))
    values = np.random.default_rng(seed).normal(size=(n, d)) * scale
    X = _laid_out(_cast(values, dtype), layout)
    return X, f"{n}x{d} {np.dtype(dtype).name} scale {scale:g} {layout}"


def _flags(A):
    return (A.flags.c_contiguous, A.flags.f_contiguous, A.flags.writeable, A.dtype, A.shape, A.strides)


@pytest.fixture(scope="module")
def reference():
    X = np.random.default_rng(1).normal(size=(40, REF_FEATURES))
    return fasttsne.TSNE(perplexity=5, **FAST_FIT).fit(X)


@SETTINGS
@given(sample=data(st.integers(5, 60), st.integers(1, 8)),
       method=st.sampled_from(["exact", "bh", "fft"]),
       n_components=st.integers(1, 3))
def test_fit_gives_finite_positions_and_leaves_the_data_unchanged(sample, method, n_components):
    X, what = sample
    if method == "fft":
        n_components = min(n_components, 2)
    before, flags = X.copy(), _flags(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # perplexity lowered for small N
        emb = fasttsne.TSNE(n_components=n_components, negative_gradient_method=method,
                            **FAST_FIT).fit(X)
    Y = np.asarray(emb)
    assert Y.shape == (X.shape[0], n_components), what
    assert np.all(np.isfinite(Y)), what
    assert np.isfinite(emb.kl_divergence), what
    assert np.array_equal(X, before) and _flags(X) == flags, what


@SETTINGS
@given(sample=data(st.integers(1, 20), st.just(REF_FEATURES)))
def test_transform_gives_finite_positions_and_leaves_the_new_data_unchanged(reference, sample):
    X_new, what = sample
    before, flags = X_new.copy(), _flags(X_new)
    positions = np.array(reference)
    Y = reference.transform(X_new, n_iter=10)
    assert Y.shape == (X_new.shape[0], 2), what
    assert np.all(np.isfinite(Y)), what
    assert np.array_equal(X_new, before) and _flags(X_new) == flags, what
    assert np.array_equal(np.asarray(reference), positions), what


@SETTINGS
@given(sample=data(st.integers(2, 40), st.integers(1, 6)), method=st.sampled_from(["exact", "bh", "fft"]))
def test_placing_reference_rows_back_into_their_own_map_is_finite(sample, method):
    # a new point at distance 0 from a reference point, in a tiny map whose perplexity cannot
    # be reached, gets exact zeros for its other neighbours: they must not turn the KL into NaN
    X, what = sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        emb = fasttsne.TSNE(negative_gradient_method=method, **FAST_FIT).fit(X)
        partial = emb.prepare_partial(X[:3]).optimize(10)
    assert np.all(np.isfinite(np.asarray(partial))), what
    assert np.isfinite(partial.kl_divergence), what
