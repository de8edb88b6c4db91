"""Where ``Embedding.transform`` spends its time, stage by stage, in CPU seconds per point.

The map is fitted once on the reference part of a tsnebench dataset (loaded and split exactly as
``../shared/bench/tsnebench.py --transform FRACTION`` does) and kept in ``--work``; the held-out
rows are then placed stage by stage: the neighbour query in the map's index, the affinity
calibration, the initial positions, the reference repulsion's build and the optimisation.
Times are ``time.process_time`` (CPU time of this process), which a machine loaded by other jobs
disturbs less than wall time; with ``--n-jobs 1`` they are the work per point.

Usage (from the project root)::

    python benchmarks/transform_stages.py --data mnist --transform 0.142857
    python benchmarks/transform_stages.py --data gmm:120000:50:20 --transform 0.1666667

(``gmm:120000:50:20`` held out at 1/6 is a 100,000-point reference and 20,000 queries of the
same mixture as ``gmm:100000:50:20``.)
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))


def reference_map(a):
    """The fitted map of the reference rows and the held-out rows (the map cached in ``a.work``)."""
    import fasttsne
    from tsnebench import load_dataset, split
    X, _ = load_dataset(a.data, None)
    ref, new = split(len(X), a.transform)
    os.makedirs(a.work, exist_ok=True)
    path = os.path.join(a.work, f"{a.data.replace(':', '_')}-{a.transform}-{a.seed}.npz")
    if os.path.exists(path):
        return fasttsne.load(path), X[new]
    t0 = time.perf_counter()
    embedding = fasttsne.TSNE(n_jobs=a.fit_jobs, random_state=a.seed).fit(X[ref])
    print(f"# fitted the {len(ref)}-point map in {time.perf_counter() - t0:.1f} s (wall)", flush=True)
    embedding.save(path)
    return embedding, X[new]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="mnist")
    ap.add_argument("--transform", type=float, default=0.142857, help="fraction held out and placed")
    ap.add_argument("--n-query", type=int, default=None, help="place only the first this many held-out rows")
    ap.add_argument("--n-jobs", type=int, default=1, help="threads of the transform")
    ap.add_argument("--fit-jobs", type=int, default=2, help="threads of the map's fit")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default=os.path.join("/tmp", "fasttsne-transform-stages"))
    a = ap.parse_args(argv)

    from fasttsne.optim import transform_schedule
    from fasttsne.partial import SETTLED_STEP
    embedding, X_new = reference_map(a)
    X_new = X_new[:a.n_query]
    m, jobs = len(X_new), a.n_jobs
    affinities = embedding.affinities
    print(f"# {a.data}: map {embedding.shape[0]} x {X_new.shape[1]}, {m} queries, n_jobs={jobs}, "
          f"index {type(affinities.index).__name__}, repulsion {type(embedding.gradient).__name__}")
    rows = []

    def stage(label, fn):
        t0 = time.process_time()
        out = fn()
        rows.append((label, time.process_time() - t0))
        return out

    k = 25  # transform's default: the median of 25 reference neighbours
    found = stage("neighbour query", lambda: affinities.index.query(
        X_new, max(k, affinities.neighbors_needed()), n_jobs=jobs))
    P_new = stage("affinities", lambda: affinities.to_new(X_new, neighbors=found, n_jobs=jobs))
    stage("initial positions", lambda: np.median(embedding.positions[found[0][:, :k]], axis=1))
    stage("reference repulsion", lambda: embedding.reference_repulsion(jobs))
    partial = embedding.prepare_partial(X_new, n_jobs=jobs)
    phases = transform_schedule()
    stage(f"optimisation ({sum(p.n_iter for p in phases)} it)", lambda: partial._run(phases, n_jobs=jobs, settled_step=SETTLED_STEP))
    print(f"{'stage':<24s} {'CPU s':>8s} {'us/point':>9s}")
    for label, seconds in rows:
        print(f"{label:<24s} {seconds:8.3f} {seconds / m * 1e6:9.1f}")
    # the whole call, reference repulsion cached as in any call after the first
    t0 = time.process_time()
    embedding.transform(X_new, n_jobs=jobs)
    total = time.process_time() - t0
    print(f"{'transform (whole call)':<24s} {total:8.3f} {total / m * 1e6:9.1f}   {m / total:,.0f} points per CPU s")


if __name__ == "__main__":
    main()
