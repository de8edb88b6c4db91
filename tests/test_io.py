"""save/load and pickle: the whole reference map survives, in another process too."""
import json
import os
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fasttsne


@pytest.fixture(scope="module")
def fitted(digits):
    X, _ = digits
    return fasttsne.TSNE(n_iter=30, early_exaggeration_iter=30, random_state=0, n_jobs=2).fit(X[:800]), X[800:900]


@pytest.fixture
def saved(fitted, tmp_path):
    path = tmp_path / "map.tsne"
    fitted[0].save(path)
    return path


def test_load_restores_positions_P_and_optimizer_state(fitted, saved):
    emb, _ = fitted
    loaded = fasttsne.load(saved)
    assert np.array_equal(np.asarray(loaded), np.asarray(emb))
    assert (loaded.P != emb.P).nnz == 0
    assert np.array_equal(loaded.optimizer_state.gains, emb.optimizer_state.gains)
    assert loaded.n_iter == emb.n_iter and loaded.kl_divergence == emb.kl_divergence


def test_save_writes_exactly_the_named_file_and_nothing_else(fitted, tmp_path):
    fitted[0].save(tmp_path / "map")
    assert os.listdir(tmp_path) == ["map"]


def test_loaded_embedding_transforms_like_the_original(fitted, saved):
    emb, X_new = fitted
    assert np.array_equal(fasttsne.load(saved).transform(X_new, n_iter=20), emb.transform(X_new, n_iter=20))


def test_loaded_embedding_continues_optimising_like_the_original(fitted, saved):
    emb, _ = fitted
    assert np.array_equal(np.asarray(fasttsne.load(saved).optimize(10)), np.asarray(emb.optimize(10)))


def test_transform_in_a_fresh_process_matches(fitted, saved, tmp_path):
    emb, X_new = fitted
    np.save(tmp_path / "new.npy", X_new)
    code = ("import numpy as np, fasttsne, sys; "
            "e = fasttsne.load(sys.argv[1]); "
            "np.save(sys.argv[3], e.transform(np.load(sys.argv[2]), n_iter=20, random_state=1))")
    subprocess.run([sys.executable, "-c", code, str(saved), str(tmp_path / "new.npy"), str(tmp_path / "out.npy")],
                   check=True, cwd=tmp_path)  # a fresh process on the installed package, not the source tree
    assert np.array_equal(np.load(tmp_path / "out.npy"), emb.transform(X_new, n_iter=20, random_state=1))


def test_pickle_round_trip_transforms_like_the_original(fitted):
    emb, X_new = fitted
    clone = pickle.loads(pickle.dumps(emb))
    assert np.array_equal(clone.transform(X_new, n_iter=20), emb.transform(X_new, n_iter=20))


def test_truncated_file_raises_a_clear_error(saved, tmp_path):
    bad = tmp_path / "truncated"
    bad.write_bytes(saved.read_bytes()[: saved.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated, corrupt or not a fasttsne embedding file"):
        fasttsne.load(bad)


def test_corrupted_bytes_raise_a_clear_error(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = b"\xff" * 64
    bad = tmp_path / "corrupt"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="truncated, corrupt|not a fasttsne"):
        fasttsne.load(bad)


def test_foreign_npz_is_rejected(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match="not a fasttsne embedding file"):
        fasttsne.load(tmp_path / "other.npz")


def test_plain_npy_is_rejected(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros(3))
    with pytest.raises(ValueError, match="not a fasttsne embedding file: holds a single numpy array"):
        fasttsne.load(tmp_path / "x.npy")


def _rewrite_metadata(src, dst, edit):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "metadata.json.npy":
                import io
                meta = json.loads(np.load(io.BytesIO(data)).tobytes())
                edit(meta)
                buf = io.BytesIO()
                np.save(buf, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
                data = buf.getvalue()
            zout.writestr(item, data)


def test_newer_format_version_is_rejected_naming_the_versions(saved, tmp_path):
    _rewrite_metadata(saved, tmp_path / "newer", lambda m: m.update(version=99))
    with pytest.raises(ValueError, match="format version 99.*reads up to version 2: upgrade"):
        fasttsne.load(tmp_path / "newer")


def test_unknown_class_in_the_file_is_refused_not_imported(saved, tmp_path):
    def poison(meta):
        meta["embedding"]["__dict__"]["affinities"]["__object__"] = "affinity:os.system"
    _rewrite_metadata(saved, tmp_path / "poisoned", poison)
    with pytest.raises(ValueError, match="unknown affinity class 'os.system'"):
        fasttsne.load(tmp_path / "poisoned")


def _with_pickled_member(src, dst, name):
    """Copy the map ``src`` to ``dst`` with member ``name`` (replaced or added) a pickled object array."""
    import io
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.namelist():
            if item != name:
                zout.writestr(item, zin.read(item))
        zout.writestr(name, buf.getvalue())
    return dst


def test_pickled_members_are_refused_not_unpickled(saved, tmp_path):
    # the positions' member replaced by a pickled object array
    with pytest.raises(ValueError, match="corrupt or not a fasttsne embedding file.*'a0'.*not a plain numeric"):
        fasttsne.load(_with_pickled_member(saved, tmp_path / "pickled", "a0.npy"))


def test_unreferenced_members_are_never_read(saved, tmp_path):
    _with_pickled_member(saved, tmp_path / "extra", "zz.npy")
    loaded = fasttsne.load(tmp_path / "extra")
    np.testing.assert_array_equal(np.asarray(loaded), np.asarray(fasttsne.load(saved)))


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        fasttsne.load(tmp_path / "nope")


@pytest.mark.parametrize("method", ["bh", "fft"])
def test_embedding_with_a_gradient_backend_instance_saves_and_loads(digits, tmp_path, method):
    from fasttsne import gradients
    X, _ = digits
    backend = gradients.get_gradient(method, n_samples=300, n_components=2)
    emb = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0,
                        negative_gradient_method=backend).fit(X[:300])
    emb.save(tmp_path / "m")
    loaded = fasttsne.load(tmp_path / "m")
    assert type(loaded.gradient) is type(backend)
    assert np.array_equal(loaded.transform(X[300:320], n_iter=5), emb.transform(X[300:320], n_iter=5))


def _backend_instances():
    from fasttsne import nearest_neighbors as nn
    from fasttsne.neighbors import Annoy, Exact, RPForest
    return {"Exact()": Exact(), "Annoy(n_trees=5)": Annoy(n_trees=5), "RPForest(n_trees=4)": RPForest(n_trees=4),
            "nearest_neighbors.Annoy()": nn.Annoy(), "nearest_neighbors.Sklearn()": nn.Sklearn()}


@pytest.mark.parametrize("name", list(_backend_instances()))
def test_map_fitted_with_a_neighbour_backend_instance_saves_loads_and_transforms(digits, tmp_path, name):
    X, _ = digits
    backend = _backend_instances()[name]
    emb = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0, neighbors=backend).fit(X[:400])
    emb.save(tmp_path / "m")
    loaded = fasttsne.load(tmp_path / "m")
    assert loaded.affinities.neighbors.name == backend.name  # openTSNE's classes load as the backend they are
    assert np.array_equal(loaded.transform(X[400:420], n_iter=5), emb.transform(X[400:420], n_iter=5))


def test_unfitted_neighbour_backend_state_holding_data_is_refused():
    from fasttsne.neighbors import Annoy
    state = Annoy().__getstate__()
    Annoy.check_saved_state(state)  # the settings alone are a valid unfitted backend
    with pytest.raises(ValueError, match="unfitted neighbour index holds '_index'"):
        Annoy.check_saved_state(dict(state, _index=b"\x00" * 64))


_SLOW = pytest.mark.skipif(not os.environ.get("FASTTSNE_SLOW_TESTS"),
                           reason="pynndescent compiles with numba (~1 min); set FASTTSNE_SLOW_TESTS=1")


@pytest.mark.parametrize("method", ["bh", "fft"])
@pytest.mark.parametrize("neighbors", ["exact", "annoy", "rpforest", pytest.param("pynndescent", marks=_SLOW)])
def test_every_backend_combination_saves_loads_and_transforms(digits, tmp_path, neighbors, method):
    X, _ = digits
    emb = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0, neighbors=neighbors,
                        negative_gradient_method=method).fit(X[:1200])
    emb.save(tmp_path / "m")
    loaded = fasttsne.load(tmp_path / "m")
    assert np.array_equal(np.asarray(loaded), np.asarray(emb))
    Y_loaded = loaded.transform(X[1200:1250], n_iter=5)
    Y = emb.transform(X[1200:1250], n_iter=5)
    if neighbors == "pynndescent":  # its search tree is redrawn on load: neighbours may differ slightly
        assert np.mean(np.linalg.norm(Y_loaded - Y, axis=1)) < 0.1 * np.asarray(emb).std()
    else:
        assert np.array_equal(Y_loaded, Y)


DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def test_a_version_1_file_from_before_the_registry_still_loads_and_transforms(digits):
    """``data/embedding-v1.tsne`` was written by fasttsne at 83f12a1 (io.py): TSNE(perplexity=10,
    neighbors="exact", negative_gradient_method=BarnesHut(0.5), early_exaggeration_iter=10,
    n_iter=10, random_state=0) on the first 150 bundled digits; the .npz holds that code's results."""
    X, _ = digits
    expected = np.load(os.path.join(DATA_DIR, "embedding-v1-expected.npz"))
    loaded = fasttsne.load(os.path.join(DATA_DIR, "embedding-v1.tsne"))
    assert np.array_equal(np.asarray(loaded), expected["positions"])
    assert np.array_equal(loaded.transform(X[150:160], n_iter=5, random_state=0), expected["transformed"])
    assert np.array_equal(np.asarray(loaded.optimize(3)), expected["optimized"])
