"""Placing Dask arrays into a map (fasttsne.dask): on a 2-process LocalCluster the result is
bitwise the in-process transform, the map reaches each worker once, a bad chunk is named by
its rows, and a killed worker's chunks are recomputed identically."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import fasttsne  # noqa: E402
import fasttsne.dask as fdask  # noqa: E402
from fasttsne.cli import main  # noqa: E402

# the worker processes cannot import this test module: send its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])

GRADIENTS = ["exact", "bh", "fft"]
PLACE = dict(n_iter=30)
#: Irregular row chunks, one of them a single row.
CHUNKS = (50, 70, 1, 59, 60)


@pytest.fixture(scope="module")
def client():
    """One 2-worker process cluster for the module (starting one costs seconds)."""
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(4, 8))
    X = np.repeat(centres, 100, axis=0) + rng.normal(size=(400, 8))
    queries = centres[rng.integers(0, 4, size=sum(CHUNKS))] + rng.normal(size=(sum(CHUNKS), 8))
    return X, queries


@pytest.fixture(scope="module")
def maps(data):
    X, _ = data
    return {m: fasttsne.TSNE(negative_gradient_method=m, neighbors="exact", early_exaggeration_iter=30,
                             n_iter=30, random_state=0).fit(X) for m in GRADIENTS}


def chunked(queries, chunks=CHUNKS):
    return da.from_array(queries, chunks=(chunks, queries.shape[1]))


def received(client):
    return client.run(fdask.maps_received)


# ------------------------------------------------------------------ equal to in-process
@pytest.mark.parametrize("method", GRADIENTS)
def test_a_dask_array_placed_on_the_cluster_is_bitwise_the_in_process_transform(client, maps, data, method):
    _, queries = data
    placed = maps[method].transform(chunked(queries), **PLACE)
    assert isinstance(placed, da.Array)
    assert np.array_equal(placed.compute(), maps[method].transform(queries, **PLACE))


def test_the_positions_keep_the_row_chunks_of_the_query(client, maps, data):
    _, queries = data
    placed = maps["bh"].transform(chunked(queries), **PLACE)
    assert placed.chunks == (CHUNKS, (2,))


def test_column_chunks_of_the_query_are_joined_without_changing_the_result(client, maps, data):
    _, queries = data
    by_columns = da.from_array(queries, chunks=(60, 3))
    assert np.array_equal(maps["fft"].transform(by_columns, **PLACE).compute(),
                          maps["fft"].transform(queries, **PLACE))


def test_a_saved_then_loaded_map_places_a_dask_array_as_the_original_in_process(client, maps, data, tmp_path):
    _, queries = data
    maps["fft"].save(tmp_path / "map.npz")
    loaded = fasttsne.load(tmp_path / "map.npz")
    assert np.array_equal(loaded.transform(chunked(queries), **PLACE).compute(),
                          maps["fft"].transform(queries, **PLACE))


def test_a_saved_map_given_by_path_is_loaded_once_per_worker_and_gives_the_in_process_result(
        client, maps, data, tmp_path):
    _, queries = data
    maps["bh"].save(tmp_path / "map.npz")
    before = received(client)
    placed = fdask.transform(tmp_path / "map.npz", chunked(queries, (20,) * 12), **PLACE)
    assert np.array_equal(placed.compute(), maps["bh"].transform(queries, **PLACE))
    loads = [received(client)[w] - before[w] for w in before]
    assert max(loads) == 1 and min(loads) >= 0


def test_a_random_initialisation_draws_each_row_what_the_in_process_transform_draws(client, maps, data):
    _, queries = data
    params = dict(PLACE, initialization="random", random_state=7)
    assert np.array_equal(maps["bh"].transform(chunked(queries), **params).compute(),
                          maps["bh"].transform(queries, **params))


def test_an_initialisation_array_is_split_along_the_query_chunks(client, maps, data):
    _, queries = data
    init = np.asarray(maps["bh"])[: len(queries)] * 0.5
    assert np.array_equal(maps["bh"].transform(chunked(queries), initialization=init, **PLACE).compute(),
                          maps["bh"].transform(queries, initialization=init, **PLACE))


def test_the_scikit_learn_estimator_places_a_dask_array_as_a_numpy_array(client, data):
    sklearn_tsne = pytest.importorskip("fasttsne.sklearn")
    X, queries = data
    est = sklearn_tsne.TSNE(early_exaggeration_iter=30, max_iter=60, neighbors="exact", random_state=0,
                            transform_params=PLACE).fit(X)
    placed = est.transform(chunked(queries))
    assert isinstance(placed, da.Array)
    assert np.array_equal(placed.compute(), est.transform(queries))


# ------------------------------------------------------------------ the map on the workers
def test_the_map_is_shipped_to_each_worker_once_however_many_chunks(client, maps, data):
    _, queries = data
    before = received(client)
    maps["fft"].transform(chunked(queries, (10,) * 24), **PLACE).compute()
    after = received(client)
    assert {w: after[w] - before[w] for w in after} == {w: 1 for w in after}


def _count_reference_builds(module, name):
    """On a worker: wrap the backend class's ``reference`` to count its calls."""
    import importlib
    cls = getattr(importlib.import_module(module), name)
    build = cls.reference

    def counted(self, *args, **kwargs):
        counted.calls += 1
        return build(self, *args, **kwargs)
    counted.calls, counted.original = 0, build
    cls.reference = counted


def _reference_builds(module, name):
    """On a worker: the calls counted, and the class's own ``reference`` back."""
    import importlib
    cls = getattr(importlib.import_module(module), name)
    calls = cls.reference.calls
    cls.reference = cls.reference.original
    return calls


def test_each_worker_builds_the_reference_repulsion_once_for_all_its_chunks(client, maps, data):
    _, queries = data
    backend = type(maps["bh"].gradient)
    where = (backend.__module__, backend.__name__)
    client.run(_count_reference_builds, *where)
    try:
        maps["bh"].transform(chunked(queries, (10,) * 24), **PLACE).compute()
    finally:
        builds = client.run(_reference_builds, *where)
    assert sorted(builds.values()) == [1, 1]


# ------------------------------------------------------------------ faults
def test_a_chunk_with_nan_rows_fails_naming_its_row_range(client, maps, data):
    _, queries = data
    bad = queries.copy()
    bad[130, 2] = np.nan  # in the third chunk of 60 rows: rows 120 to 179
    with pytest.raises(fdask.ChunkError, match=r"rows 120 to 179 .*row 130") as caught:
        maps["bh"].transform(chunked(bad, (60, 60, 60, 60)), **PLACE).compute()
    assert caught.value.rows == (120, 180)


def test_a_query_with_other_features_than_the_map_is_refused_before_computing(maps, data):
    _, queries = data
    with pytest.raises(ValueError, match="5 features but the reference was fitted on 8"):
        maps["bh"].transform(chunked(queries[:, :5], 60), **PLACE)


def test_callbacks_are_refused_for_a_dask_array(maps, data):
    _, queries = data
    with pytest.raises(ValueError, match="callbacks are not supported"):
        maps["bh"].transform(chunked(queries), callbacks=lambda *a: False, **PLACE)


def test_killing_a_worker_that_holds_finished_chunks_mid_run_gives_the_identical_result(client, maps, data):
    _, queries = data
    placed = client.persist(maps["fft"].transform(chunked(queries, (10,) * 24), **PLACE))
    futures = client.futures_of(placed)
    finished = next(iter(distributed.wait(futures, return_when="FIRST_COMPLETED").done))
    holder = client.who_has(finished)[finished.key][0]
    os.kill(client.run(os.getpid)[holder], signal.SIGKILL)
    try:
        assert np.array_equal(placed.compute(), maps["fft"].transform(queries, **PLACE))
        assert holder not in client.scheduler_info()["workers"]  # its chunks were lost and recomputed
    finally:
        client.wait_for_workers(2, timeout=60)


# ------------------------------------------------------------------ command line
def test_the_cli_places_a_zarr_array_on_a_scheduler_and_writes_zarr_in_chunks(client, maps, data, tmp_path):
    zarr = pytest.importorskip("zarr")
    _, queries = data
    maps["bh"].save(tmp_path / "map.npz")
    stored = zarr.open_array(str(tmp_path / "in.zarr"), mode="w", shape=queries.shape, chunks=(60, 8),
                             dtype="float64")
    stored[:] = queries
    status = main(["transform", str(tmp_path / "map.npz"), str(tmp_path / "in.zarr"), "-o",
                   str(tmp_path / "out.zarr"), "--n-iter", "30", "--scheduler", client.scheduler.address, "-q"])
    assert status == 0
    written = zarr.open_array(str(tmp_path / "out.zarr"), mode="r")
    assert np.array_equal(written[:], maps["bh"].transform(queries, **PLACE, random_state=0))


def test_the_cli_reads_npy_in_chunks_of_the_rows_asked_and_writes_npy(client, maps, data, tmp_path):
    _, queries = data
    maps["fft"].save(tmp_path / "map.npz")
    np.save(tmp_path / "in.npy", queries)
    status = main(["transform", str(tmp_path / "map.npz"), str(tmp_path / "in.npy"), "-o",
                   str(tmp_path / "out.npy"), "--n-iter", "30", "--chunk-rows", "45",
                   "--scheduler", client.scheduler.address, "-q"])
    assert status == 0
    assert np.array_equal(np.load(tmp_path / "out.npy"), maps["fft"].transform(queries, **PLACE, random_state=0))
    assert not os.path.exists(tmp_path / "out.npy.partial")


def test_the_cli_names_the_bad_chunk_and_leaves_no_output(client, maps, data, tmp_path, capsys):
    _, queries = data
    maps["bh"].save(tmp_path / "map.npz")
    bad = queries.copy()
    bad[7] = np.inf
    np.save(tmp_path / "in.npy", bad)
    status = main(["transform", str(tmp_path / "map.npz"), str(tmp_path / "in.npy"), "-o",
                   str(tmp_path / "out.npy"), "--chunk-rows", "100", "--scheduler", client.scheduler.address, "-q"])
    assert status == 2
    assert "rows 0 to 99" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "out.npy") and not os.path.exists(tmp_path / "out.npy.partial")


def test_the_cli_refuses_options_that_need_the_whole_result_with_a_scheduler(maps, tmp_path, capsys):
    maps["bh"].save(tmp_path / "map.npz")
    np.save(tmp_path / "in.npy", np.zeros((3, 8)))
    status = main(["transform", str(tmp_path / "map.npz"), str(tmp_path / "in.npy"), "-o",
                   str(tmp_path / "out.npy"), "--plot", str(tmp_path / "p.png"), "--scheduler", "tcp://nowhere:1"])
    assert status == 2
    assert "--plot is not available with --scheduler" in capsys.readouterr().err


# ------------------------------------------------------------------ without a cluster
def test_without_a_distributed_client_the_local_scheduler_gives_the_in_process_transform(maps, data, monkeypatch):
    _, queries = data
    monkeypatch.setattr(fdask, "_current_client", lambda: None)
    placed = maps["exact"].transform(chunked(queries), **PLACE)
    assert np.array_equal(placed.compute(scheduler="threads"), maps["exact"].transform(queries, **PLACE))


def test_importing_fasttsne_does_not_import_dask():
    code = ("import sys, fasttsne, fasttsne.cli\n"
            "sys.exit(any(m.split('.')[0] in ('dask', 'distributed') for m in sys.modules))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
