"""Where one iteration of a 2-D FFT fit spends its time, part by part, as the map grows.

A default fit on a tsnebench dataset is stopped at a few snapshots (by default the end of early
exaggeration and the middle and end of the main phase); at each, one iteration is replayed
part by part on one thread, each part's CPU time (``time.process_time``, the best of
``--repeats``) taken on its own:

- ``attraction``: the pass over P (``_attractive.attractive_forces``, with the KL term);
- ``boxes``: sorting the points into the grid's boxes;
- ``spread``: interpolating the charges onto the grid;
- ``fft``: the forward and inverse FFTs and the products with the kernel spectra;
- ``gather``: interpolating the potentials back to the points;
- ``update``: the fused gradient step and the centring.

One thread and CPU time, because wall time on a shared machine measures the other jobs more
than this one. The grid's size is printed with each snapshot.

Usage (from the project root)::

    python benchmarks/iteration.py --data mnist_test
    python benchmarks/iteration.py --data mnist --at 250,500,750
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))

#: Which part each timed function of ``fasttsne.gradients.fft`` belongs to.
FFT_PARTS = {"sort_into_boxes": "boxes", "charges_to_grid": "spread", "_forward": "fft",
             "convolve_spectra": "fft", "_inverse": "fft", "grid_to_points": "gather"}
PARTS = ("attraction", "boxes", "spread", "fft", "gather", "update")


def snapshots(X, at, n_jobs, seed):
    """(positions at each iteration of ``at``, the fitted embedding) of a default fit."""
    import fasttsne
    taken = {}

    def keep(iteration, kl, Y):
        if iteration in at:
            taken[iteration] = np.array(Y)
    embedding = fasttsne.TSNE(n_jobs=n_jobs, random_state=seed, negative_gradient_method="fft",
                              callbacks=[keep], callbacks_every_iters=50).fit(X)
    return taken, embedding


class _Timed:
    """Stands in for a module: its functions named in ``parts`` add their CPU time to ``spent``."""

    def __init__(self, module, parts, spent):
        self._module, self._parts, self._spent = module, parts, spent

    def __getattr__(self, name):
        f = getattr(self._module, name)
        if name not in self._parts:
            return f

        def timed(*args, **kwargs):
            t0 = time.process_time()
            try:
                return f(*args, **kwargs)
            finally:
                self._spent[self._parts[name]] += time.process_time() - t0
        return timed


def profile(Y, P, exaggeration, repeats):
    """{part: best CPU seconds} of one iteration at positions ``Y`` on one thread."""
    from fasttsne._ext import _attractive, _optimizer
    from fasttsne.gradients import fft
    from fasttsne.optim import OptimizerState

    n, d = Y.shape
    best = dict.fromkeys(PARTS, np.inf)
    gradient = fft.FFTInterpolation()
    attractive, repulsive, per_point = np.empty_like(Y), np.empty_like(Y), np.empty(n)
    real_fft, real_forward, real_inverse = fft._fft, fft._forward, fft._inverse
    for _ in range(repeats):
        spent = dict.fromkeys(PARTS, 0.0)
        t0 = time.process_time()
        _attractive.attractive_forces(P.indptr, P.indices, P.data, Y, 1.0, attractive, per_point, True, 1)
        spent["attraction"] = time.process_time() - t0
        timed = _Timed(fft, FFT_PARTS, spent)
        fft._fft, fft._forward, fft._inverse = _Timed(real_fft, FFT_PARTS, spent), timed._forward, timed._inverse
        try:
            z = gradient(Y, 1.0, repulsive, 1)
        finally:
            fft._fft, fft._forward, fft._inverse = real_fft, real_forward, real_inverse
        state = OptimizerState.fresh(n, d)
        moved = Y.copy()
        t0 = time.process_time()
        _optimizer.gradient_step(moved, attractive, repulsive, float(exaggeration), 1.0 / z, state.update,
                                 state.gains, 200.0, 0.8, 0.01, -1.0, -1.0, 1)
        _optimizer.center(moved)
        spent["update"] = time.process_time() - t0
        for part in PARTS:
            best[part] = min(best[part], spent[part])
    return best, gradient.grid(Y)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="mnist_test")
    ap.add_argument("--at", default="250,500,750", help="iterations to profile (exaggeration ends at 250)")
    ap.add_argument("--n-jobs", type=int, default=2, help="threads of the fit that makes the snapshots")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    from tsnebench import load_dataset
    X, _ = load_dataset(a.data)
    at = sorted(int(v) for v in a.at.split(","))
    taken, embedding = snapshots(X, at, a.n_jobs, a.seed)
    P = embedding.P
    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}, P nnz {P.nnz}; one thread, CPU ms, best of {a.repeats}")
    print(f"{'iteration':>9} {'grid nodes':>12} " + " ".join(f"{p:>10}" for p in PARTS) + f" {'total':>8}")
    for iteration in at:
        if iteration not in taken:
            print(f"{iteration:>9} (not reached)")
            continue
        best, grid = profile(taken[iteration], P, 12.0 if iteration < 250 else 1.0, a.repeats)
        nodes = "x".join(str(m) for m in grid.nodes)
        print(f"{iteration:>9} {nodes:>12} " + " ".join(f"{1e3 * best[p]:10.1f}" for p in PARTS)
              + f" {1e3 * sum(best.values()):8.1f}", flush=True)


if __name__ == "__main__":
    main()
