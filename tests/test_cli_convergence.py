"""``fasttsne embed`` with the convergence-aware schedule: the options mean what TSNE's parameters
of the same names mean, and a bad value is refused through the parameter table, in one line."""
import numpy as np
import pytest

import fasttsne
from fasttsne import cli

N = 150
#: Short enough for a test: the main phase stops at max_iter at the latest.
SCHEDULE = dict(early_exaggeration_iter=20, n_iter="auto", tol=1e-2, max_iter=60)


@pytest.fixture(scope="module")
def data(tmp_path_factory, digits):
    d = tmp_path_factory.mktemp("cli_convergence")
    np.save(d / "X.npy", digits[0][:N])
    return d, digits[0][:N]


def embed(d, *options):
    return cli.main(["embed", str(d / "X.npy"), "-o", str(d / "Y.npy"), "-q", *options])


def refused(capsys, d, *options):
    """The one line of standard error of an embed that argparse refused, after checking exit status 2."""
    with pytest.raises(SystemExit) as exit_info:
        embed(d, *options)
    assert exit_info.value.code == cli.EXIT_USAGE
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fasttsne embed: error:"), lines
    return lines[0]


def test_n_iter_auto_with_tol_and_max_iter_gives_the_python_api_embedding(data):
    d, X = data
    assert embed(d, "--early-exaggeration-iter", "20", "--n-iter", "auto", "--tol", "1e-2", "--max-iter", "60") == 0
    expected = fasttsne.TSNE(random_state=0, **SCHEDULE).fit(X)
    np.testing.assert_array_equal(np.load(d / "Y.npy"), np.asarray(expected))


def test_max_iter_caps_the_main_phase_as_in_the_python_api(data):
    d, X = data
    assert embed(d, "--early-exaggeration-iter", "0", "--n-iter", "auto", "--tol", "1e-9", "--max-iter", "30") == 0
    expected = fasttsne.TSNE(random_state=0, early_exaggeration_iter=0, n_iter="auto", tol=1e-9, max_iter=30).fit(X)
    assert expected.phases_[-1].n_iter == 30
    np.testing.assert_array_equal(np.load(d / "Y.npy"), np.asarray(expected))


def test_early_exaggeration_iter_auto_gives_the_python_api_embedding(data):
    d, X = data
    assert embed(d, "--early-exaggeration-iter", "auto", "--n-iter", "30") == 0
    expected = fasttsne.TSNE(random_state=0, early_exaggeration_iter="auto", n_iter=30).fit(X)
    np.testing.assert_array_equal(np.load(d / "Y.npy"), np.asarray(expected))


@pytest.mark.parametrize("option, text, message", [
    ("--n-iter", "many", "n_iter must be a non-negative integer or 'auto', got 'many'"),
    ("--n-iter", "-1", "n_iter must be a non-negative integer or 'auto', got -1"),
    ("--early-exaggeration-iter", "2.5", "early_exaggeration_iter must be a non-negative integer or 'auto', got 2.5"),
    ("--tol", "0", "tol must be a positive number, got 0"),
    ("--tol", "auto", "tol must be a positive number, got 'auto'"),
    ("--max-iter", "0", "max_iter must be a positive integer, got 0"),
])
def test_a_bad_schedule_value_is_refused_with_the_parameter_tables_message(capsys, data, option, text, message):
    line = refused(capsys, data[0], option, text)
    assert f"argument {option}: {message}" in line
