"""Accuracy and time of FFT grid settings (nodes per box, box width, near field) at real
t-SNE layouts: the table behind the FFT defaults in docs/gradients.md.

A default fasttsne run on a tsnebench dataset is stopped at two snapshots (the end of early
exaggeration, where clusters are compact, and the final layout); at each, the exact forces and
Z (O(N^2), ``fasttsne._ext._exact``) are the reference for every grid setting.

Usage (from the project root)::

    python benchmarks/fft_grid.py --data gmm:100000:50:20 --n-jobs 2
    python benchmarks/fft_grid.py --data mnist_test --settings 3x1r2,4x0.6,3x0.35
    python benchmarks/fft_grid.py --map tests/data/mnist_test_map.npy --scales 1,0.6,0.35 --settings 4x0.8,3x1r2

``--map`` takes a stored (N, 2) layout instead of a fit's snapshots, scaled by each of ``--scales``
(a smaller scale mimics an earlier, denser iteration); the time is then CPU time on one thread.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))

DEFAULT_SETTINGS = "3x1r2,3x1,3x0.5,3x0.35,4x0.6,5x0.8,6x1"


def parse_setting(text):
    """'4x0.6' -> (4, 0.6, None); '3x1r2' -> (3, 1.0, 2): nodes, box width, near-field radius
    (None: none)."""
    nodes, rest = text.split("x")
    width, _, radius = rest.partition("r")
    return int(nodes), float(width), (int(radius) if radius else None)


def snapshots(X, n_jobs, at=(250, 750)):
    """Positions of a default run at the given iterations (exaggeration 250 + 500)."""
    import fasttsne
    taken = {}

    def keep(iteration, kl, Y):
        if iteration in at:
            taken[iteration] = Y
    fasttsne.TSNE(n_jobs=n_jobs, random_state=0, negative_gradient_method="fft",
                  callbacks=[keep], callbacks_every_iters=50).fit(X)
    return taken


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="gmm:100000:50:20")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--settings", default=DEFAULT_SETTINGS)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--map", default=None, help="a stored (N, 2) layout (.npy) instead of a fit's snapshots")
    ap.add_argument("--scales", default="1", help="with --map: factors the layout is scaled by")
    a = ap.parse_args(argv)

    from tsnebench import load_dataset
    from fasttsne._ext import _exact
    from fasttsne.gradients import fft

    if a.map:
        # one thread and CPU time: a stored map needs no fit, and the comparison no quiet machine
        layouts = {float(f): np.load(a.map) * float(f) for f in a.scales.split(",")}
        a.n_jobs, clock = 1, time.process_time
        print(f"# {a.map}, scaled by {a.scales}; one thread; CPU time: best of {a.repeats}")
    else:
        X, _ = load_dataset(a.data)
        layouts, clock = snapshots(X, a.n_jobs), time.perf_counter
        print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}, n_jobs={a.n_jobs}; time: best of {a.repeats}")
    print(f"{'iter':>5s} {'setting':>8s} {'fft shape':>12s} {'ms':>7s} {'F/Z err':>9s} {'Z err':>9s}")
    for iteration, Y in sorted(layouts.items()):
        Y = np.ascontiguousarray(Y, dtype=np.float64)
        F_exact = np.empty_like(Y)
        Z_exact = _exact.negative_gradient(Y, 1.0, F_exact, np.empty(len(Y)), a.n_jobs)
        reference = F_exact / Z_exact
        for text in a.settings.split(","):
            p, width, radius = parse_setting(text)
            backend = fft.FFTInterpolation(n_interpolation_points=p, ints_in_interval=width,
                                           near_field_radius=radius or 0, coarse_grid=False)
            # the spacing rule decides whether the near field is used: force the asked setting
            saved = fft.NEAR_FIELD_MIN_SPACING
            fft.NEAR_FIELD_MIN_SPACING = 0.0 if radius is not None else np.inf
            try:
                out = np.empty_like(Y)
                backend(Y, 1.0, out, a.n_jobs)  # builds the kernels
                times = []
                for _ in range(a.repeats):
                    t0 = clock()
                    Z = backend(Y, 1.0, out, a.n_jobs)
                    times.append(clock() - t0)
            finally:
                fft.NEAR_FIELD_MIN_SPACING = saved
            err = np.linalg.norm(out / Z - reference) / np.linalg.norm(reference)
            shape = "x".join(map(str, backend._kernels.fft_shape))
            print(f"{iteration:5g} {text:>8s} {shape:>12s} {1000 * min(times):7.0f} {err:9.2e} "
                  f"{Z / Z_exact - 1:+9.1e}", flush=True)


if __name__ == "__main__":
    main()
