"""Crafted map files: each is refused by ``fasttsne.load`` with one ValueError naming the file
and what is wrong, before any compiled code sees it.

The files are written here; they are loaded (and, when loading succeeds, used) in one child
process, so a crash fails the tests instead of killing the suite. The crafted files carry
valid checksums: they stand for an attacker who knows the format, not for damage.
"""
import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import fasttsne
from fasttsne import persist
from fasttsne._npz import checksum

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: Loads each file named on the command line; on success also uses the map (transform,
#: optimize), so a state that slipped through would crash here. One JSON line per file.
CHILD = r"""
import json, sys
import numpy as np
import fasttsne
for path in sys.argv[1:]:
    try:
        e = fasttsne.load(path)
        e.transform(np.zeros((2, e.n_features)), n_iter=3)
        e.optimize(3)
        out = {"result": "loaded"}
    except ValueError as err:
        out = {"result": "ValueError", "message": str(err)}
    except Exception as err:
        out = {"result": type(err).__name__, "message": str(err)}
    print(json.dumps({"path": path, **out}), flush=True)
"""


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _lying_npy(shape, array):
    """``.npy`` bytes whose header announces ``shape`` but that hold ``array``'s data."""
    text = "{'descr': '<f8', 'fortran_order': False, 'shape': %r, }" % (shape,)
    text += " " * (63 - (10 + len(text)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text.encode() + array.tobytes()


def _members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _meta(members):
    return json.loads(np.load(io.BytesIO(members["metadata.json.npy"])).tobytes())


def craft(src, dst, edit_meta=None, arrays=None, raw=None, compress=(), checksums=True, edit_text=None):
    """Copy the map ``src`` to ``dst`` with edits: ``edit_meta(meta)`` on the metadata,
    ``arrays`` {key: array} replacing members, ``raw`` {member name: bytes} written as given,
    ``compress`` member names to deflate, ``edit_text(json_text)`` on the metadata's text;
    checksums recomputed unless ``checksums`` is False."""
    members = _members(src)
    meta = _meta(members)
    for key, a in (arrays or {}).items():
        members[f"{key}.npy"] = _npy(np.ascontiguousarray(a))
        if checksums:
            meta["checksums"][key] = checksum(np.ascontiguousarray(a))
    if edit_meta is not None:
        edit_meta(meta)
    text = json.dumps(meta) if edit_text is None else edit_text(json.dumps(meta))
    members["metadata.json.npy"] = _npy(np.frombuffer(text.encode(), dtype=np.uint8))
    members.update(raw or {})
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in members.items():
            z.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED)
    return dst


def state(meta):
    """The Embedding's encoded attribute dict inside ``meta``."""
    return meta["embedding"]["__dict__"]


def affinity_state(meta):
    return state(meta)["affinities"]["state"]["__dict__"]


def index_state(meta):
    return affinity_state(meta)["index"]["state"]["__dict__"]


def member(src, ref):
    return np.load(io.BytesIO(_members(src)[f"{ref}.npy"]))


@pytest.fixture(scope="module")
def maps(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(60, 5))
    folder = tmp_path_factory.mktemp("maps")
    paths = {}
    for nb in ("exact", "annoy", "rpforest"):
        e = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=5, neighbors=nb, perplexity=5,
                          random_state=0).fit(X)
        paths[nb] = folder / f"{nb}.tsne"
        e.save(paths[nb])
    return paths


def _crafts(maps, folder):
    """{case: path} for every crafted file (the cases the tests below assert on)."""
    ex, an, rp = maps["exact"], maps["annoy"], maps["rpforest"]
    meta_ex, meta_an, meta_rp = _meta(_members(ex)), _meta(_members(an)), _meta(_members(rp))
    P = affinity_state(meta_ex)["P"]["__csr__"]
    out = {}

    def make(case, src, **kw):
        out[case] = craft(src, folder / case, **kw)

    # -- the archive and its members
    pos = state(meta_ex)["_positions"]["__array__"]
    make("huge_shape", ex, raw={f"{pos}.npy": _lying_npy((10 ** 13,), member(ex, pos))})
    bomb = _npy(np.zeros((4_000_000,)))
    def point_at_bomb(m):
        state(m).update(_positions={"__array__": "zz"})
        m["checksums"]["zz"] = checksum(np.zeros((4_000_000,)))
    make("bomb_referenced", ex, edit_meta=point_at_bomb, raw={"zz.npy": bomb}, compress=("zz.npy",))
    make("bomb_unreferenced", ex, raw={"zz.npy": bomb}, compress=("zz.npy",))
    make("deep_json", ex, edit_text=lambda t: t.replace('"kl_divergence":', '"extra": ' + "[" * 5000
                                                         + "]" * 5000 + ', "kl_divergence":'))
    make("object_member", ex, raw={f"{pos}.npy": _npy(np.array([None, 1], dtype=object))})
    make("bad_checksum", ex, arrays={pos: member(ex, pos) + 1.0}, checksums=False)
    make("missing_checksum", ex, edit_meta=lambda m: m["checksums"].pop(pos))
    def point_at_nothing(m):
        state(m).update(_positions={"__array__": "a999"})
        m["checksums"]["a999"] = m["checksums"][pos]
    make("missing_member", ex, edit_meta=point_at_nothing)
    # -- the embedding's own state
    make("shadow_transform", ex, edit_meta=lambda m: state(m).update(transform="x"))
    make("shadow_property", ex, edit_meta=lambda m: affinity_state(m).update(sum_p_log_p=1.0))
    make("dunder_name", ex, edit_meta=lambda m: state(m).update(__class__="x"))
    make("huge_n_jobs", ex, edit_meta=lambda m: state(m).update(n_jobs=-10 ** 12))
    make("index_huge_n_jobs", ex, edit_meta=lambda m: index_state(m).update(n_jobs=-10 ** 12))
    make("no_positions", ex, edit_meta=lambda m: state(m).pop("_positions"))
    make("integer_positions", ex, arrays={pos: member(ex, pos).astype(np.int64)})
    make("optimizer_without_n_iter", ex,
         edit_meta=lambda m: state(m)["optimizer_state"]["__optimizer__"].pop("n_iter"))
    make("phase_unknown_field", ex,
         edit_meta=lambda m: state(m)["phases_"]["__list__"][0]["__dict__"].update(evil=1))
    make("nan_kl", ex, edit_meta=lambda m: state(m).update(kl_divergence={"__float__": "nan"}))
    make("n_features_mismatch", ex, edit_meta=lambda m: state(m).update(n_features=7))
    make("scale_exponent", ex, edit_meta=lambda m: affinity_state(m).update(scale_exponent_=7))
    # -- P
    indices, data, indptr = member(ex, P["indices"]), member(ex, P["data"]), member(ex, P["indptr"])
    bad = indices.copy()
    bad[3] = 10 ** 6
    make("P_index_out_of_range", ex, arrays={P["indices"]: bad})
    neg = data.copy()
    neg[0] = -1.0
    make("P_negative", ex, arrays={P["data"]: neg})
    nan = data.copy()
    nan[0] = np.nan
    make("P_nan", ex, arrays={P["data"]: nan})
    ptr = indptr.copy()
    ptr[5] = ptr[6] + 10
    make("P_indptr", ex, arrays={P["indptr"]: ptr})
    make("P_shape", ex, edit_meta=lambda m: affinity_state(m)["P"]["__csr__"].update(shape=[61, 61]))
    # -- the neighbour indexes
    make("index_n_samples", ex, edit_meta=lambda m: index_state(m).update(n_samples_=61))
    ref = index_state(meta_ex)["_reference"]["__array__"]
    make("exact_reference_shape", ex, arrays={ref: member(ex, ref)[:, :3]})
    rs = index_state(meta_rp)
    graph = member(rp, rs["_graph"]["__array__"]).copy()
    graph[0, 0] = 10 ** 6
    make("rpforest_graph", rp, arrays={rs["_graph"]["__array__"]: graph})
    children = member(rp, rs["_children"]["__array__"]).copy()
    children[0, 0, :] = 0  # the root its own child: the query would never stop
    counts = member(rp, rs["_counts"]["__array__"]).copy()
    counts[0, 0] = max(counts[0, 0], 1)
    make("rpforest_cycle", rp, arrays={rs["_children"]["__array__"]: children, rs["_counts"]["__array__"]: counts})
    perm = member(rp, rs["_perm"]["__array__"]).copy()
    perm[0, 0] = -5
    make("rpforest_perm", rp, arrays={rs["_perm"]["__array__"]: perm})
    blob_ref = index_state(meta_an)["_index"]["__bytes__"]
    blob = member(an, blob_ref).copy()
    words = blob.view(np.int32).reshape(-1, (16 + 4 * 5) // 4)
    split = np.flatnonzero(words[:, 0] > 7)[0]  # a node with two children (K = 7 for f = 5)
    words[split, 2] = 10 ** 6
    make("annoy_child", an, arrays={blob_ref: blob})
    make("annoy_truncated", an, arrays={blob_ref: member(an, blob_ref)[:-7]})
    flipped = member(an, blob_ref).copy()
    flipped[100] ^= 0xFF
    make("annoy_flipped", an, arrays={blob_ref: flipped}, checksums=False)

    def as_version_1(m):
        m["version"] = 1
        del m["checksums"]
    make("version_1", an, edit_meta=as_version_1)
    make("version_1_annoy_child", an, arrays={blob_ref: blob}, edit_meta=as_version_1)
    return out


def load_in_child(crafted):
    """{case: outcome} of loading and using each of ``crafted`` ({case: path}) in one child
    process (``CHILD``); a case the child did not report (it died) is a "crash"."""
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run([sys.executable, "-c", CHILD, *map(str, crafted.values())], capture_output=True,
                         text=True, timeout=300, env=env)
    by_path = {}
    for line in run.stdout.splitlines():
        entry = json.loads(line)
        by_path[entry["path"]] = entry
    died = f"the loader's process died (status {run.returncode}): {run.stderr[-1500:]}"
    return {case: by_path.get(str(path), {"result": "crash", "message": died}) for case, path in crafted.items()}


@pytest.fixture(scope="module")
def results(maps, tmp_path_factory):
    return load_in_child(_crafts(maps, tmp_path_factory.mktemp("crafted")))


def refused(results, case, what):
    r = results[case]
    assert r["result"] == "ValueError", r
    assert case in r["message"], r["message"]  # the file is named
    assert what in r["message"], r["message"]


@pytest.mark.parametrize("case, what", [
    ("huge_shape", "announces shape"),
    ("bomb_referenced", "out of proportion"),
    ("deep_json", "nests deeper"),
    ("object_member", "not a plain numeric"),
    ("bad_checksum", "does not match the checksum"),
    ("missing_checksum", "has no checksum"),
    ("missing_member", "no member 'a999'"),
    ("shadow_transform", "Embedding.transform, which is not a data attribute"),
    ("shadow_property", "sum_p_log_p, which is not a data attribute"),
    ("dunder_name", "invalid attribute name '__class__'"),
    ("huge_n_jobs", "n_jobs"),
    ("index_huge_n_jobs", "n_jobs"),
    ("no_positions", "no positions"),
    ("integer_positions", "no positions"),
    ("optimizer_without_n_iter", "KeyError"),
    ("phase_unknown_field", "a phase is stored as"),
    ("nan_kl", "kl_divergence"),
    ("n_features_mismatch", "n_features is 7"),
    ("scale_exponent", "scale exponent is 7"),
    ("P_index_out_of_range", "column indices outside"),
    ("P_negative", "negative or non-finite"),
    ("P_nan", "negative or non-finite"),
    ("P_indptr", "inconsistent row pointer"),
    ("P_shape", "malformed CSR arrays"),
    ("index_n_samples", "expected shape (61, 5)"),
    ("exact_reference_shape", "the indexed data"),
    ("rpforest_graph", "search graph holds indices outside"),
    ("rpforest_cycle", "children outside it or cycles"),
    ("rpforest_perm", "leaf order holds indices outside"),
    ("annoy_child", "children outside the file"),
    ("annoy_truncated", "not a forest of"),
    ("annoy_flipped", "does not match the checksum"),
    ("version_1_annoy_child", "children outside the file"),
])
def test_crafted_file_is_refused_with_one_value_error(results, case, what):
    refused(results, case, what)


def test_unreferenced_compressed_member_is_never_inflated(results):
    assert results["bomb_unreferenced"]["result"] == "loaded", results["bomb_unreferenced"]


def test_version_1_file_without_checksums_still_loads(results):
    assert results["version_1"]["result"] == "loaded", results["version_1"]


def test_pynndescent_graph_out_of_range_is_refused():
    from fasttsne.neighbors.nndescent import NNDescent
    ids = np.tile(np.arange(1, 6, dtype=np.int32), (10, 1)) % 10
    good = {"metric": "euclidean", "metric_params": {}, "n_jobs": 1, "random_state": 0, "n_samples_": 10,
            "n_features_": 3, "_reference": np.zeros((10, 3)), "_graph": (ids, np.ones((10, 5), np.float32)),
            "seed_": 0, "_index": None, "n_neighbors": None, "nndescent_params": {}}
    NNDescent.check_state(good)
    bad = ids.copy()
    bad[2, 1] = 10
    with pytest.raises(ValueError, match="pynndescent graph holds indices outside"):
        NNDescent.check_state(dict(good, _graph=(bad, good["_graph"][1])))


@pytest.mark.skipif(not os.environ.get("FASTTSNE_SLOW_TESTS"),
                    reason="compiles pynndescent with numba (~1 min); set FASTTSNE_SLOW_TESTS=1")
def test_a_pynndescent_map_whose_graph_points_outside_is_refused_in_a_child_process(tmp_path):
    pytest.importorskip("pynndescent")
    X = np.random.default_rng(0).normal(size=(60, 5))
    fasttsne.TSNE(n_iter=10, early_exaggeration_iter=5, neighbors="pynndescent", perplexity=5,
                  random_state=0).fit(X).save(tmp_path / "nnd.tsne")
    src = tmp_path / "nnd.tsne"
    ref = index_state(_meta(_members(src)))["_graph"]["__list__"][0]["__array__"]
    graph = member(src, ref).copy()
    graph[0, 0] = 10 ** 6
    crafted = {"pynndescent_graph": craft(src, tmp_path / "pynndescent_graph", arrays={ref: graph})}
    refused(load_in_child(crafted), "pynndescent_graph", "pynndescent graph holds indices outside")


def test_saved_map_is_format_version_2_with_a_checksum_per_member(maps):
    members = _members(maps["annoy"])
    meta = _meta(members)
    assert meta["version"] == persist.VERSION == 2
    arrays = {n[:-4] for n in members if n != "metadata.json.npy"}
    assert set(meta["checksums"]) == arrays
