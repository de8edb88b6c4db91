"""A/B in one process: the exact neighbour search of fasttsne.quality, fused against blocked.

Both find every point's exact k nearest neighbours (wide data, float32 keys, exact float64
re-rank); they differ in how the candidates are selected:

- blocked: one (block, N) matrix of keys per block of queries (a BLAS product on BLAS's own
  threads), then a selection pass over it (the search before the fused one);
- fused: ``ext/_topk.pyx``, each thread walking all points tile by tile with its own small
  products and heaps (what the measures use for queries that need no ranks).

The two run alternately, ``--repeat`` times each, so that a shared machine's load falls on both.

  PYTHONPATH=. python benchmarks/quality_search.py --data mnist_test --n-jobs 1
  PYTHONPATH=. python benchmarks/quality_search.py --data mnist --n-jobs 2
"""
import argparse
import time

import numpy as np

from quality import load, principal_components

from fasttsne.quality import search


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="mnist_test", help="a ../shared/data name or gmm:N:D:C")
    p.add_argument("--pca", type=int, default=50, help="principal components of the data searched")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    X, _ = load(a.data)
    if X.shape[1] > a.pca:
        X = principal_components(X, a.pca)
    n = len(X)
    space = search.search_space(X, a.n_jobs)
    rows = np.arange(n, dtype=np.int64)
    step = max(1, search.BLOCK_ENTRIES // n)

    def blocked():
        return np.concatenate([space.neighbours(rows[s:s + step], a.k, space.keys(rows[s:s + step]))
                               for s in range(0, n, step)])

    def fused():
        return np.concatenate([space.neighbours(rows[s:s + search.NEIGHBOUR_QUERIES], a.k)
                               for s in range(0, n, search.NEIGHBOUR_QUERIES)])

    print(f"# {a.data}: {n} x {X.shape[1]}, exact {a.k}-NN of every point, n_jobs={a.n_jobs}", flush=True)
    results = {}
    for _ in range(a.repeat):
        for name, run in (("blocked", blocked), ("fused", fused)):
            cpu, wall = time.process_time(), time.perf_counter()
            results.setdefault(name, []).append(run())
            print(f"{name:8s} {time.process_time() - cpu:7.2f} s CPU {time.perf_counter() - wall:7.2f} s wall",
                  flush=True)
    assert np.array_equal(results["blocked"][0], results["fused"][0]), "the two searches disagree"
    print("same neighbours: yes")


if __name__ == "__main__":
    main()
