"""Time the compiled squared-distance kernels of the exact re-ranking.

Each kernel has the signature ``kernel(Q, R, cand, out, n_jobs)`` (see
``fasttsne._ext._knn.squared_distances``): exact float64 squared distances from every query to
its candidate rows. The data are MNIST-shaped (784 features, float32, as the exact backend and
the projection re-rank see them) and 50 features (float64, a PCA's output); the candidates are
random, so every row read is a cache miss, as in the re-ranking of a large reference.

    python benchmarks/kernels.py                                   # the kernel in use
    PYTHONPATH=/path/to/old/build python benchmarks/kernels.py knn_old.squared_distances \
        fasttsne._ext._knn.squared_distances        # against a kernel built elsewhere

Prints one line per (kernel, shape): the best of ``--repeat`` runs, in seconds, and the
nanoseconds per candidate distance.
"""
import argparse
import importlib
import time

import numpy as np


def load_kernel(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def cases(n, m, c, seed):
    """(label, Q, R, cand) for the two shapes."""
    rng = np.random.default_rng(seed)
    for d, dtype in ((784, np.float32), (50, np.float64)):
        R = rng.standard_normal((n, d)).astype(dtype)
        Q = R[:m]
        cand = rng.integers(0, n, size=(m, c), dtype=np.int64)
        yield f"{d} features {np.dtype(dtype).name}", Q, R, cand


def best_times(kernels, Q, R, cand, n_jobs, repeat):
    """Best time of each kernel over ``repeat`` rounds, the kernels taking turns within a
    round (so a busy spell of the machine hits them alike), and each kernel's output."""
    outs = [np.empty(cand.shape) for _ in kernels]
    for kernel, out in zip(kernels, outs):
        kernel(Q, R, cand, out, n_jobs)  # warm-up: page in R and the code
    best = [np.inf] * len(kernels)
    for _ in range(repeat):
        for a, (kernel, out) in enumerate(zip(kernels, outs)):
            start = time.perf_counter()
            kernel(Q, R, cand, out, n_jobs)
            best[a] = min(best[a], time.perf_counter() - start)
    return best, outs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("kernels", nargs="*", default=["fasttsne._ext._knn.squared_distances"],
                        help="dotted names of kernels to time")
    parser.add_argument("--n", type=int, default=20000, help="reference rows")
    parser.add_argument("--m", type=int, default=5000, help="query rows")
    parser.add_argument("--c", type=int, default=100, help="candidates per query")
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    kernels = [(name, load_kernel(name)) for name in args.kernels]
    for label, Q, R, cand in cases(args.n, args.m, args.c, args.seed):
        best, outs = best_times([kernel for _, kernel in kernels], Q, R, cand, args.n_jobs, args.repeat)
        for (name, _), seconds in zip(kernels, best):
            print(f"{label:24s} {name:48s} {seconds:8.4f} s {1e9 * seconds / cand.size:7.2f} ns/distance")
        for (name, _), out in zip(kernels[1:], outs[1:]):
            rel = np.abs(out - outs[0]).max() / max(np.abs(outs[0]).max(), 1e-300)
            print(f"{'':24s} {name} vs {kernels[0][0]}: max relative difference {rel:.2e}")


if __name__ == "__main__":
    main()
