"""A run whose steps would leave float64's range stops with DivergenceError naming the cause;
positions never become infinite or NaN, whatever the learning rate."""
import numpy as np
import pytest

import fasttsne
from fasttsne._ext import _optimizer
from fasttsne.gradients import ExactGradient
from fasttsne.optim import DivergenceError, FitObjective
from fasttsne.optim.divergence import MAX_COORDINATE


def _data(n=100, d=5, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


@pytest.fixture(scope="module")
def small_map():
    return fasttsne.TSNE(n_iter=10, early_exaggeration_iter=5, perplexity=10, random_state=0).fit(_data())


@pytest.mark.parametrize("method", ["exact", "bh", "fft"])
def test_fit_with_a_learning_rate_of_1e308_raises_divergence_error_naming_the_learning_rate(method):
    tsne = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, learning_rate=1e308,
                         negative_gradient_method=method, random_state=0)
    with pytest.raises(DivergenceError, match="smaller learning_rate"):
        tsne.fit(_data())


@pytest.mark.parametrize("method", ["exact", "bh"])
def test_fit_without_step_clipping_raises_divergence_error_not_zero_division(method):
    tsne = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, learning_rate=1e200,
                         max_step_norm=None, negative_gradient_method=method, random_state=0)
    with pytest.raises(DivergenceError, match="max_step_norm"):
        tsne.fit(_data())


def test_an_inplace_optimize_that_diverges_keeps_finite_positions_and_consistent_fields(small_map):
    embedding = small_map.optimize(0)  # a copy to work on
    with pytest.raises(DivergenceError):
        embedding.optimize(5, learning_rate=1e308, inplace=True)
    assert np.all(np.isfinite(np.asarray(embedding)))
    assert np.all(np.isfinite(embedding.optimizer_state.update))
    assert embedding.kl_divergence is None
    assert embedding.n_iter == sum(p.n_iter for p in embedding.phases_)


def test_transform_with_a_learning_rate_of_1e308_raises_divergence_error(small_map):
    with pytest.raises(DivergenceError, match="smaller learning_rate"):
        small_map.transform(_data(seed=1)[:3], learning_rate=1e308)


def test_new_points_started_beyond_float64s_kernel_range_raise_divergence_error(small_map):
    with pytest.raises(DivergenceError, match="underflows"):
        small_map.transform(_data(seed=1)[:3], initialization=np.full((3, 2), 1e160))


def test_a_map_whose_kernel_underflows_everywhere_raises_divergence_error_instead_of_dividing_by_zero(small_map):
    Y = np.column_stack([np.arange(100) * 1e150, np.zeros(100)])  # squared distances >= 1e300
    objective = FitObjective(small_map.P, small_map.affinities.sum_p_log_p, ExactGradient(), 2.0, 1)
    with pytest.raises(DivergenceError, match="Z = 0"):
        objective.evaluate(Y, np.empty_like(Y), np.empty_like(Y), True)


def _step(Y, gradient, learning_rate, max_step_norm):
    update, gains = np.zeros_like(Y), np.ones_like(Y)
    zeros = np.zeros_like(Y)
    held = _optimizer.gradient_step(Y, gradient, zeros, 1.0, 1.0, update, gains, learning_rate, 0.0, 0.01,
                                    -1.0, max_step_norm, MAX_COORDINATE, 1)
    return held, update


def test_the_step_kernel_holds_back_exactly_the_points_whose_step_overflows():
    Y = np.zeros((3, 2))
    gradient = np.array([[1e-320, 0.0], [-10.0, 0.0], [0.0, 10.0]])  # only the first step stays finite
    held, update = _step(Y, gradient, 1e308, max_step_norm=-1.0)
    assert held == 2
    assert Y[0, 0] == -1e308 * 1.2 * 1e-320  # its gain grew to 1.2 (the gradient turned)
    assert np.all(Y[1:] == 0.0) and np.all(update[1:] == 0.0)


def test_the_step_kernel_holds_back_a_step_beyond_the_coordinate_limit():
    Y = np.array([[MAX_COORDINATE * 0.75, 0.0], [0.0, 0.0]])
    held, _ = _step(Y, np.array([[-MAX_COORDINATE * 0.5, 0.0], [-1.0, 0.0]]), 1.0, max_step_norm=-1.0)
    assert held == 1
    # gains 0.8 (the gradient did not turn): the first point would reach 1.15 * MAX_COORDINATE
    np.testing.assert_array_equal(Y, [[MAX_COORDINATE * 0.75, 0.0], [0.8, 0.0]])


def test_the_step_kernel_moves_every_point_of_a_sound_step():
    Y = np.zeros((4, 2))
    held, update = _step(Y, np.ones((4, 2)), 2.0, max_step_norm=5.0)
    assert held == 0
    np.testing.assert_array_equal(Y, update)
    np.testing.assert_array_equal(Y, np.full((4, 2), -2.0 * 1.2))  # gains 1.2: the gradient turned
