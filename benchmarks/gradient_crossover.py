"""Where Barnes-Hut stops being faster than FFT interpolation: time per gradient evaluation.

Layout: a real t-SNE embedding of MNIST's 10,000 test digits (made once with fasttsne, FFT,
cached in /tmp), subsampled (or, above 10,000, resampled with jitter) to N points. Its span is
kept: t-SNE spans grow slowly with N (about 170 at 10k and 200 at 70k for MNIST with the default
learning rate), so this is close to real layouts at every size measured. Each cell is the median
of repeated evaluations after a warm-up.

    python benchmarks/gradient_crossover.py [--sizes 500,1000,...] [--n-jobs 1,2]
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "data"))
CACHE = "/tmp/fasttsne-mnist-test-layout.npy"


def layout():
    if os.path.exists(CACHE):
        return np.load(CACHE)
    import fasttsne
    from load import load
    X, _ = load("mnist_test")
    Y = np.asarray(fasttsne.TSNE(negative_gradient_method="fft", n_jobs=2, random_state=0).fit(X))
    np.save(CACHE, Y)
    return Y


def time_backend(backend, Y, n_jobs, repeats):
    out = np.empty_like(Y)
    backend(Y, 1.0, out, n_jobs)  # warm-up (kernels, buffers)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        backend(Y, 1.0, out, n_jobs)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main():
    from fasttsne.gradients import get_gradient
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="250,500,1000,2000,5000,10000,20000,50000")
    p.add_argument("--n-jobs", default="1,2")
    p.add_argument("--repeats", type=int, default=15)
    a = p.parse_args()
    base = layout()
    rng = np.random.default_rng(0)
    print("| N | n_jobs | exact ms | bh ms | fft ms |")
    print("|---|---|---|---|---|")
    for n in (int(s) for s in a.sizes.split(",")):
        idx = rng.choice(len(base), n, replace=n > len(base))
        Y = np.ascontiguousarray(base[idx] + rng.normal(scale=0.05, size=(n, 2)))
        for n_jobs in (int(j) for j in a.n_jobs.split(",")):
            row = []
            for method in ("exact", "bh", "fft"):
                if method == "exact" and n > 10000:
                    row.append("-")
                    continue
                backend = get_gradient(method, n_samples=n, n_components=2)
                row.append(f"{1e3 * time_backend(backend, Y, n_jobs, a.repeats):.2f}")
            print(f"| {n} | {n_jobs} | " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
