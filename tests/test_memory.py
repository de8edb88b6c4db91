"""Memory a fit holds: data converted at the door is kept by the index as it is, never copied a
second time, while the caller's own array is still copied (a map never depends on an array the
caller can change)."""
import os
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import fasttsne
from fasttsne import cli
from fasttsne._validation import check_data_owned, handed_over, is_handed_over
from fasttsne.affinity import PerplexityBasedNN

#: Wide and short, so that the float64 copy of the data dwarfs every other allocation of the fit
#: (neighbour lists, distance blocks, P).
N, D = 400, 6000
DATA_BYTES = N * D * 8


def _wide_uint8():
    return np.random.default_rng(0).integers(0, 256, size=(N, D), dtype=np.uint8)


def _fit_affinities(X):
    return PerplexityBasedNN(10, neighbors="exact", random_state=0).fit(X)


def _prepare_map(X):
    return fasttsne.TSNE(perplexity=10, neighbors="exact", initialization="random",
                         random_state=0).prepare_initial(X)


def _peak_bytes(work, X):
    tracemalloc.start()
    try:
        work(X)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("work", [_fit_affinities, _prepare_map], ids=["affinity-fit", "tsne-prepare"])
def test_data_converted_at_the_door_is_not_copied_a_second_time(work):
    # two float64 copies of N x D would exist at once if the index copied the converted data;
    # the exact search's float32 ranking copy adds half of one
    peak = _peak_bytes(work, _wide_uint8())
    assert peak < 1.9 * DATA_BYTES, f"peak {peak / DATA_BYTES:.2f} x the float64 data"


def test_the_command_line_keeps_the_array_it_read_without_a_copy(tmp_path, capsys):
    path = tmp_path / "data.npy"
    np.save(path, _wide_uint8().astype(np.float64))
    argv = ["embed", str(path), "-o", str(tmp_path / "out.npy"), "--neighbors", "exact", "--perplexity", "10",
            "--initialization", "random", "--n-iter", "1", "--early-exaggeration-iter", "1"]
    # the array read (1x) and the exact search's float32 ranking copy (0.5x); a copy kept by the
    # index would add 1x
    peak = _peak_bytes(cli.main, argv)
    capsys.readouterr()
    assert peak < 1.9 * DATA_BYTES, f"peak {peak / DATA_BYTES:.2f} x the float64 data"


def test_the_callers_float64_array_is_still_copied_by_the_index():
    X = _wide_uint8().astype(np.float64)
    model = _fit_affinities(X)
    assert not np.shares_memory(model.index._reference, X)


@pytest.mark.parametrize("X, owned", [
    (np.zeros((3, 2), dtype=np.uint8), True),
    (np.zeros((3, 2), dtype=np.float64), False),
    (np.zeros((3, 2), dtype=np.float32), False),
    (np.zeros((2, 3), dtype=np.float64).T, True),
    ([[0.0, 1.0], [2.0, 3.0]], True),
], ids=["uint8", "float64", "float32", "fortran-order", "list"])
def test_check_data_owned_reports_a_copy_made_at_the_door(X, owned):
    assert check_data_owned(X)[1] is owned


def test_a_view_of_handed_over_data_is_not_handed_over():
    X = np.zeros((4, 3))
    with handed_over(X):
        assert is_handed_over(X)
        assert not is_handed_over(X[:2])


def test_handed_over_ends_with_its_block():
    X = np.zeros((4, 3))
    with handed_over(X):
        pass
    assert not is_handed_over(X)


def test_handed_over_with_owned_false_hands_nothing_over():
    X = np.zeros((4, 3))
    with handed_over(X, owned=False):
        assert not is_handed_over(X)


def test_importing_fasttsne_does_not_import_scipy_stats():
    # scipy.stats alone adds tens of megabytes to every process that imports fasttsne
    code = "import sys, fasttsne; print('scipy.stats' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "False"
