"""Progress output: timing lines per phase and a tqdm bar when verbose, silence otherwise."""
import io
import logging
import re
import sys

import numpy as np
import pytest

import fasttsne
from fasttsne import progress

SHORT = dict(early_exaggeration_iter=60, n_iter=60, random_state=0)


@pytest.fixture(scope="module")
def X(digits):
    return digits[0][:150]


def test_verbose_fit_logs_one_timing_line_per_phase_on_stderr(X, capsys):
    fasttsne.TSNE(verbose=True, **SHORT).fit(X)
    out, err = capsys.readouterr()
    assert out == ""  # the library writes nothing to standard output
    lines = re.split(r"[\r\n]", err)  # the bar, cleared with \r, shares stderr with the lines
    for phase in ("neighbours", "affinities", "initialisation", "optimisation"):
        assert any(re.fullmatch(rf"fasttsne: {phase} \d+\.\d\d s", line) for line in lines), phase
    assert sum(bool(re.match(r"fasttsne: +\d+ iterations, KL \d+\.\d{4} \(exaggeration", line))
               for line in lines) == 2


def test_verbose_fit_draws_a_progress_bar_per_phase_on_stderr(X, capsys):
    fasttsne.TSNE(verbose=True, anneal_iter=20, **SHORT).fit(X)
    err = capsys.readouterr().err
    # redraws are rate-limited, so a short run may show only the start of each bar
    assert re.search(r"fasttsne: exaggeration 12: +\d+%.*/60", err)
    assert re.search(r"fasttsne: exaggeration 12 -> 1: +\d+%.*/60", err)  # the main phase anneals


def test_quiet_fit_prints_nothing(X, capsys):
    fasttsne.TSNE(verbose=False, **SHORT).fit(X)
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_progress_output_does_not_change_the_embedding(X, capsys):
    loud = fasttsne.TSNE(verbose=True, **SHORT).fit(X)
    quiet = fasttsne.TSNE(verbose=False, **SHORT).fit(X)
    np.testing.assert_array_equal(np.asarray(loud), np.asarray(quiet))
    assert loud.kl_divergence == quiet.kl_divergence


class _Recorder:
    kl_every = 7

    def __init__(self):
        self.calls = []

    def update(self, kl=None):
        self.calls.append(kl)


def test_optimizer_reports_every_step_and_the_kl_every_kl_every_steps(X):
    emb = fasttsne.TSNE(**SHORT).prepare_initial(X)
    from fasttsne.optim import FitObjective, gradient_descent
    objective = FitObjective(emb.P, emb.affinities.sum_p_log_p, emb.gradient, 1.0, 1)
    recorder = _Recorder()
    Y = np.array(emb.positions)
    gradient_descent(Y, objective, emb.optimizer_state.copy(), 30, learning_rate=150.0, progress=recorder)
    assert len(recorder.calls) == 30
    # the KL is shown every kl_every steps and at the final positions
    assert [i + 1 for i, kl in enumerate(recorder.calls) if kl is not None] == [7, 14, 21, 28, 30]


def test_iteration_progress_shows_the_latest_kl():
    stream = io.StringIO()
    with progress.IterationProgress(10, "test", file=stream) as bar:
        bar.update(1.23456)
        bar.update()
        bar._bar.refresh()
        assert "KL 1.2346" in stream.getvalue() and "2/10" in stream.getvalue()


def test_phase_logs_only_inside_a_verbose_reporting_block(capsys):
    with progress.phase("alone"):
        pass
    with progress.reporting(True):
        with progress.phase("inside"):
            pass
        with progress.reporting(False):  # a quiet callee cannot silence a verbose caller
            with progress.phase("nested"):
                pass
    out = capsys.readouterr().err
    assert "alone" not in out and "fasttsne: inside" in out and "fasttsne: nested" in out


def test_verbose_lines_go_to_the_configured_logging_handlers_instead_of_stderr(X, caplog, capsys):
    with caplog.at_level(logging.INFO, logger="fasttsne"):
        fasttsne.TSNE(verbose=True, **SHORT).fit(X)
    messages = [r.getMessage() for r in caplog.records if r.name == "fasttsne"]
    assert any(re.fullmatch(r"neighbours \d+\.\d\d s", m) for m in messages)
    assert not re.search(r"^fasttsne: neighbours", capsys.readouterr().err, re.M)  # not twice


def test_verbose_run_without_a_standard_error_stream_completes_silently(X, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", None)
    embedding = fasttsne.TSNE(verbose=True, **SHORT).fit(X)
    monkeypatch.undo()
    assert np.all(np.isfinite(np.asarray(embedding)))
    assert capsys.readouterr().out == ""
