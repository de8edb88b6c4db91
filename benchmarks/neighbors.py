"""Neighbour search benchmark: recall against exact search and build+query time, fasttsne's
backends next to openTSNE's, each run in a fresh process.

Every run finds the k nearest neighbours of every point of the data set (what t-SNE's
affinity step does), timed from a cold start of the backend, so numba compilation
(pynndescent) and index building (Annoy) count. Recall is the mean fraction of each
point's exact k neighbours that the run found; above ``--recall-sample`` points it is
measured on that many random points (exact neighbours of those found with fasttsne's
exact backend, which the tests check against scipy's cdist).

Usage (from the project root)::

    python benchmarks/neighbors.py --data mnist_test --repeats 3
    python benchmarks/neighbors.py --data mnist --impl fasttsne:annoy,opentsne:annoy
    python benchmarks/neighbors.py --data gmm:100000:50:20 --impl fasttsne:rpforest,fasttsne:annoy
    python benchmarks/neighbors.py --crossover 5000,10000,20000,40000 --data mnist
    python benchmarks/neighbors.py --impl 'fasttsne:annoy:{"n_trees": 10}',opentsne:annoy

An implementation is ``package:backend`` with optional constructor parameters as JSON
(``knn_kwargs`` for openTSNE).

``--crossover`` times fasttsne's exact and Annoy backends on the first N points of the data
for each N: the sizes where exact search stops being faster give ``AUTO_EXACT_MAX_SAMPLES``
(see docs/neighbors.md).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_DATA = os.environ.get("FASTTSNE_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
SHARED_BENCH = os.path.join(HERE, "..", "..", "shared", "bench")
DEFAULT_IMPLS = ("fasttsne:exact,fasttsne:annoy,fasttsne:rpforest,fasttsne:pynndescent,"
                 "opentsne:exact,opentsne:annoy,opentsne:pynndescent")
#: Points whose exact neighbours are computed for recall when the data set is larger.
RECALL_SAMPLE = 10_000


def load_data(name, n=None, pca=None):
    """(N, D) float64 data: a ../shared/data name or a tsnebench ``gmm:N:D:C`` mixture, first
    ``n`` rows, optional PCA."""
    if name.startswith("gmm:"):
        sys.path.insert(0, SHARED_BENCH)
        try:
            from tsnebench import load_dataset
        finally:
            sys.path.pop(0)
        X = load_dataset(name)[0]
    else:
        sys.path.insert(0, SHARED_DATA)
        try:
            from load import load
        finally:
            sys.path.pop(0)
        X = load(name)[0]
    X = np.asarray(X[:n] if n else X, dtype=np.float64)
    if pca:
        Xc = X - X.mean(axis=0)
        _, _, vt = np.linalg.svd(Xc[:: max(1, len(Xc) // 20000)], full_matrices=False)
        X = Xc @ vt[:pca].T
    return np.ascontiguousarray(X)


def cpu_seconds():
    """CPU time of this process, its threads and its finished child processes (forked workers)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def parse_impl(spec):
    """"impl:backend" or "impl:backend:{json params}" -> (impl, backend, params)."""
    impl, backend, *rest = spec.split(":", 2)
    return impl, backend, json.loads(rest[0]) if rest else {}


# -- worker: one timed neighbour search in this (fresh) process ------------------------------

def fasttsne_knn(X, backend, k, n_jobs, seed, params):
    from fasttsne import registry
    index = registry.lookup("neighbors", backend)(n_jobs=n_jobs, random_state=seed, **params)
    return index.build(X, k)[0]


def opentsne_knn(X, backend, k, n_jobs, seed, params):
    import warnings
    from openTSNE import nearest_neighbors as nn
    cls = {"exact": nn.Sklearn, "annoy": nn.Annoy, "pynndescent": nn.NNDescent}[backend]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openTSNE warns about pynndescent's metric list
        index = cls(X, k, metric="euclidean", n_jobs=n_jobs, random_state=seed, knn_kwargs=params or None)
        return index.build()[0]


def worker(args):
    X = load_data(args.data, args.n, args.pca)
    impl, backend, params = parse_impl(args.worker)
    knn = {"fasttsne": fasttsne_knn, "opentsne": opentsne_knn}[impl]
    reset_peak()
    t0, c0 = time.perf_counter(), cpu_seconds()
    indices = knn(X, backend, args.k, args.n_jobs, args.seed, params)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    np.save(args.out, np.asarray(indices, dtype=np.int64))
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "peak_mb": peak_mb()}))


def reset_peak():
    """Reset this process's peak RSS to its current RSS (Linux: clear_refs 5), so the peak
    measured covers the search, not the data set's loading."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_mb():
    """Peak resident memory (MB) since :func:`reset_peak` (the data included), or of the
    largest forked child when that is higher."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    try:
        with open("/proc/self/status") as f:
            peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024.0
    except (OSError, StopIteration):
        pass
    return max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0)


# -- driver -----------------------------------------------------------------------------------

def run_one(impl, args, n):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "indices.npy")
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", impl, "--data", args.data,
               "--n", str(n), "--k", str(args.k), "--n-jobs", str(args.n_jobs), "--seed", str(args.seed),
               "--out", out] + (["--pca", str(args.pca)] if args.pca else [])
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{impl} failed:\n{proc.stderr[-2000:]}")
        timing = json.loads(proc.stdout.strip().splitlines()[-1])
        return timing, np.load(out)


def exact_reference(X, k, sample, block=500):
    """Exact k-NN (self excluded) of the rows ``sample``: float64 brute force, by blocks."""
    sq = np.einsum("ij,ij->i", X, X)
    out = np.empty((len(sample), k), dtype=np.int64)
    for start in range(0, len(sample), block):
        rows = sample[start:start + block]
        d2 = sq[rows, None] - 2.0 * (X[rows] @ X.T) + sq[None, :]
        d2[np.arange(len(rows)), rows] = np.inf
        part = np.argpartition(d2, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d2, part, 1), axis=1, kind="stable")
        out[start:start + block] = np.take_along_axis(part, order, 1)
    return out


def recall(found, true):
    return float(np.mean([np.intersect1d(f, t).size / t.size for f, t in zip(found, true)]))


def benchmark(args):
    X = load_data(args.data, args.n, args.pca)
    n = len(X)
    rng = np.random.default_rng(0)
    sample = np.arange(n) if n <= args.recall_sample else \
        np.sort(rng.choice(n, args.recall_sample, replace=False))
    t0 = time.perf_counter()
    true = exact_reference(X, args.k, sample)
    print(f"# {args.data}{f' PCA-{args.pca}' if args.pca else ''}: N={n} D={X.shape[1]} k={args.k} "
          f"n_jobs={args.n_jobs}; recall on {len(sample)} points (reference in "
          f"{time.perf_counter() - t0:.1f} s); median of {args.repeats} fresh-process runs", flush=True)
    print(f"{'implementation':24s} {'wall s':>8s} {'cpu s':>8s} {'recall':>7s} {'peak MB':>8s}  runs (wall s)",
          flush=True)
    impls = split_impls(args.impl)
    runs = {impl: [] for impl in impls}
    # interleaved (each repeat runs every implementation) so they share the machine's load
    for _ in range(args.repeats):
        for impl in impls:
            timing, indices = run_one(impl, args, n)
            runs[impl].append((timing["wall_s"], timing["cpu_s"], recall(indices[sample], true),
                               timing["peak_mb"]))
    rows = []
    for impl in impls:
        walls, cpus, recalls, peaks = zip(*runs[impl])
        row = {"impl": impl, "data": args.data, "n": n, "k": args.k, "n_jobs": args.n_jobs,
               "wall_s": statistics.median(walls), "cpu_s": statistics.median(cpus),
               "recall": statistics.median(recalls), "peak_mb": statistics.median(peaks), "walls": walls}
        rows.append(row)
        print(f"{impl:24s} {row['wall_s']:8.2f} {row['cpu_s']:8.2f} {row['recall']:7.4f} "
              f"{row['peak_mb']:8.0f}  " + " ".join(f"{w:.1f}" for w in walls), flush=True)
    return rows


def split_impls(text):
    """Comma-separated implementations; commas inside {...} parameters do not split."""
    impls, depth, current = [], 0, ""
    for ch in text:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            impls.append(current)
            current = ""
        else:
            current += ch
    return impls + [current] if current else impls


def crossover(args):
    rows = []
    print(f"# crossover on {args.data}{f' PCA-{args.pca}' if args.pca else ''}, k={args.k}, "
          f"n_jobs={args.n_jobs}; median wall s of {args.repeats} fresh-process runs", flush=True)
    print(f"{'N':>7s} {'exact':>8s} {'annoy':>8s}", flush=True)
    for n in (int(s) for s in args.crossover.split(",")):
        times = {}
        for impl in ("fasttsne:exact", "fasttsne:annoy"):
            times[impl] = statistics.median(run_one(impl, args, n)[0]["wall_s"] for _ in range(args.repeats))
        rows.append({"n": n, **times})
        print(f"{n:7d} {times['fasttsne:exact']:8.2f} {times['fasttsne:annoy']:8.2f}", flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="mnist_test")
    p.add_argument("--n", type=int, default=None, help="use the first N points")
    p.add_argument("--pca", type=int, default=None, help="reduce to this many principal components first")
    p.add_argument("--k", type=int, default=90)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--impl", default=DEFAULT_IMPLS)
    p.add_argument("--recall-sample", type=int, default=RECALL_SAMPLE)
    p.add_argument("--crossover", default=None, help="comma-separated sizes: exact vs Annoy timing")
    p.add_argument("--json", default=None, help="also write the rows here")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    rows = crossover(args) if args.crossover else benchmark(args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
