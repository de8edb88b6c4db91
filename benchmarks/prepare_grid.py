"""Where the time of placing new points goes with and without ``prepare_interpolation_grid``.

Fits an FFT map of a Gaussian mixture, then, on fresh copies of it (no cached grid), times in
one process, interleaved and repeated: a ``transform`` that builds the grid itself; the
``prepare_interpolation_grid`` call; a ``transform`` after it (which reuses the grid). CPU
seconds (``time.process_time``) at ``n_jobs=1``, the medians of the repeats.

    PYTHONPATH=. python benchmarks/prepare_grid.py --n 10000 --repeats 3
"""
import argparse
import time

import numpy as np

import fasttsne


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="reference points")
    parser.add_argument("--new", type=int, default=100, help="new points per transform")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 8, size=(10, 10))
    X = centres[rng.integers(0, 10, args.n)] + rng.normal(size=(args.n, 10))
    X_new = centres[rng.integers(0, 10, args.new)] + rng.normal(size=(args.new, 10))
    reference = fasttsne.TSNE(negative_gradient_method="fft", random_state=0, n_jobs=1).fit(X)
    timings = {"transform, no grid prepared (builds it)": [], "prepare_interpolation_grid": [],
               "transform after preparing": []}
    for _ in range(args.repeats):
        plain = reference.optimize(0)  # a copy without the cached grid
        timings["transform, no grid prepared (builds it)"].append(_cpu(lambda: plain.transform(X_new)))
        prepared = reference.optimize(0)
        timings["prepare_interpolation_grid"].append(_cpu(prepared.prepare_interpolation_grid))
        timings["transform after preparing"].append(_cpu(lambda: prepared.transform(X_new)))
    for label, seconds in timings.items():
        print(f"{label:42s} {np.median(seconds):.3f} s CPU")


def _cpu(call):
    start = time.process_time()
    call()
    return time.process_time() - start


if __name__ == "__main__":
    main()
