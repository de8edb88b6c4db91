"""Embedding: continuing optimisation without touching the original, array behaviour."""
import numpy as np
import pytest

import fasttsne


@pytest.fixture(scope="module")
def short_run(digits):
    X, _ = digits
    return fasttsne.TSNE(n_iter=30, early_exaggeration_iter=30, random_state=0, n_jobs=2).fit(X[:500])


def test_optimize_returns_a_new_embedding_and_leaves_the_original_unchanged(short_run):
    before = np.array(short_run)
    state = short_run.optimizer_state.copy()
    kl = short_run.kl_divergence
    new = short_run.optimize(20)
    assert new is not short_run
    assert np.array_equal(np.asarray(short_run), before)
    assert np.array_equal(short_run.optimizer_state.gains, state.gains)
    assert np.array_equal(short_run.optimizer_state.update, state.update)
    assert short_run.kl_divergence == kl and short_run.n_iter == 60
    assert new.n_iter == 80 and not np.array_equal(np.asarray(new), before)


def test_optimize_continues_from_the_optimizer_state(short_run):
    # continuing with the carried momentum/gains equals one uninterrupted run of the same length
    a = short_run.optimize(10).optimize(10)
    b = short_run.optimize(20)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


def test_optimize_lowers_the_kl(short_run):
    assert short_run.optimize(100).kl_divergence < short_run.kl_divergence


def test_each_step_leaves_the_embedding_centred_on_the_origin(short_run):
    Y = np.asarray(short_run.optimize(5))
    np.testing.assert_allclose(Y.mean(axis=0), 0.0, atol=1e-12 * np.abs(Y).max())


def test_four_dimensional_exact_embeddings_are_optimised_and_centred(digits):
    X, _ = digits
    Y = np.asarray(fasttsne.TSNE(n_components=4, negative_gradient_method="exact", n_iter=10,
                                 early_exaggeration_iter=10, random_state=0).fit(X[:200]))
    assert Y.shape == (200, 4) and np.all(np.isfinite(Y))
    np.testing.assert_allclose(Y.mean(axis=0), 0.0, atol=1e-12 * np.abs(Y).max())


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_centring_subtracts_the_mean_in_every_dimension(d):
    from fasttsne._ext import _optimizer
    Y = np.random.default_rng(0).normal(5.0, 2.0, size=(1001, d))
    expected = Y - Y.mean(axis=0)
    _optimizer.center(Y)
    np.testing.assert_allclose(Y, expected, rtol=0, atol=1e-13)


def test_positions_are_read_only(short_run):
    Y = np.asarray(short_run)
    with pytest.raises(ValueError):
        Y[0, 0] = 1.0


def test_np_array_gives_a_writable_copy(short_run):
    Y = np.array(short_run)
    Y[0, 0] += 1.0
    assert np.asarray(short_run)[0, 0] != Y[0, 0]


def test_embedding_keeps_P_and_its_neighbour_index(short_run, digits):
    X, _ = digits
    assert short_run.P.shape == (500, 500)
    idx, dist = short_run.affinities.index.query(X[:3], 5)
    assert idx.shape == (3, 5)
    assert np.array_equal(idx[:, 0], [0, 1, 2]) and np.allclose(dist[:, 0], 0.0)


def test_optimize_rejects_a_negative_iteration_count(short_run):
    with pytest.raises(ValueError, match="n_iter must be a non-negative integer"):
        short_run.optimize(-1)


def test_zero_iterations_report_the_kl_without_moving(short_run):
    new = short_run.optimize(0)
    assert np.array_equal(np.asarray(new), np.asarray(short_run))
    assert new.kl_divergence == pytest.approx(short_run.kl_divergence, rel=1e-12)
