"""Where the rpforest neighbour search spends its time: every stage of one ``build``, with the
recall of the 90-NN graph after the trees, after each NN-descent round and at the end.

Stages are the kernel calls ``RPForest.build`` makes (principal axes, projection, trees, leaf
joins, each round's candidate sampling and join, sorting, exact re-ranking): the backend runs
unchanged, with each kernel module it calls wrapped in a timer. Wall and CPU seconds (all
threads of the process) are printed per stage; at ``--n-jobs 1`` CPU seconds are the work, at
2 wall seconds are what a fit waits.

Recall is measured on ``--sample`` random points against their exact neighbours (float32 GEMM
keys, float64 decisions: :mod:`fasttsne.quality.search`), cached in the temporary directory.
Mid-search recall is the share of the exact k neighbours already among a point's candidates:
what the final exact re-ranking would return if the search stopped there.

Usage (from the project root)::

    PYTHONPATH=. python benchmarks/neighbor_stages.py --data mnist --n-jobs 1
    PYTHONPATH=. python benchmarks/neighbor_stages.py --data gmm:100000:50:20 --n-jobs 2
    PYTHONPATH=. python benchmarks/neighbor_stages.py --data fashion_mnist --knn '{"projection": 50}'
    PYTHONPATH=. python benchmarks/neighbor_stages.py --data mnist --blas
    PYTHONPATH=. python benchmarks/neighbor_stages.py --data mnist --rerank

``--blas``: principal axes and projection of the data (the wide-data search's) with BLAS held
to one thread, left at its default, and held to two, in turn, ``--repeat`` times; wall and CPU
seconds of each. ``--rerank``: CPU nanoseconds per pair of the exact re-rank's distance kernel
(``_knn.squared_distances``, float32 rows summed in float64) on one thread, for each point's
exact k neighbours (rows scattered over the data: read from memory) and for the same k rows
for every point (read from cache).

The data are loaded as ``../shared/bench/tsnebench.py`` loads them (float32).
"""
import argparse
import hashlib
import json
import os
import sys
import tempfile
import time

import numpy as np
from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))


class Timed:
    """A module whose functions are timed: each call adds (label, wall s, CPU s) to ``log``,
    and ``after(name, args)`` runs after a call (outside the timing)."""

    def __init__(self, module, log, after=None):
        self._module, self._log, self._after = module, log, after
        self.overhead = [0.0, 0.0]  # wall and CPU seconds spent in ``after``

    def __getattr__(self, name):
        fn = getattr(self._module, name)
        if not callable(fn):
            return fn

        def timed(*args, **kwargs):
            w0, c0 = time.perf_counter(), time.process_time()
            out = fn(*args, **kwargs)
            self._log.append((name, time.perf_counter() - w0, time.process_time() - c0))
            if self._after is not None:
                h0, hc0 = time.perf_counter(), time.process_time()
                self._after(name, args, out)
                self.overhead[0] += time.perf_counter() - h0
                self.overhead[1] += time.process_time() - hc0
            return out
        return timed


def exact_reference(X, rows, k, n_jobs):
    """(len(rows), k) exact neighbours of ``X[rows]``, cached by the data's and rows' hash."""
    from fasttsne.quality import search
    key = hashlib.sha1(X.tobytes() + rows.tobytes() + str(k).encode()).hexdigest()[:16]
    path = os.path.join(tempfile.gettempdir(), f"fasttsne-knn-ref-{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    out = search.search_space(X, n_jobs).neighbours(rows, k)
    np.save(path, out)
    return out


def recall(found, true):
    """Mean share of each row of ``true`` that appears in the same row of ``found``."""
    return float(np.mean([np.intersect1d(f, t).size for f, t in zip(found, true)]) / true.shape[1])


def blas(X, repeat):
    from fasttsne import _linalg
    from fasttsne.neighbors import _projection

    def axes_and_projection():
        # the backend's own code without its one-thread setting: _linalg and the product directly
        mean, V, _ = _linalg.principal_axes(X[::max(1, len(X) // _projection.PROJECTION_SAMPLE)],
                                            _projection.PROJECTION_DIM)
        for start in range(0, len(X), _projection.PROJECT_CHUNK_ROWS):
            (X[start:start + _projection.PROJECT_CHUNK_ROWS] - mean) @ V

    print(f"{'BLAS threads':14s} {'wall s':>8s} {'CPU s':>8s}")
    for _ in range(repeat):
        for limit in (1, None, 2):
            w, c = time.perf_counter(), time.process_time()
            if limit is None:
                axes_and_projection()
            else:
                with threadpool_limits(limits=limit, user_api="blas"):
                    axes_and_projection()
            print(f"{str(limit or 'default'):14s} {time.perf_counter() - w:8.2f} {time.process_time() - c:8.2f}",
                  flush=True)


def rerank(X, repeat, k, n_rows=5000):
    from fasttsne._ext import _knn
    rows = np.sort(np.random.default_rng(0).choice(len(X), min(n_rows, len(X)), replace=False))
    scattered = np.ascontiguousarray(exact_reference(X, rows, k, 2), dtype=np.int64)
    cached = np.ascontiguousarray(np.broadcast_to(np.arange(k), scattered.shape), dtype=np.int64)
    Q = np.ascontiguousarray(X[rows])
    out = np.empty(scattered.shape)
    for _ in range(repeat):
        for label, cand in (("exact neighbours (scattered rows)", scattered), (f"{k} fixed rows (cached)", cached)):
            c = time.process_time()
            _knn.squared_distances(Q, X, cand, out, 1)
            print(f"{label:36s} {(time.process_time() - c) / cand.size * 1e9:6.0f} ns per pair", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--k", type=int, default=90)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sample", type=int, default=5000, help="points whose recall is measured")
    ap.add_argument("--knn", default="{}", help="RPForest parameters as JSON")
    ap.add_argument("--json", default=None, help="also write the stages here")
    ap.add_argument("--blas", action="store_true", help="instead: the projection under BLAS thread limits")
    ap.add_argument("--rerank", action="store_true", help="instead: the re-rank kernel's time per pair")
    ap.add_argument("--repeat", type=int, default=3, help="rounds of --blas or --rerank")
    a = ap.parse_args(argv)

    from tsnebench import load_dataset
    from fasttsne.neighbors import rpforest

    X, _ = load_dataset(a.data)
    if a.blas or a.rerank:
        print(f"# {a.data}: {X.shape[0]} x {X.shape[1]} float32")
        if a.blas:
            blas(X, a.repeat)
        if a.rerank:
            rerank(X, a.repeat, a.k)
        return
    rows = np.sort(np.random.default_rng(0).choice(len(X), min(a.sample, len(X)), replace=False))
    t0 = time.perf_counter()
    true = exact_reference(X, rows, a.k, max(a.n_jobs, 2))
    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]} float32, k={a.k}, n_jobs={a.n_jobs}, "
          f"rpforest {a.knn}; recall on {len(rows)} points (reference {time.perf_counter() - t0:.1f} s)")

    backend = rpforest.RPForest(n_jobs=a.n_jobs, random_state=a.seed, **json.loads(a.knn))
    log, recalls = [], {}

    def heap_recall(name, args, out):
        # after the last leaf join and after each round: the candidates' recall so far
        if name in ("leaf_join", "descent_round"):
            idx = args[2] if name == "descent_round" else args[5]
            found = backend._order[idx[backend._rank[rows]]]
            recalls[len(log) - 1] = recall(found, true)

    saved = {m: getattr(rpforest, m) for m in ("_knn", "_nndescent", "_rptrees", "_projection")}
    try:
        timed = {m: Timed(module, log, heap_recall if m == "_nndescent" else None) for m, module in saved.items()}
        for m, module in timed.items():
            setattr(rpforest, m, module)
        w0, c0 = time.perf_counter(), time.process_time()
        indices, _ = backend.build(X, a.k)
        wall = time.perf_counter() - w0 - timed["_nndescent"].overhead[0]
        cpu = time.process_time() - c0 - timed["_nndescent"].overhead[1]
    finally:
        for m, module in saved.items():
            setattr(rpforest, m, module)

    stages, joins, rounds = [], 0, 0
    for i, (name, w, c) in enumerate(log):
        if name == "leaf_join":
            joins += 1
            label = f"leaf join, tree {joins}"
        elif name == "sample_candidates":
            rounds += 1
            label = f"round {rounds}: sampling"
        elif name == "descent_round":
            label = f"round {rounds}: join"
        else:
            label = name
        stages.append({"stage": label, "wall_s": w, "cpu_s": c, "recall": recalls.get(i)})
    stages.append({"stage": "other (Python, copies)", "wall_s": wall - sum(s["wall_s"] for s in stages),
                   "cpu_s": cpu - sum(s["cpu_s"] for s in stages), "recall": None})
    print(f"{'stage':28s} {'wall s':>8s} {'CPU s':>8s} {'recall':>8s}")
    for s in stages:
        r = "" if s["recall"] is None else f"{s['recall']:8.4f}"
        print(f"{s['stage']:28s} {s['wall_s']:8.2f} {s['cpu_s']:8.2f} {r:>8s}")
    final = recall(indices[rows], true)
    digest = hashlib.sha256(np.ascontiguousarray(indices).tobytes()).hexdigest()[:16]
    print(f"{'build total':28s} {wall:8.2f} {cpu:8.2f} {final:8.4f}   ({backend.n_rounds_} rounds; "
          f"neighbours {digest})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"data": a.data, "n_jobs": a.n_jobs, "knn": a.knn, "stages": stages,
                       "wall_s": wall, "cpu_s": cpu, "recall": final,
                       "digest": digest}, f, indent=1)


if __name__ == "__main__":
    main()
