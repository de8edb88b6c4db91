"""Placing new points into a fixed reference map."""
import numpy as np
import pytest

import fasttsne
from fasttsne.partial import PartialEmbedding

FEW = dict(n_iter=60)


@pytest.fixture(scope="module")
def reference(digits):
    X, y = digits
    emb = fasttsne.TSNE(random_state=0, n_jobs=2).fit(X[:1400])
    return emb, X[1400:], y[:1400], y[1400:]


def test_transform_returns_positions_of_the_new_points(reference):
    emb, X_new, _, _ = reference
    Y = emb.transform(X_new[:50], **FEW)
    assert isinstance(Y, np.ndarray) and Y.shape == (50, 2) and np.all(np.isfinite(Y))


def test_transform_never_modifies_the_reference(reference):
    emb, X_new, _, _ = reference
    positions = np.array(emb)
    P = emb.P.copy()
    gains, update, n_iter = emb.optimizer_state.gains.copy(), emb.optimizer_state.update.copy(), emb.n_iter
    emb.transform(X_new[:50], **FEW)
    assert np.array_equal(np.asarray(emb), positions)
    assert (emb.P != P).nnz == 0
    assert np.array_equal(emb.optimizer_state.gains, gains)
    assert np.array_equal(emb.optimizer_state.update, update) and emb.n_iter == n_iter


def test_a_batch_is_placed_exactly_as_its_points_one_by_one(reference):
    emb, X_new, _, _ = reference
    batch = emb.transform(X_new[:6], **FEW)
    single = np.vstack([emb.transform(X_new[i:i + 1], **FEW) for i in range(6)])
    np.testing.assert_allclose(batch, single, rtol=0, atol=1e-12)


def test_new_digits_land_among_reference_digits_of_their_class(reference):
    from scipy.spatial import cKDTree
    emb, X_new, y_ref, y_new = reference
    Y = emb.transform(X_new)
    votes = y_ref[cKDTree(np.asarray(emb)).query(Y, 10)[1]]
    pred = np.array([np.bincount(v).argmax() for v in votes])
    assert (pred == y_new).mean() >= 0.9


def test_reference_points_transformed_land_next_to_themselves(reference, digits):
    emb, _, _, _ = reference
    X, _ = digits
    Y = emb.transform(X[:100], **FEW)
    spread = np.asarray(emb).std()
    assert np.median(np.linalg.norm(Y - np.asarray(emb)[:100], axis=1)) < 0.1 * spread


def test_feature_count_must_match_the_reference(reference):
    emb, X_new, _, _ = reference
    with pytest.raises(ValueError, match="X_new has 63 features but the reference was fitted on 64"):
        emb.transform(X_new[:5, :63])


def test_non_finite_new_points_are_rejected(reference):
    emb, X_new, _, _ = reference
    bad = X_new[:5].copy()
    bad[2, 3] = np.nan
    with pytest.raises(ValueError, match=r"X_new contains 1 NaN or infinite value\(s\) \(first in row 2\)"):
        emb.transform(bad)


def test_prepare_partial_gives_an_optimisable_partial_embedding(reference):
    emb, X_new, _, _ = reference
    partial = emb.prepare_partial(X_new[:20])
    assert isinstance(partial, PartialEmbedding) and partial.shape == (20, 2)
    before = np.array(partial)
    moved = partial.optimize(30)
    assert np.array_equal(np.asarray(partial), before)
    assert moved.n_iter == 30 and not np.array_equal(np.asarray(moved), before)


def test_partial_optimisation_lowers_its_kl(reference):
    emb, X_new, _, _ = reference
    partial = emb.prepare_partial(X_new[:40], initialization="random", random_state=0).optimize(0)
    assert partial.optimize(100).kl_divergence < partial.kl_divergence


@pytest.mark.parametrize("init", ["median", "weighted", "random"])
def test_named_initialisations_start_inside_the_map(reference, init):
    emb, X_new, _, _ = reference
    Y0 = np.asarray(emb.prepare_partial(X_new[:30], initialization=init, random_state=0))
    ref = np.asarray(emb)
    assert Y0.shape == (30, 2)
    assert np.all(Y0 >= ref.min(axis=0)) and np.all(Y0 <= ref.max(axis=0))


def test_initialisation_array_is_used_and_checked(reference):
    emb, X_new, _, _ = reference
    init = np.full((10, 2), 0.5)
    assert np.array_equal(np.asarray(emb.prepare_partial(X_new[:10], initialization=init)), init)
    with pytest.raises(ValueError, match=r"must have shape \(10, 2\)"):
        emb.prepare_partial(X_new[:10], initialization=np.zeros((9, 2)))


def test_same_random_state_gives_the_same_transform(reference):
    emb, X_new, _, _ = reference
    a = emb.transform(X_new[:30], initialization="random", random_state=4, **FEW)
    b = emb.transform(X_new[:30], initialization="random", random_state=4, **FEW)
    assert np.array_equal(a, b)


def test_transform_queries_the_neighbour_index_once_for_initialisation_and_affinities(reference):
    emb, X_new, _, _ = reference
    index = emb.affinities.index
    asked = []
    original = index.query

    def counting(X, k, n_jobs=None):
        asked.append(k)
        return original(X, k, n_jobs=n_jobs)

    index.query = counting
    try:
        partial = emb.prepare_partial(X_new[:30], k=10, perplexity=5)
    finally:
        del index.query
    # k = max(10 for the median, 3 * 5 for P)
    assert asked == [15]
    expected = emb.affinities.to_new(X_new[:30], perplexity=5)
    assert (partial.P != expected).nnz == 0
