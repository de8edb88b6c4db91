"""The ``fasttsne`` command line: embed, transform, demo; one-line errors for user mistakes."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fasttsne
from fasttsne import cli

#: A short schedule so each embed takes well under a second on 150 digits.
FAST = ["--n-iter", "30", "--early-exaggeration-iter", "20"]
N = 150


@pytest.fixture(scope="module")
def files(tmp_path_factory, digits):
    """The first N digits in every input format, plus 40 more digits as new points."""
    X, y = digits
    d = tmp_path_factory.mktemp("cli")
    np.save(d / "X.npy", X[:N])
    np.save(d / "y.npy", y[:N])
    np.savez(d / "data.npz", X=X[:N], y=y[:N])
    names = [f"px{i}" for i in range(64)]
    with open(d / "data.csv", "w") as f:
        f.write("cell," + ",".join(names) + ",digit\n")
        for i in range(N):
            f.write(f"c{i}," + ",".join(f"{v:g}" for v in X[i]) + f",{y[i]}\n")
    np.savetxt(d / "plain.tsv", X[:N], delimiter="\t", fmt="%g")
    np.save(d / "new.npy", X[N:N + 40])
    return d, X, y


def run(argv, capsys):
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc, err, pattern):
    assert rc == cli.EXIT_USAGE
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fasttsne") and "error:" in lines[0]
    assert "Traceback" not in err
    assert re.search(pattern, lines[0]), lines[0]


# ---------------------------------------------------------------------------- embed
def test_embed_npy_writes_the_positions_of_the_core_tsne(files, capsys):
    d, X, _ = files
    rc, out, _ = run(["embed", d / "X.npy", "-o", d / "Y.npy", *FAST], capsys)
    assert rc == 0 and "wrote 150 x 2 positions" in out
    expected = fasttsne.TSNE(n_iter=30, early_exaggeration_iter=20, random_state=0).fit_transform(X[:N])
    np.testing.assert_array_equal(np.load(d / "Y.npy"), expected)


def test_embed_csv_detects_the_header_and_leaves_label_and_dropped_columns_out(files, capsys):
    d, _, _ = files
    run(["embed", d / "X.npy", "-o", d / "from_npy.npy", *FAST], capsys)
    rc, _, _ = run(["embed", d / "data.csv", "--labels", "digit", "--drop", "cell", "-o", d / "from_csv.npy",
                    *FAST], capsys)
    assert rc == 0
    np.testing.assert_allclose(np.load(d / "from_csv.npy"), np.load(d / "from_npy.npy"))


def test_embed_reads_a_headerless_tsv(files, capsys):
    d, _, _ = files
    rc, _, _ = run(["embed", d / "plain.tsv", "-o", d / "tsv.npy", *FAST], capsys)
    assert rc == 0 and np.load(d / "tsv.npy").shape == (N, 2)


def test_embed_writes_csv_output_with_a_header(files, capsys):
    d, _, _ = files
    rc, _, _ = run(["embed", d / "data.npz", "-o", d / "Y.csv", *FAST], capsys)
    assert rc == 0
    with open(d / "Y.csv") as f:
        assert f.readline().strip() == "tsne_1,tsne_2"
    assert np.loadtxt(d / "Y.csv", delimiter=",", skiprows=1).shape == (N, 2)


def test_embed_reads_an_npz_array_chosen_with_key(files, capsys):
    d, X, _ = files
    np.savez(d / "two.npz", first=X[:N], second=X[:N, :10])
    rc, _, _ = run(["embed", d / "two.npz", "--key", "second", "-o", d / "two.npy", *FAST], capsys)
    assert rc == 0 and np.load(d / "two.npy").shape == (N, 2)


def test_embed_reads_h5ad_using_x_pca_by_default(files, capsys):
    anndata = pytest.importorskip("anndata")
    d, X, y = files
    adata = anndata.AnnData(np.zeros((N, 3), dtype=np.float32))
    adata.obsm["X_pca"] = X[:N]
    adata.obs["digit"] = y[:N].astype(str)
    adata.write_h5ad(d / "data.h5ad")
    run(["embed", d / "X.npy", "-o", d / "ref.npy", *FAST], capsys)
    rc, _, _ = run(["embed", d / "data.h5ad", "--labels", "digit", "-o", d / "h5ad.npy", *FAST], capsys)
    assert rc == 0
    np.testing.assert_array_equal(np.load(d / "h5ad.npy"), np.load(d / "ref.npy"))


def test_embed_save_then_transform_places_new_points_as_the_map_does(files, capsys):
    d, X, _ = files
    rc, out, _ = run(["embed", d / "X.npy", "-o", d / "Y.npy", "--save", d / "digits.map", *FAST], capsys)
    assert rc == 0 and "reference map" in out
    rc, out, _ = run(["transform", d / "digits.map", d / "new.npy", "-o", d / "new_Y.npy"], capsys)
    assert rc == 0 and "wrote 40 x 2 positions" in out
    expected = fasttsne.load(d / "digits.map").transform(X[N:N + 40], random_state=0)
    np.testing.assert_array_equal(np.load(d / "new_Y.npy"), expected)


def test_embed_plot_writes_a_png(files, capsys):
    pytest.importorskip("matplotlib")
    d, _, _ = files
    rc, out, _ = run(["embed", d / "data.npz", "--labels", "y", "-o", d / "Y.npy", "--plot", d / "map.png",
                      *FAST], capsys)
    assert rc == 0 and "plot" in out
    with open(d / "map.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_embed_is_quiet_when_not_on_a_terminal(files, capsys):
    d, _, _ = files
    _, out, err = run(["embed", d / "X.npy", "-o", d / "Y.npy", *FAST], capsys)
    assert "neighbours" not in out and "it/s" not in err


def test_embed_verbose_prints_one_timing_line_per_phase(files, capsys):
    d, _, _ = files
    _, _, err = run(["embed", d / "X.npy", "-o", d / "Y.npy", "--verbose", *FAST], capsys)
    for phase in ("neighbours", "affinities", "initialisation", "optimisation"):
        assert re.search(rf"^fasttsne: {phase} \d+\.\d\d s$", err, re.M), (phase, err)


def test_warnings_are_one_line_each(files, capsys):
    d, X, _ = files
    np.save(d / "tiny.npy", X[:20])
    rc, _, err = run(["embed", d / "tiny.npy", "-o", d / "tiny_Y.npy", *FAST], capsys)
    assert rc == 0
    assert err.strip().splitlines() == [l for l in err.strip().splitlines() if l.startswith("fasttsne: warning:")]
    assert "perplexity" in err


# ---------------------------------------------------------------------------- user mistakes
def test_missing_input_file_is_a_one_line_error(files, capsys):
    d, _, _ = files
    assert_one_line_error(*run(["embed", d / "absent.csv", "-o", d / "Y.npy"], capsys)[::2], "does not exist")


def test_unknown_label_column_lists_the_columns(files, capsys):
    d, _, _ = files
    rc, _, err = run(["embed", d / "data.csv", "--labels", "kind", "--drop", "cell", "-o", d / "Y.npy"], capsys)
    assert_one_line_error(rc, err, r"'kind' is neither a file nor a column .*digit")


def test_non_numeric_column_suggests_labels_or_drop(files, capsys):
    d, _, _ = files
    rc, _, err = run(["embed", d / "data.csv", "-o", d / "Y.npy"], capsys)
    assert_one_line_error(rc, err, r"column 'cell' has the non-numeric value 'c0' on line 2.*--drop cell")


def test_missing_value_in_a_table_names_its_line(files, capsys):
    d, _, _ = files
    with open(d / "holes.csv", "w") as f:
        f.write("a,b\n1,2\n3,\n5,6\n")
    assert_one_line_error(*run(["embed", d / "holes.csv", "-o", d / "Y.npy"], capsys)[::2],
                          r"column 'b' has an empty \(missing\) value on line 3")


def test_bad_parameter_value_is_a_one_line_error(files, capsys):
    d, _, _ = files
    assert_one_line_error(*run(["embed", d / "X.npy", "-o", d / "Y.npy", "--perplexity", "-5"], capsys)[::2],
                          "perplexity must be a positive number or a non-empty list of positive numbers, got -5.0")


def test_unparseable_option_is_a_one_line_error(files, capsys):
    d, _, _ = files
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["embed", str(d / "X.npy"), "-o", str(d / "Y.npy"), "--perplexity", "thirty"])
    _, err = capsys.readouterr()
    assert_one_line_error(exit_info.value.code, err, r"invalid float value: 'thirty'")


def test_unknown_output_format_fails_before_any_work(files, capsys):
    d, _, _ = files
    assert_one_line_error(*run(["embed", d / "X.npy", "-o", d / "Y.txt"], capsys)[::2], r"\.npy, \.csv, \.tsv")


def test_missing_output_folder_is_a_one_line_error(files, capsys):
    d, _, _ = files
    assert_one_line_error(*run(["embed", d / "X.npy", "-o", d / "nowhere" / "Y.npy"], capsys)[::2],
                          "does not exist")


def test_transform_with_other_features_is_a_one_line_error(files, capsys):
    d, X, _ = files
    run(["embed", d / "X.npy", "-o", d / "Y.npy", "--save", d / "m.map", *FAST], capsys)
    np.save(d / "narrow.npy", X[:5, :10])
    assert_one_line_error(*run(["transform", d / "m.map", d / "narrow.npy", "-o", d / "o.npy"], capsys)[::2],
                          "10 features but the reference was fitted on 64")


def test_transform_of_a_file_that_is_not_a_map_is_a_one_line_error(files, capsys):
    d, _, _ = files
    assert_one_line_error(*run(["transform", d / "data.npz", d / "new.npy", "-o", d / "o.npy"], capsys)[::2],
                          "not a fasttsne embedding file")


# ---------------------------------------------------------------------------- demo and entry points
def test_demo_prints_time_kl_and_accuracy(monkeypatch, digits, tmp_path, capsys):
    import fasttsne.datasets
    X, y = digits
    monkeypatch.setattr(fasttsne.datasets, "load_digits", lambda: (X[:200], y[:200]))
    rc, out, _ = run(["demo", "--n-jobs", "1", "--plot", "none"], capsys)
    assert rc == 0
    assert out.splitlines()[0] == "fasttsne 0.1.0: embedding the bundled digits (200 x 64) with n_jobs=1"
    assert re.fullmatch(r"time \d+\.\d\d s   KL \d\.\d{4}   10-NN accuracy \d\.\d{4}", out.splitlines()[1])


def test_python_m_fasttsne_help_lists_every_command_and_option(tmp_path):
    result = subprocess.run([sys.executable, "-m", "fasttsne", "embed", "--help"], capture_output=True,
                            text=True, cwd=tmp_path)  # not the repo root: test the installed package
    assert result.returncode == 0
    for option in ("--output", "--save", "--perplexity", "--metric", "--n-jobs", "--seed", "--neighbors",
                   "--method", "--plot", "--labels", ".h5ad"):
        assert option in result.stdout
    top = cli.build_parser().format_help()
    assert all(command in top for command in ("embed", "transform", "demo"))
