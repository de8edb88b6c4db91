"""Convergence-aware optimisation: the "auto" rules, their caps, and the KL record (issue 18)."""
import numpy as np
import pytest

import fasttsne
from fasttsne._params import InvalidParameterError
from fasttsne.optim import kl_divergence
from fasttsne.optim.convergence import CHECK_EVERY, CONVERGENCE_WINDOW, converged, exaggeration_settled

BACK = CONVERGENCE_WINDOW // CHECK_EVERY


@pytest.fixture(scope="module")
def X(digits):
    """250 of scikit-learn's digits (small enough for a fit well under a second)."""
    return digits[0][:250]


def fit(X, **params):
    defaults = dict(random_state=0, neighbors="exact", negative_gradient_method="exact")
    return fasttsne.TSNE(**{**defaults, **params}).fit(X)


# ------------------------------------------------------------------- the rules on their own
def test_converged_is_false_until_a_whole_window_has_run():
    assert not converged([1.0] * BACK, tol=1e-3)
    assert converged([1.0] * (BACK + 1), tol=1e-3)


def test_converged_compares_the_relative_decrease_over_the_window_with_tol():
    falling = [1.0] + [0.99] * BACK  # 1% over the window
    assert not converged(falling, tol=1e-3)
    assert converged(falling, tol=2e-2)


def test_a_rising_kl_counts_as_converged():
    assert converged([1.0] * BACK + [1.1], tol=1e-3)


def test_exaggeration_is_not_left_before_kl_has_fallen_fast():
    slow = [1.0 - 1e-6 * i for i in range(20)]  # never faster than tol
    assert not exaggeration_settled(slow, tol=1e-4)


def test_exaggeration_is_left_when_the_fast_fall_has_slowed_below_tol():
    values = [2.0, 1.5, 1.0, 1.0 - 1e-5]  # 2.5% and 3.3% per check, then 1e-6 per iteration
    assert exaggeration_settled(values, tol=1e-4)
    assert not exaggeration_settled(values[:3], tol=1e-4)


# ------------------------------------------------------------------- the rules in a fit
def test_auto_main_phase_stops_at_the_first_check_where_kl_has_converged(X):
    embedding = fit(X, early_exaggeration_iter=100, n_iter="auto", tol=0.01, max_iter=1000)
    main = embedding.phases_[-1]
    assert main.until == "converged" and main.n_iter < 1000
    history = embedding.kl_history
    in_phase = [v for it, v in zip(history.iterations, history.values) if it >= 100 and (it - 100) % CHECK_EVERY == 0]
    assert converged(in_phase, 0.01) and not converged(in_phase[:-1], 0.01)
    assert embedding.n_iter == 100 + main.n_iter


def test_auto_main_phase_continues_past_500_iterations_while_kl_still_falls(X):
    embedding = fit(X, early_exaggeration_iter=50, n_iter="auto", tol=1e-12, max_iter=530)
    assert embedding.phases_[-1].n_iter == 530
    assert embedding.n_iter == 580


def test_max_iter_caps_the_auto_main_phase(X):
    embedding = fit(X, early_exaggeration_iter=0, n_iter="auto", tol=1e-12, max_iter=40)
    assert embedding.n_iter == 40


def test_auto_early_exaggeration_ends_when_its_rule_holds_and_the_main_phase_follows(X):
    embedding = fit(X, early_exaggeration_iter="auto", n_iter=20, learning_rate=200)
    early, main = embedding.phases_
    assert early.until == "settled" and early.exaggeration == 12 and 0 < early.n_iter < 500
    assert main.n_iter == 20 and embedding.n_iter == early.n_iter + 20
    history = embedding.kl_history
    checks = [v for it, v in zip(history.iterations, history.values) if it <= early.n_iter and it % CHECK_EVERY == 0]
    assert exaggeration_settled(checks) and not exaggeration_settled(checks[:-1])


def test_optimize_accepts_auto_and_stops_when_converged(X):
    start = fit(X, early_exaggeration_iter=100, n_iter=0)
    continued = start.optimize("auto", tol=0.01, max_iter=1000)
    assert continued.phases_[-1].until == "converged" and 0 < continued.phases_[-1].n_iter < 1000
    assert start.n_iter == 100  # the original is unchanged


def test_auto_is_refused_where_it_is_not_offered(X):
    with pytest.raises(InvalidParameterError, match="n_iter"):
        fasttsne.TSNE(n_iter="forever").fit(X)
    embedding = fit(X, early_exaggeration_iter=0, n_iter=0)
    partial = embedding.prepare_partial(X[:5])
    with pytest.raises(InvalidParameterError, match="n_iter"):
        partial.optimize("auto")


# ------------------------------------------------------------------- the KL record
def test_kl_history_holds_the_start_every_50_iterations_and_the_end(X):
    embedding = fit(X, early_exaggeration_iter=60, n_iter=75)
    assert embedding.kl_history.iterations.tolist() == [0, 50, 60, 100, 135]


def test_kl_history_ends_with_the_embeddings_kl_divergence_at_its_positions(X):
    embedding = fit(X, early_exaggeration_iter=30, n_iter=30)
    history = embedding.kl_history
    assert history.values[-1] == embedding.kl_divergence
    again = kl_divergence(np.asarray(embedding), embedding.P, embedding.affinities.sum_p_log_p,
                          embedding.gradient)
    assert history.values[-1] == pytest.approx(again, rel=1e-12)


def test_kl_history_agrees_with_the_kl_callbacks_receive(X):
    seen = {}
    embedding = fit(X, early_exaggeration_iter=50, n_iter=50, callbacks=lambda i, kl, Y: seen.update({i: kl}),
                    callbacks_every_iters=50)
    history = dict(zip(embedding.kl_history.iterations.tolist(), embedding.kl_history.values.tolist()))
    assert seen and all(history[i] == kl for i, kl in seen.items())


def test_kl_history_grows_with_optimize_and_leaves_the_original_alone(X):
    embedding = fit(X, early_exaggeration_iter=0, n_iter=50)
    continued = embedding.optimize(50)
    assert embedding.kl_history.iterations.tolist() == [0, 50]
    assert continued.kl_history.iterations.tolist() == [0, 50, 100]


def test_kl_history_round_trips_through_save_and_load(X, tmp_path):
    embedding = fit(X, early_exaggeration_iter="auto", n_iter=30)
    embedding.save(tmp_path / "map.fasttsne")
    loaded = fasttsne.load(tmp_path / "map.fasttsne")
    np.testing.assert_array_equal(loaded.kl_history.iterations, embedding.kl_history.iterations)
    np.testing.assert_array_equal(loaded.kl_history.values, embedding.kl_history.values)
    assert [p.until for p in loaded.phases_] == ["settled", None]


def test_computing_kl_at_every_iteration_does_not_change_the_steps(X):
    quiet = fit(X, early_exaggeration_iter=20, n_iter=20)
    watched = fit(X, early_exaggeration_iter=20, n_iter=20, callbacks=lambda i, kl, Y: False,
                  callbacks_every_iters=1)
    np.testing.assert_array_equal(np.asarray(quiet), np.asarray(watched))


def test_kl_history_plots_kl_against_iterations(X):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    embedding = fit(X, early_exaggeration_iter=0, n_iter=50)
    fig, ax = plt.subplots()
    try:
        embedding.kl_history.plot(ax=ax)
        x, y = ax.lines[0].get_data()
        np.testing.assert_array_equal(x, embedding.kl_history.iterations)
        np.testing.assert_array_equal(y, embedding.kl_history.values)
    finally:
        plt.close(fig)
