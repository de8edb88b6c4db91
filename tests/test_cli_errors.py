"""The command line reports a user's mistake in one line with exit status 2, and still shows
the traceback of a genuine bug."""
import json

import numpy as np
import pytest

import fasttsne
from fasttsne import cli


def _one_line_usage_error(capsys, argv):
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == cli.EXIT_USAGE
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


def test_a_one_dimensional_npy_is_a_usage_error(tmp_path, capsys):
    np.save(tmp_path / "one.npy", np.arange(10.0))
    err = _one_line_usage_error(capsys, ["embed", str(tmp_path / "one.npy"), "-o", str(tmp_path / "o.npy")])
    assert "1-D" in err and "2-D" in err


def test_an_h5ad_without_x_is_a_usage_error(tmp_path, capsys):
    anndata = pytest.importorskip("anndata")
    anndata.AnnData(obs={"cell": np.arange(5)}).write_h5ad(tmp_path / "empty.h5ad")
    err = _one_line_usage_error(capsys, ["embed", str(tmp_path / "empty.h5ad"), "-o", str(tmp_path / "o.npy")])
    assert "no data matrix" in err


def _fake_map(path, text):
    np.savez(path, **{"metadata.json": np.frombuffer(text.encode(), dtype=np.uint8)})


@pytest.mark.parametrize("text, what", [
    (json.dumps({"format": "fasttsne-embedding", "version": 1}), "no embedding state"),
    ("[" * 100000 + "]" * 100000, "nests deeper"),
])
def test_a_map_file_without_an_embedding_or_nested_too_deep_is_a_usage_error(tmp_path, capsys, text, what):
    _fake_map(tmp_path / "map.npz", text)
    np.save(tmp_path / "new.npy", np.zeros((3, 4)))
    err = _one_line_usage_error(capsys, ["transform", str(tmp_path / "map.npz"), str(tmp_path / "new.npy"),
                                         "-o", str(tmp_path / "o.npy")])
    assert what in err


def test_a_bug_inside_the_library_still_shows_its_traceback(tmp_path, monkeypatch):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(40, 3)))

    def broken_fit(self, X, *args, **kwargs):
        return np.zeros(3).reshape(2, 2)  # a ValueError raised by numpy, not a worded refusal

    monkeypatch.setattr(fasttsne.TSNE, "fit", broken_fit)
    with pytest.raises(ValueError, match="reshape"):
        cli.main(["embed", str(tmp_path / "x.npy"), "-o", str(tmp_path / "o.npy")])
