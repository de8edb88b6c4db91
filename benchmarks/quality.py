"""Time fasttsne.quality on real and large maps: exact kNN preservation and the whole report.

Usage (from the project root, the extensions built in place):

  PYTHONPATH=. python benchmarks/quality.py --data mnist --pca 50 --map mnist_map.npy
  PYTHONPATH=. python benchmarks/quality.py --data gmm:1000000:50:20 --n-jobs 2

Data: a name from ../shared/data (``mnist`` is all 70,000 digits), or ``gmm:N:D:C``, the
fixed-seed Gaussian mixture of ../shared/bench/tsnebench.py (C anisotropic clusters in D
dimensions). ``--map`` is an (N, 2) .npy of positions for those rows; without it the map is a
stand-in: the two leading principal components plus noise (a poor map, which makes the rank
measures work harder than a good one). The timings are of the measures, not of the map.
"""
import argparse
import os
import resource
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.join(HERE, "..", "..", "shared")


def gmm(n, d, c, seed=42):
    """tsnebench.py's mixture: the same draws in the same order, so the same points."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=6.0, size=(c, d))
    scales = rng.uniform(0.5, 2.0, size=(c, d))
    weights = rng.dirichlet(np.full(c, 5.0))
    y = rng.choice(c, size=n, p=weights)
    X = centers[y] + rng.normal(size=(n, d)) * scales[y]
    return X.astype(np.float32), y.astype(np.int64)


def load(spec):
    if spec.startswith("gmm:"):
        return gmm(*(int(v) for v in spec.split(":")[1:4]))
    sys.path.insert(0, os.path.join(SHARED, "data"))
    from load import load as load_shared
    X, y = load_shared(spec)
    return np.ascontiguousarray(X, dtype=np.float32).reshape(len(X), -1), y


def principal_components(X, n):
    Xc = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(Xc[:: max(1, len(Xc) // 20000)].astype(np.float64), full_matrices=False)
    return np.ascontiguousarray(Xc @ vt[:n].T, dtype=np.float32)


class Clock:
    """Wall and CPU seconds (all threads) of a block: on a shared machine the CPU time shows
    what the work cost when the wall time includes waiting for the cores."""

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), _cpu()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall, _cpu() - self.cpu

    def __str__(self):
        return f"{self.wall:.1f} s wall, {self.cpu:.1f} s CPU"


def _cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="mnist_test")
    p.add_argument("--pca", type=int, default=None, help="reduce X to this many principal components first")
    p.add_argument("--map", default=None, help="(N, 2) .npy of positions (default: a stand-in, see above)")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--skip-exact-knn", action="store_true", help="only the report")
    a = p.parse_args()

    from fasttsne import quality
    X, y = load(a.data)
    if a.pca and X.shape[1] > a.pca:
        X = principal_components(X, a.pca)
    if a.map:
        Y = np.load(a.map).astype(np.float64)
    else:
        Y = principal_components(X, 2).astype(np.float64)
        Y += np.random.default_rng(0).normal(scale=0.2 * Y.std(), size=Y.shape)
    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}{f' (PCA {a.pca})' if a.pca else ''}; map "
          f"{a.map or 'stand-in (2 PCs + noise)'}; n_jobs={a.n_jobs}", flush=True)
    if not a.skip_exact_knn:
        with Clock() as clock:
            value = quality.knn_preservation(X, Y, 10, sample_size=len(X), n_jobs=a.n_jobs)
        print(f"exact kNN preservation (k=10, all {len(X):,} points): {value:.4f} in {clock}", flush=True)
    with Clock() as clock:
        report = quality.report(X, Y, y, n_jobs=a.n_jobs)
    print(f"report (defaults) in {clock}")
    print(report)


if __name__ == "__main__":
    main()
