"""The gradient-descent step on a toy objective, against values computed by hand.

The objective is f(Y) = 1/2 |Y - c|^2 per point, whose gradient is Y - c: the step's
clipping, delta-bar-delta gains, ``min_gain``, momentum and exaggeration can then be
checked number by number.
"""
import numpy as np
import pytest

from fasttsne.optim import OptimizerState, Phase, gradient_descent, run_phases


class Quadratic:
    """f(Y) = sum_i 1/2 |y_i - c|^2; the gradient Y - c is the 'attraction', no repulsion."""

    def __init__(self, center=(0.0, 0.0)):
        self.center = np.asarray(center, dtype=float)

    def spatial_order(self, n_components):
        return None

    def evaluate(self, Y, attractive, repulsive, with_kl):
        attractive[...] = Y - self.center
        repulsive[...] = 0.0
        return (0.5 * float(((Y - self.center) ** 2).sum()) if with_kl else None), 1.0


def one_step(Y0, state=None, **settings):
    Y = np.array(Y0, dtype=float)
    state = state or OptimizerState.fresh(*Y.shape)
    settings = {"learning_rate": 0.5, "momentum": 0.0, "max_step_norm": None, **settings}
    gradient_descent(Y, Quadratic(), state, 1, center=False, **settings)
    return Y, state


def test_first_step_follows_the_gradient_with_gains_grown_or_shrunk_by_sign():
    # gradient (3, -4); the update starts at 0, counted as not positive: the gain grows
    # (1 + 0.2) where the gradient is positive and shrinks (1 * 0.8) where it is not
    Y, state = one_step([[3.0, -4.0]])
    np.testing.assert_allclose(state.gains, [[1.2, 0.8]])
    np.testing.assert_allclose(state.update, [[-0.5 * 1.2 * 3.0, 0.5 * 0.8 * 4.0]])
    np.testing.assert_allclose(Y, [[3.0 - 1.8, -4.0 + 1.6]])


def test_max_grad_norm_rescales_the_gradient_to_that_norm_before_the_step():
    # |g| = 5 is clipped to 1: g = (0.6, -0.8)
    Y, state = one_step([[3.0, -4.0]], max_grad_norm=1.0)
    np.testing.assert_allclose(state.update, [[-0.5 * 1.2 * 0.6, 0.5 * 0.8 * 0.8]])
    np.testing.assert_allclose(Y, [[3.0 - 0.36, -4.0 + 0.32]])


def test_gradient_under_max_grad_norm_is_not_clipped():
    assert np.array_equal(one_step([[3.0, -4.0]], max_grad_norm=5.5)[0], one_step([[3.0, -4.0]])[0])


def test_max_step_norm_rescales_the_step_to_that_norm():
    Y, state = one_step([[3.0, -4.0]], max_step_norm=1.0)
    step = np.array([-1.8, 1.6])
    np.testing.assert_allclose(state.update, [step / np.linalg.norm(step)])
    np.testing.assert_allclose(Y, [[3.0, -4.0] + step / np.linalg.norm(step)])
    assert np.linalg.norm(state.update) == pytest.approx(1.0)


def test_clipping_is_per_point():
    Y, _ = one_step([[3.0, -4.0], [0.3, -0.4]], max_grad_norm=1.0)
    # the second point's gradient (norm 0.5) is under the limit and moves as unclipped
    np.testing.assert_allclose(Y[1], [0.3 - 0.5 * 1.2 * 0.3, -0.4 + 0.5 * 0.8 * 0.4])


def test_gains_shrink_when_the_gradient_turns_against_the_last_step_and_stop_at_min_gain():
    # update (1, -1) with gradient (3, -4): the last step went up the new gradient (it
    # overshot), so the gains shrink by 0.8, here from 0.6 to 0.48 -> clamped at min_gain 0.5
    state = OptimizerState(np.array([[1.0, -1.0]]), np.array([[0.6, 0.6]]))
    _, state = one_step([[3.0, -4.0]], state=state, min_gain=0.5)
    np.testing.assert_allclose(state.gains, [[0.5, 0.5]])


def test_gains_grow_by_0_2_while_the_steps_keep_going_down_the_gradient():
    state = OptimizerState(np.array([[-1.0, 1.0]]), np.array([[0.6, 0.6]]))
    _, state = one_step([[3.0, -4.0]], state=state)
    np.testing.assert_allclose(state.gains, [[0.8, 0.8]])


def test_momentum_carries_that_fraction_of_the_last_update():
    state = OptimizerState(np.array([[0.2, 0.2]]), np.ones((1, 2)))
    Y, state = one_step([[3.0, -4.0]], state=state, momentum=0.5)
    # gains: (3 > 0) == (0.2 > 0) -> 0.8; (-4 > 0) != (0.2 > 0) -> 1.2
    expected = np.array([0.5 * 0.2 - 0.5 * 0.8 * 3.0, 0.5 * 0.2 + 0.5 * 1.2 * 4.0])
    np.testing.assert_allclose(state.update, [expected])
    np.testing.assert_allclose(Y, [[3.0, -4.0] + expected])


def test_exaggeration_multiplies_the_attraction():
    Y, state = one_step([[3.0, -4.0]], exaggeration=2.0)
    np.testing.assert_allclose(state.update, [[-0.5 * 1.2 * 6.0, 0.5 * 0.8 * 8.0]])


def test_descent_reports_the_objective_at_the_final_positions_and_counts_iterations():
    Y = np.array([[3.0, -4.0]])
    state = OptimizerState.fresh(1, 2)
    kl, stopped = gradient_descent(Y, Quadratic(), state, 5, learning_rate=0.1, max_step_norm=None,
                                   center=False)
    assert kl == pytest.approx(0.5 * float((Y ** 2).sum()), rel=1e-15)
    assert not stopped and state.n_iter == 5


def test_run_phases_runs_each_phase_with_its_settings_in_order():
    phases = [Phase(3, 2.0, 0.5, 0.1, None, None, 0.01), Phase(4, 1.0, 0.8, 0.2, None, None, 0.01)]
    Y = np.array([[3.0, -4.0]])
    state = OptimizerState.fresh(1, 2)
    kl, stopped, n_iter = run_phases(Y, Quadratic(), state, phases, n_jobs=1, center=False)

    Y_ref = np.array([[3.0, -4.0]])
    ref = OptimizerState.fresh(1, 2)
    for p in phases:
        gradient_descent(Y_ref, Quadratic(), ref, p.n_iter, exaggeration=p.exaggeration,
                         learning_rate=p.learning_rate, momentum=p.momentum, max_step_norm=None, center=False)
    assert np.array_equal(Y, Y_ref) and (stopped, n_iter) == (False, 7)


def test_a_callback_stop_ends_the_schedule_and_is_reported():
    phases = [Phase(10, 1.0, 0.5, 0.1, None, None, 0.01), Phase(10, 1.0, 0.5, 0.1, None, None, 0.01)]
    Y = np.array([[3.0, -4.0]])
    ran = []
    kl, stopped, n_iter = run_phases(Y, Quadratic(), OptimizerState.fresh(1, 2), phases, n_jobs=1,
                                     callbacks=lambda it, kl, pos: it >= 4, callbacks_every_iters=2,
                                     center=False, ran=ran)
    assert stopped and n_iter == 4 and ran == phases[:1]
