"""Two measurements behind docs/dev/neighbors_log.md's issue-23 section, in one process.

``--blas``: principal axes and projection of the data (rpforest's wide-data search) with BLAS
held to one thread, left at its default, and held to two, in turn, ``--repeat`` times; wall and
CPU seconds of each.

``--rerank``: CPU nanoseconds per pair of the exact re-rank's distance kernel
(``_knn.squared_distances``, float32 rows summed in float64) on one thread, for each point's
exact 90 neighbours (rows scattered over the data: read from memory) and for the same 90 rows
for every point (read from cache).

    PYTHONPATH=. python benchmarks/neighbor_kernels.py --data mnist --blas
    PYTHONPATH=. python benchmarks/neighbor_kernels.py --data mnist --rerank

The data are loaded as ``../shared/bench/tsnebench.py`` loads them (float32).
"""
import argparse
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))


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


def rerank(X, repeat, k=90, n_rows=5000):
    from fasttsne._ext import _knn
    from fasttsne.quality import search
    rows = np.sort(np.random.default_rng(0).choice(len(X), n_rows, replace=False))
    scattered = np.ascontiguousarray(search.search_space(X, 2).neighbours(rows, k), dtype=np.int64)
    cached = np.ascontiguousarray(np.broadcast_to(np.arange(k), scattered.shape), dtype=np.int64)
    Q = np.ascontiguousarray(X[rows])
    out = np.empty(scattered.shape)
    for _ in range(repeat):
        for label, cand in (("exact neighbours (scattered rows)", scattered), ("90 fixed rows (cached)", cached)):
            c = time.process_time()
            _knn.squared_distances(Q, X, cand, out, 1)
            print(f"{label:36s} {(time.process_time() - c) / cand.size * 1e9:6.0f} ns per pair", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--blas", action="store_true")
    ap.add_argument("--rerank", action="store_true")
    a = ap.parse_args(argv)
    from tsnebench import load_dataset
    X, _ = load_dataset(a.data)
    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]} float32")
    if a.blas:
        blas(X, a.repeat)
    if a.rerank:
        rerank(X, a.repeat)


if __name__ == "__main__":
    main()
