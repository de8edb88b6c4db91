"""Large fits optimise their points numbered along a space-filling curve, invisibly to the user."""
import os
import signal

import numpy as np
import pytest
import scipy.sparse as sp

import fasttsne
import fasttsne.optim.locality
from fasttsne._ext import _fft, _order
from fasttsne.affinity import PerplexityBasedNN
from fasttsne.optim.locality import SpatialOrder
from fasttsne.gradients.fft import FFTInterpolation
from fasttsne.optim import FitObjective, OptimizerState


@pytest.fixture
def renumbered_always(monkeypatch):
    """Every fit, however small, takes the renumbered path."""
    monkeypatch.setattr(fasttsne.optim.locality, "MIN_SAMPLES", 1)


@pytest.fixture(scope="module")
def mnist_P(mnist2000):
    X, _ = mnist2000
    return PerplexityBasedNN(30, neighbors="exact").fit(X).P


def morton_keys(Y):
    """The keys as SpatialOrder computes them: over the positions' own box."""
    lo, hi = np.empty(Y.shape[1]), np.empty(Y.shape[1])
    _fft.extent(Y, lo, hi)
    keys = np.full(len(Y), 7, dtype=np.uint64)
    _order.morton_keys(Y, lo, hi, keys)
    return keys


def test_morton_keys_order_the_corners_of_a_square_along_the_z_curve():
    corners = np.array([[1.0, 1.0], [0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    keys = morton_keys(corners)
    assert corners[np.argsort(keys)].tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_morton_keys_of_points_on_a_line_follow_the_line():
    t = np.random.default_rng(0).permutation(1000).astype(np.float64)
    keys = morton_keys(np.column_stack([t, 2 * t]))
    assert np.all(np.diff(keys[np.argsort(t)].astype(np.float64)) > 0)


def test_morton_keys_tolerate_non_finite_positions_and_still_order_the_rest():
    Y = np.array([[2.0, 2.0], [np.nan, 1.0], [np.inf, 0.0], [2.0, 2.0], [0.0, 0.0]])
    keys = morton_keys(Y)
    # the infinite coordinate flattens its axis; the other axis still orders the points
    assert keys[0] == keys[3] and keys[4] < keys[0]


def test_gather_rows_copies_P_renumbered():
    P = sp.random(30, 30, density=0.3, random_state=0, format="csr", dtype=np.float32)
    rows = np.random.default_rng(0).permutation(30).astype(np.int32)
    rank = np.empty_like(rows)
    rank[rows] = np.arange(30, dtype=np.int32)
    indptr = np.empty(31, dtype=np.int32)
    _order.permuted_indptr(P.indptr, rows, indptr)
    indices, data = np.empty_like(P.indices), np.empty_like(P.data)
    _order.gather_rows(P.indptr, P.indices, P.data, rows, rank, indptr, indices, data, 2)
    local = sp.csr_matrix((data, indices, indptr), shape=P.shape)
    np.testing.assert_array_equal(local.toarray(), P.toarray()[np.ix_(rows, rows)])


def test_enter_then_leave_writes_the_moved_positions_back_and_never_touches_P(mnist_P):
    P = mnist_P
    before = (P.indices.copy(), P.indptr.copy(), P.data.copy())
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(P.shape[0], 2))
    state = OptimizerState(rng.normal(size=Y.shape), rng.uniform(size=Y.shape), 7)
    expected = (Y + 1.0, state.update * 2.0, state.gains.copy())
    order = SpatialOrder(P)
    local_Y, local_state = order.enter(Y, state)
    local_Y += 1.0
    local_state.update *= 2.0
    local_state.n_iter = 8
    order.refresh()
    order.leave(Y, state)
    for a, b in zip((Y, state.update, state.gains), expected):
        np.testing.assert_array_equal(a, b)
    assert state.n_iter == 8 and order.rows is None
    assert all(np.array_equal(a, b) for a, b in zip((P.indices, P.indptr, P.data), before))


def test_the_local_P_is_P_renumbered_after_every_refresh(mnist_P):
    P = mnist_P
    Y = np.random.default_rng(0).normal(size=(P.shape[0], 2))
    order = SpatialOrder(P)
    order.enter(Y, OptimizerState.fresh(*Y.shape))
    order.Y[:] = np.random.default_rng(1).normal(size=Y.shape)
    order.refresh()
    assert abs(order.P_local - P[order.rows][:, order.rows]).max() == 0


def test_curve_order_puts_affinity_neighbours_closer_in_memory(mnist2000_embedding):
    # the point of the renumbering: P's entries reach fewer distinct parts of Y
    P = mnist2000_embedding.P
    Y = np.asarray(mnist2000_embedding).copy()
    rows = np.repeat(np.arange(P.shape[0]), np.diff(P.indptr))
    before = np.median(np.abs(P.indices - rows))
    order = SpatialOrder(P)
    order.enter(Y, OptimizerState.fresh(*Y.shape))
    local_rows = np.repeat(np.arange(P.shape[0]), np.diff(order.P_local.indptr))
    after = np.median(np.abs(order.P_local.indices - local_rows))
    assert after < before / 4


def test_renumbered_forces_equal_the_plain_forces_permuted(mnist_P, renumbered_always):
    P = mnist_P
    Y = np.random.default_rng(0).normal(scale=5.0, size=(P.shape[0], 2))
    objective = FitObjective(P, 0.0, FFTInterpolation(), 1.0, 2)
    plain = np.empty_like(Y), np.empty_like(Y)
    kl, inv_z = objective.evaluate(Y, *plain, True)
    order = objective.spatial_order(2)
    local_Y, _ = order.enter(Y, OptimizerState.fresh(*Y.shape))
    renumbered = np.empty_like(Y), np.empty_like(Y)
    kl_local, inv_z_local = objective.evaluate(local_Y, *renumbered, True)
    np.testing.assert_array_equal(renumbered[0], plain[0][order.rows])
    # the float32 grid sums its charges in another order: rounding differences only
    np.testing.assert_allclose(renumbered[1], plain[1][order.rows], rtol=0, atol=1e-4 * np.abs(plain[1]).max())
    assert inv_z_local == pytest.approx(inv_z, rel=1e-6) and kl_local == pytest.approx(kl, rel=1e-6)


def test_renumbered_fit_reaches_the_plain_fits_kl(mnist2000, renumbered_always, monkeypatch):
    X, _ = mnist2000
    params = dict(n_iter=100, early_exaggeration_iter=50, negative_gradient_method="fft", neighbors="exact",
                  random_state=0, n_jobs=2)
    renumbered = fasttsne.TSNE(**params).fit(X)
    monkeypatch.setattr(fasttsne.optim.locality, "MIN_SAMPLES", 10 ** 9)
    plain = fasttsne.TSNE(**params).fit(X)
    # rounding differences grow through the early exaggeration's unstable phase into a
    # slightly different layout, of the same quality
    assert renumbered.kl_divergence == pytest.approx(plain.kl_divergence, rel=0.02)


def test_callbacks_see_positions_in_the_users_order(mnist2000_embedding, renumbered_always):
    seen = []
    emb = mnist2000_embedding.optimize(50, callbacks=lambda it, kl, Y: seen.append(Y), callbacks_every_iters=50)
    np.testing.assert_array_equal(seen[-1], np.asarray(emb))


def test_an_error_in_a_callback_leaves_the_embedding_consistent(mnist2000_embedding, renumbered_always):
    emb = mnist2000_embedding.optimize(0)
    indices = emb.P.indices.copy()

    def fail(it, kl, Y):
        raise RuntimeError("callback failed")

    with pytest.raises(RuntimeError, match="callback failed"):
        emb.optimize(60, callbacks=fail, callbacks_every_iters=55, inplace=True)
    np.testing.assert_array_equal(emb.P.indices, indices)
    assert emb.n_iter == mnist2000_embedding.n_iter + 55
    # the positions written back are the ones reached: continuing from them is an ordinary fit
    assert np.isfinite(emb.optimize(5).kl_divergence)


def test_ctrl_c_during_a_renumbered_fit_keeps_the_positions_reached(mnist2000_embedding, renumbered_always,
                                                                   ctrl_c_raises):
    emb = mnist2000_embedding.optimize(0)
    indices = emb.P.indices.copy()

    def interrupt(it, kl, Y):
        os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(fasttsne.OptimizationInterrupt) as info:
        emb.optimize(200, callbacks=interrupt, callbacks_every_iters=60)
    np.testing.assert_array_equal(emb.P.indices, indices)
    interrupted = info.value.embedding
    assert 60 <= interrupted.n_iter - mnist2000_embedding.n_iter <= 61
    np.testing.assert_array_equal(interrupted.P.indices, indices)


def test_small_fits_keep_the_users_order():
    assert not SpatialOrder.worthwhile(fasttsne.optim.locality.MIN_SAMPLES - 1, 2)
    assert SpatialOrder.worthwhile(fasttsne.optim.locality.MIN_SAMPLES, 2)
    assert not SpatialOrder.worthwhile(fasttsne.optim.locality.MIN_SAMPLES, 4)
