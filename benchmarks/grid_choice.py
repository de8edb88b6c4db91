"""The 2-D FFT grid chosen per call (``fasttsne.gradients.plan2d``): accuracy and cost of the
two candidates at real layouts, and whole runs with the choice against the fine grid alone.

``errors``: at snapshots of a default FFT fit (or a stored layout, scaled by ``--scales`` to
mimic earlier, denser iterations), for the fine grid (the parameters', 4 nodes on boxes <= 0.8
wide) and the coarse grid (3 nodes on boxes 1 wide, near field radius 2): F/Z error against
the exact sums, CPU ms of one call on one thread (best of ``--repeats``), the cost model's
estimate of each, the coarse grid's near-field pairs per point, and which grid the model picks.

``runs``: whole runs from one start with one common P (``schedules.py``'s scoring: KL with
tsnebench's common P, kNN preservation): the default schedule, FFT gradient, with
``coarse_grid=False`` (the fine grid for every call) and ``coarse_grid=True`` (the choice);
CPU seconds of the optimisation, and from which iteration the choice took the coarse grid.

Usage (from the project root)::

    PYTHONPATH=. python benchmarks/grid_choice.py errors --map tests/data/mnist_test_map.npy --scales 1,0.6,0.35
    PYTHONPATH=. python benchmarks/grid_choice.py errors --data mnist_test --at 250,400,500,750
    PYTHONPATH=. python benchmarks/grid_choice.py runs --data mnist_test --n-jobs 2
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))

def _backend(candidate):
    """An FFT backend whose every call uses ``candidate`` ("fine" or "coarse") of the choice."""
    from fasttsne.gradients.fft import FFTInterpolation
    from fasttsne.gradients.plan2d import Choice

    class Forced(FFTInterpolation):
        def choice(self, Y):
            grid = super().choice(Y).candidates[candidate]
            return Choice(grid, candidate == "coarse", None, None, None)
    return Forced()


def one_call(candidate, Y, repeats):
    """(F, Z, best CPU seconds) of one call on one thread on the choice's ``candidate`` grid."""
    backend = _backend(candidate)
    out = np.empty_like(Y)
    backend(Y, 1.0, out, 1)  # kernels built outside the timing
    best = np.inf
    for _ in range(repeats):
        t0 = time.process_time()
        Z = backend(Y, 1.0, out, 1)
        best = min(best, time.process_time() - t0)
    return out, Z, best


def errors(layouts, repeats):
    from fasttsne._ext import _exact
    from fasttsne.gradients.fft import FFTInterpolation

    print(f"{'layout':>8} {'extent':>11} {'pairs/pt':>8} {'fine ms':>8} {'model':>6} {'F/Z err':>8} "
          f"{'coarse ms':>9} {'model':>6} {'F/Z err':>8} {'picks':>6}")
    for label, Y in layouts:
        Y = np.ascontiguousarray(Y, dtype=np.float64)
        F_exact = np.empty_like(Y)
        Z_exact = _exact.negative_gradient(Y, 1.0, F_exact, np.empty(len(Y)), 2)
        reference = F_exact / Z_exact
        row = []
        for candidate in ("fine", "coarse"):
            F, Z, seconds = one_call(candidate, Y, repeats)
            row.append((1e3 * seconds, np.linalg.norm(F / Z - reference) / np.linalg.norm(reference)))
        choice = FFTInterpolation().choice(Y)
        costs = choice.costs or {"fine": np.nan, "coarse": np.nan}
        pairs = np.nan if choice.pairs_per_point is None else choice.pairs_per_point
        extent = "x".join(f"{v:.0f}" for v in np.ptp(Y, axis=0))
        print(f"{label:>8} {extent:>11} {pairs:8.1f} {row[0][0]:8.1f} {1e3 * costs['fine']:6.1f} "
              f"{row[0][1]:8.2e} {row[1][0]:9.1f} {1e3 * costs['coarse']:6.1f} {row[1][1]:8.2e} "
              f"{'coarse' if choice.coarse else 'fine':>6}", flush=True)


def _counting_backend(coarse, record):
    """An FFT backend that appends to ``record`` whether each call used the coarse grid."""
    from fasttsne.gradients.fft import FFTInterpolation

    class Counting(FFTInterpolation):
        def choice(self, Y):
            chosen = super().choice(Y)
            record.append(chosen.coarse)
            return chosen
    return Counting(coarse_grid=coarse)


def runs(data, chunks, n_jobs, seed):
    import fasttsne
    from schedules import run
    from tsnebench import common_P, kl_divergence, knn_preservation, load_dataset

    X, _ = load_dataset(data)
    P = common_P(X)
    start = fasttsne.TSNE(n_jobs=n_jobs, random_state=seed).prepare_initial(X)
    print(f"# {data}: {X.shape[0]} x {X.shape[1]}, n_jobs={n_jobs}, seed {seed}; default schedule, FFT "
          "gradient; CPU seconds of the optimisation (scoring excluded); KL with the common P")
    print(f"{'coarse_grid':>11} {'iterations':>10} {'cpu s':>8} {'kl':>8} {'knn':>8} {'coarse calls':>12} "
          f"{'first':>6}")
    for coarse in (False, True):
        record = []
        gradient = dict(negative_gradient_method=_counting_backend(coarse, record))
        for done, seconds, (kl, knn) in run("default", start, chunks, n_jobs,
                                            lambda Y: (kl_divergence(P, Y), knn_preservation(X, Y)), gradient):
            first = str(record.index(True) + 1) if True in record else "-"
            print(f"{str(coarse):>11} {done:>10} {seconds:8.1f} {kl:8.4f} {knn:8.4f} {sum(record):>12} "
                  f"{first:>6}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["errors", "runs"])
    ap.add_argument("--data", default="mnist_test")
    ap.add_argument("--map", default=None, help="errors: a stored (N, 2) layout (.npy) instead of a fit's snapshots")
    ap.add_argument("--scales", default="1", help="errors with --map: factors the layout is scaled by")
    ap.add_argument("--at", default="250,500,750", help="errors: iterations of the fit to snapshot")
    ap.add_argument("--chunks", default="250,250", help="runs: main-phase iterations between scores")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    if a.what == "runs":
        runs(a.data, [int(v) for v in a.chunks.split(",")], a.n_jobs, a.seed)
        return
    if a.map:
        Y = np.load(a.map)
        layouts = [(f"x{s}", Y * float(s)) for s in a.scales.split(",")]
        print(f"# {a.map}, scaled by {a.scales}; one thread, CPU ms, best of {a.repeats}")
    else:
        from fft_grid import snapshots
        from tsnebench import load_dataset
        X, _ = load_dataset(a.data)
        taken = snapshots(X, a.n_jobs, at=tuple(int(v) for v in a.at.split(",")))
        layouts = [(f"it {k}", Y) for k, Y in sorted(taken.items())]
        print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}; snapshots of a default FFT fit; one thread, "
              f"CPU ms, best of {a.repeats}")
    errors(layouts, a.repeats)


if __name__ == "__main__":
    main()
