"""Exaggeration annealing: the main phase's first ``anneal_iter`` iterations lower the exaggeration
from the early one to the main phase's in geometric steps, at the main phase's learning rate.

The exaggeration and learning rate of every step are read where the step is taken (the fused
step kernel, spied on), so the tests say what a fit runs, iteration by iteration.
"""
import types

import numpy as np
import pytest

import fasttsne
import fasttsne.optim.descent
from fasttsne import InvalidParameterError, cli
from fasttsne._params import TSNE_PARAMS
from fasttsne.optim import Phase, annealed, fit_schedule
from fasttsne.optim.phase import AUTO_ANNEAL_ITER, AUTO_ANNEAL_MIN_ITER

N = 120
#: The exact gradient keeps each fit to a few milliseconds an iteration.
FAST = dict(negative_gradient_method="exact", neighbors="exact", random_state=0)


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:N]


@pytest.fixture
def steps(monkeypatch):
    """(exaggeration, learning rate) of every step taken, in order."""
    seen = []
    kernel = fasttsne.optim.descent._optimizer

    def gradient_step(Y, attractive, repulsive, exaggeration, inv_z, update, gains, learning_rate, *rest):
        seen.append((exaggeration, learning_rate))
        return kernel.gradient_step(Y, attractive, repulsive, exaggeration, inv_z, update, gains, learning_rate,
                                    *rest)
    spy = types.SimpleNamespace(gradient_step=gradient_step, center=kernel.center)
    monkeypatch.setattr(fasttsne.optim.descent, "_optimizer", spy)
    return seen


def ramp(start, end, n):
    """Geometric steps from ``start`` (excluded) to ``end`` (included)."""
    return [start * (end / start) ** ((i + 1) / n) for i in range(n - 1)] + [end]


# ------------------------------------------------------------------ the schedule
def test_annealing_takes_equal_ratios_and_ends_at_the_phase_exaggeration():
    np.testing.assert_allclose([annealed(16.0, 1.0, i, 4) for i in range(4)], [8.0, 4.0, 2.0, 1.0], rtol=1e-15)
    assert annealed(12.0, 1.0, 99, 100) == 1.0  # exactly


def test_the_default_fit_runs_early_exaggeration_then_anneals_then_the_main_phase(X, steps):
    fasttsne.TSNE(**FAST).fit(X)
    ee, n_iter = (TSNE_PARAMS[name].default for name in ("early_exaggeration_iter", "n_iter"))
    assert TSNE_PARAMS["anneal_iter"].default == "auto" and n_iter >= AUTO_ANNEAL_MIN_ITER
    anneal = AUTO_ANNEAL_ITER
    factors = [e for e, _ in steps]
    assert factors == [12.0] * ee + ramp(12.0, 1.0, anneal) + [1.0] * (n_iter - anneal)


def test_the_learning_rate_is_n_over_12_then_n_from_the_annealing_on(X, steps):
    fasttsne.TSNE(**FAST).fit(X)
    ee = TSNE_PARAMS["early_exaggeration_iter"].default
    rates = [r for _, r in steps]
    assert set(rates[:ee]) == {N / 12} and set(rates[ee:]) == {float(N)}


def test_the_fit_equals_an_early_phase_then_an_annealed_optimize(X):
    fit = fasttsne.TSNE(anneal_iter=30, n_iter=80, **FAST).fit(X)
    start = fasttsne.TSNE(**FAST).prepare_initial(X)
    ee = TSNE_PARAMS["early_exaggeration_iter"].default
    manual = start.optimize(ee, exaggeration=12, momentum=0.8).optimize(80, anneal_from=12, anneal_iter=30)
    np.testing.assert_array_equal(np.asarray(fit), np.asarray(manual))


def test_the_phases_record_the_annealing_inside_the_main_phase(X):
    early, main = fasttsne.TSNE(anneal_iter=30, early_exaggeration_iter=40, n_iter=80, **FAST).fit(X).phases_
    assert (early.anneal_from, main.anneal_from, main.anneal_iter, main.exaggeration) == (None, 12, 30, 1.0)
    assert (early.n_iter, main.n_iter) == (40, 80)


def test_a_saved_map_keeps_its_annealed_phase(X, tmp_path):
    fitted = fasttsne.TSNE(anneal_iter=30, n_iter=40, **FAST).fit(X)
    fitted.save(tmp_path / "map")
    assert fasttsne.load(tmp_path / "map").phases_ == fitted.phases_


# ------------------------------------------------------------------ explicit parameters
def test_anneal_iter_0_gives_the_schedule_without_annealing(X, steps):
    fasttsne.TSNE(anneal_iter=0, early_exaggeration_iter=20, n_iter=30, **FAST).fit(X)
    assert [e for e, _ in steps] == [12.0] * 20 + [1.0] * 30


def test_anneal_iter_0_equals_two_constant_phases(X):
    fit = fasttsne.TSNE(anneal_iter=0, early_exaggeration_iter=20, n_iter=30, **FAST).fit(X)
    start = fasttsne.TSNE(**FAST).prepare_initial(X)
    manual = start.optimize(20, exaggeration=12, momentum=0.8).optimize(30, exaggeration=1, momentum=0.8)
    np.testing.assert_array_equal(np.asarray(fit), np.asarray(manual))


def test_the_annealing_ends_at_an_explicit_main_exaggeration(X, steps):
    fasttsne.TSNE(exaggeration=4, anneal_iter=10, early_exaggeration_iter=5, n_iter=15, **FAST).fit(X)
    assert [e for e, _ in steps] == [12.0] * 5 + ramp(12.0, 4.0, 10) + [4.0] * 5


def test_the_annealing_starts_at_an_explicit_early_exaggeration(X, steps):
    fasttsne.TSNE(early_exaggeration=6, anneal_iter=5, early_exaggeration_iter=5, n_iter=10, **FAST).fit(X)
    assert [e for e, _ in steps] == [6.0] * 5 + ramp(6.0, 1.0, 5) + [1.0] * 5


def test_without_early_exaggeration_nothing_is_annealed(X, steps):
    fasttsne.TSNE(early_exaggeration_iter=0, anneal_iter=10, n_iter=20, **FAST).fit(X)
    assert [e for e, _ in steps] == [1.0] * 20


def test_an_explicit_learning_rate_holds_through_the_annealing(X, steps):
    fasttsne.TSNE(learning_rate=50, anneal_iter=10, early_exaggeration_iter=5, n_iter=20, **FAST).fit(X)
    assert {r for _, r in steps} == {50.0}


def test_a_main_phase_shorter_than_the_annealing_anneals_over_its_length(X, steps):
    fasttsne.TSNE(anneal_iter=100, early_exaggeration_iter=5, n_iter=8, **FAST).fit(X)
    assert [e for e, _ in steps] == [12.0] * 5 + ramp(12.0, 1.0, 8)


def test_n_iter_auto_anneals_first_then_runs_until_converged():
    (early, main) = fit_schedule(anneal_iter=40, n_iter="auto", max_iter=300)
    assert (main.anneal_from, main.anneal_iter, main.until, main.n_iter) == (12, 40, "converged", 300)


@pytest.mark.parametrize("value", [-1, 2.5, "100", None, True])
def test_a_bad_anneal_iter_is_refused_before_any_work(value):
    with pytest.raises(InvalidParameterError, match="anneal_iter must be a non-negative integer"):
        fasttsne.TSNE(anneal_iter=value).fit(np.zeros((3, 2)))


def test_optimize_refuses_a_non_positive_anneal_from(X):
    start = fasttsne.TSNE(**FAST).prepare_initial(X)
    with pytest.raises(InvalidParameterError, match="anneal_from must be None or a positive number"):
        start.optimize(5, anneal_from=0, anneal_iter=3)


def test_optimize_anneals_only_with_both_anneal_from_and_anneal_iter(X, steps):
    start = fasttsne.TSNE(**FAST).prepare_initial(X)
    start.optimize(3, anneal_from=5.0)
    start.optimize(3, anneal_iter=3)
    assert [e for e, _ in steps] == [1.0] * 6


def test_auto_annealing_needs_a_main_phase_of_at_least_600_iterations():
    (_, short), (_, long), (_, converging) = (fit_schedule(n_iter=n) for n in (AUTO_ANNEAL_MIN_ITER - 1,
                                                                              AUTO_ANNEAL_MIN_ITER, "auto"))
    assert (short.anneal_from, short.anneal_iter) == (None, 0)
    assert (long.anneal_from, long.anneal_iter) == (12, AUTO_ANNEAL_ITER)
    assert (converging.anneal_from, converging.anneal_iter) == (12, AUTO_ANNEAL_ITER)


def test_an_explicit_anneal_iter_is_used_in_a_short_run():
    (_, main) = fit_schedule(n_iter=50, anneal_iter=100)
    assert (main.anneal_from, main.anneal_iter) == (12, 100)


def test_the_progress_label_names_the_annealing():
    assert Phase(10, 1.0, 0.8, 1.0, None, None, 0.01, anneal_from=12.0, anneal_iter=5).label == \
        "exaggeration 12 -> 1"


# ------------------------------------------------------------------ the other front ends
def test_the_command_line_default_is_the_tables_and_its_option_reaches_the_fit(X, tmp_path):
    np.save(tmp_path / "X.npy", X)
    for options, anneal in (((), TSNE_PARAMS["anneal_iter"].default), (("--anneal-iter", "30"), 30)):
        out = tmp_path / f"Y{anneal}.npy"
        assert cli.main(["embed", str(tmp_path / "X.npy"), "-o", str(out), "-q", "--method", "exact",
                         "--neighbors", "exact", "--n-iter", "120", *options]) == 0
        expected = fasttsne.TSNE(anneal_iter=anneal, n_iter=120, **FAST).fit(X)
        np.testing.assert_array_equal(np.load(out), np.asarray(expected))


def test_scikit_learns_front_end_keeps_its_schedule_without_annealing(X, steps):
    pytest.importorskip("sklearn")
    from fasttsne.sklearn import TSNE
    TSNE(max_iter=300, min_grad_norm=0, n_iter_without_progress=1000, random_state=0, method="exact").fit(X)
    assert [e for e, _ in steps] == [12.0] * 250 + [1.0] * 50
