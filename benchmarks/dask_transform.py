"""Placing a large on-disk query set into a map with Dask, against the in-process transform.

A reference map of a Gaussian mixture is fitted (or reused from ``--work``); query points from
the same mixture are written to a ``.npy`` file block by block, read back lazily in row chunks
(``fasttsne.dask.read_array``), placed on a process ``LocalCluster`` of 1, then 2 workers with
one thread each, and written chunk by chunk (``fasttsne.dask.write_array``). The in-process
``Embedding.transform`` of (the first ``--n-inprocess`` of) the same points runs in a child
process so that its peak memory is its own. Dask's rows are checked bitwise against it.

Usage (from the project root)::

    python benchmarks/dask_transform.py --n-ref 100000 --n-query 2000000
    python benchmarks/dask_transform.py --n-ref 20000 --n-query 100000 --n-inprocess 20000

Prints one table row per run: points, wall seconds, points per second, CPU seconds (of the
process, or summed over the workers) and points per CPU second (what a run would reach with its
cores to itself: on a shared machine the wall-clock figures follow the other jobs' load), peak
resident memory (MB) of the process or of each worker.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

#: Rows generated and written at once when the query file is made.
WRITE_BLOCK = 100_000


def mixture(n, dim, n_clusters, seed, stream):
    """``n`` points of a fixed Gaussian mixture (its shape from ``seed``; the draws from ``stream``)."""
    shape = np.random.default_rng(seed)
    centres = shape.normal(scale=6.0, size=(n_clusters, dim))
    spreads = shape.uniform(0.5, 2.0, size=(n_clusters, dim))
    rng = np.random.default_rng([seed, stream])
    labels = rng.integers(0, n_clusters, size=n)
    return (centres[labels] + rng.normal(size=(n, dim)) * spreads[labels]).astype(np.float32)


def peak_mb():
    """Peak resident memory of this process so far, MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds():
    """CPU time (user + system) this process has used so far, s."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prepare(a):
    """The map and the query file in ``a.work`` (made once for these sizes)."""
    import fasttsne
    os.makedirs(a.work, exist_ok=True)
    tag = f"{a.n_ref}-{a.dim}-{a.clusters}"
    map_path = os.path.join(a.work, f"map-{tag}.npz")
    if not os.path.exists(map_path):
        X = mixture(a.n_ref, a.dim, a.clusters, a.seed, 0)
        t0 = time.perf_counter()
        emb = fasttsne.TSNE(negative_gradient_method=a.method, early_exaggeration_iter=a.fit_iter // 3,
                            n_iter=a.fit_iter - a.fit_iter // 3, n_jobs=a.n_jobs, random_state=a.seed).fit(X)
        print(f"fitted the {a.n_ref}-point map in {time.perf_counter() - t0:.1f} s", flush=True)
        emb.save(map_path)
    query_path = os.path.join(a.work, f"queries-{tag}-{a.n_query}.npy")
    if not os.path.exists(query_path):
        out = np.lib.format.open_memmap(query_path + ".partial", mode="w+", dtype=np.float32,
                                        shape=(a.n_query, a.dim))
        for start in range(0, a.n_query, WRITE_BLOCK):
            stop = min(a.n_query, start + WRITE_BLOCK)
            out[start:stop] = mixture(stop - start, a.dim, a.clusters, a.seed, 1 + start // WRITE_BLOCK)
        out.flush()
        del out
        os.replace(query_path + ".partial", query_path)
    return map_path, query_path


def in_process(a, map_path, query_path, result_path):
    """The in-process transform of the first ``n_inprocess`` query points (run in a child)."""
    import fasttsne
    emb = fasttsne.load(map_path)
    X = np.array(np.load(query_path, mmap_mode="r")[: a.n_inprocess])
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    Y = emb.transform(X, n_jobs=a.n_jobs)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    np.save(result_path, Y)
    print(json.dumps({"points": len(X), "wall": wall, "cpu": cpu, "peak_mb": peak_mb()}))


def on_dask(a, map_path, query_path, n_workers):
    """Place every query point on a fresh LocalCluster of ``n_workers`` one-thread processes."""
    from distributed import Client, LocalCluster

    import fasttsne
    import fasttsne.dask as fdask
    emb = fasttsne.load(map_path)
    out = os.path.join(a.work, f"positions-{n_workers}.npy")
    with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        X = fdask.read_array(query_path, chunk_rows=a.chunk_rows)
        cpu0 = sum(client.run(cpu_seconds).values())
        t0 = time.perf_counter()
        fdask.write_array(emb.transform(X), out)
        wall = time.perf_counter() - t0
        cpu = sum(client.run(cpu_seconds).values()) - cpu0
        peaks = sorted(client.run(peak_mb).values())
    return {"points": X.shape[0], "wall": wall, "cpu": cpu, "peak_mb": peaks, "output": out}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-ref", type=int, default=100_000)
    ap.add_argument("--n-query", type=int, default=2_000_000)
    ap.add_argument("--n-inprocess", type=int, help="query points placed in-process (default: all)")
    ap.add_argument("--dim", type=int, default=50)
    ap.add_argument("--clusters", type=int, default=20)
    ap.add_argument("--chunk-rows", type=int, default=50_000)
    ap.add_argument("--method", default="fft")
    ap.add_argument("--fit-iter", type=int, default=750, help="iterations of the map's fit (a third exaggerated)")
    ap.add_argument("--n-jobs", type=int, default=2, help="threads of the fit and of the in-process transform")
    ap.add_argument("--workers", default="1,2", help="LocalCluster sizes to run")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=os.path.join("/tmp", "fasttsne-dask-bench"))
    ap.add_argument("--stage", choices=("all", "inprocess"), default="all", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    a.n_inprocess = min(a.n_query, a.n_inprocess or a.n_query)
    map_path, query_path = prepare(a)
    result_path = os.path.join(a.work, "inprocess.npy")
    if a.stage == "inprocess":
        in_process(a, map_path, query_path, result_path)
        return
    stage = [sys.executable, os.path.abspath(__file__), "--stage", "inprocess"]
    child = subprocess.run(stage + list(argv or sys.argv[1:]), check=True, capture_output=True, text=True)
    base = json.loads(child.stdout.strip().splitlines()[-1])
    reference = np.load(result_path)
    rows = [("in-process", f"n_jobs={a.n_jobs}", base["points"], base["wall"], base["cpu"], f"{base['peak_mb']:.0f}")]
    for n_workers in (int(w) for w in a.workers.split(",")):
        run = on_dask(a, map_path, query_path, n_workers)
        placed = np.load(run["output"], mmap_mode="r")[: len(reference)]
        if not np.array_equal(placed, reference):
            sys.exit(f"dask_transform: {n_workers} worker(s) gave other positions than the in-process transform")
        rows.append(("Dask LocalCluster", f"{n_workers} x 1 thread", run["points"], run["wall"], run["cpu"],
                     " / ".join(f"{p:.0f}" for p in run["peak_mb"])))
    print(f"\nmap {a.n_ref} x {a.dim} ({a.method}), queries {a.n_query} x {a.dim} float32 .npy in chunks of "
          f"{a.chunk_rows} rows; Dask rows equal the in-process ones bitwise (first {len(reference)} checked)\n")
    print(f"load average before the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| run | threads | points | wall s | points/s | CPU s | points per CPU s | peak RSS MB (per worker) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, threads, points, wall, cpu, peak in rows:
        print(f"| {name} | {threads} | {points:,} | {wall:.1f} | {points / wall:,.0f} | {cpu:.1f} | "
              f"{points / cpu:,.0f} | {peak} |")


if __name__ == "__main__":
    main()
