"""Time one attraction pass and one FFT repulsion call at a fitted layout, with the points in
the caller's order and renumbered along the Morton curve (fasttsne.optim.locality).

Usage (from the project root)::

    python benchmarks/locality.py --data gmm:100000:50:20 --n-jobs 2
    python benchmarks/locality.py --data gmm:1000000:50:20 --n-jobs 2   # ~10 minutes

The layout comes from a default fit of the data (loaded as ``../shared/bench/tsnebench.py``
loads it); the timings are medians of ``--repeats`` calls.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))


def median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1000 * float(np.median(times))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="gmm:100000:50:20")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args(argv)

    from tsnebench import load_dataset
    import fasttsne
    from fasttsne._ext import _attractive
    from fasttsne.gradients.fft import FFTInterpolation
    from fasttsne.optim.locality import SpatialOrder
    from fasttsne.optim import OptimizerState

    X, _ = load_dataset(a.data)
    emb = fasttsne.TSNE(n_jobs=a.n_jobs, random_state=0).fit(X)
    P, Y = emb.P, np.asarray(emb).copy()
    print(f"# {a.data}: {P.shape[0]} points, P {P.nnz} entries, n_jobs={a.n_jobs}")
    order = SpatialOrder(P, a.n_jobs)
    t0 = time.perf_counter()
    local_Y, _ = order.enter(Y, OptimizerState.fresh(*Y.shape))
    print(f"{'renumbering (enter)':<32s} {1000 * (time.perf_counter() - t0):9.1f} ms")
    out, per_point = np.empty_like(Y), np.empty(len(Y))
    for label, Q, Z in (("caller's order", P, Y), ("curve order", order.P_local, local_Y)):
        ms = median_ms(lambda: _attractive.attractive_forces(Q.indptr, Q.indices, Q.data, Z, 1.0, out,
                                                              per_point, False, a.n_jobs), a.repeats)
        print(f"{'attraction, ' + label:<32s} {ms:9.1f} ms")
        fft = FFTInterpolation()
        fft(Z, 1.0, out, a.n_jobs)  # kernels and scratch built once
        ms = median_ms(lambda: fft(Z, 1.0, out, a.n_jobs), a.repeats)
        print(f"{'FFT repulsion, ' + label:<32s} {ms:9.1f} ms")


if __name__ == "__main__":
    main()
