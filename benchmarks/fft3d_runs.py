"""Whole 3-D fits with FFT interpolation against Barnes-Hut, interleaved in one process.

For each data set the two methods are run alternately ``--repeats`` times (the same seed and
neighbours), so a machine whose load drifts affects both alike. Reported per fit: wall
seconds, CPU seconds of the process (all threads: less sensitive to other jobs' load than wall
time) and fasttsne's own KL (the same P for both methods). ``auto``'s 3-D crossover in
``fasttsne.gradients`` comes from this table.

Usage (from the project root)::

    PYTHONPATH=. python benchmarks/fft3d_runs.py --data digits,mnist_test --n-jobs 2
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def dataset(name):
    """(X, name) for ``digits``, ``digitsN`` (the first N digits) or a shared data set (PCA 50)."""
    if name.startswith("digits"):
        from sklearn.datasets import load_digits
        X = load_digits().data
        return X[:int(name[6:])] if name[6:] else X
    from conftest import load_shared, pca_reduce
    X, _ = load_shared(name)
    return pca_reduce(X, 50) if X.shape[1] > 50 else X


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="digits")
    ap.add_argument("--methods", default="fft,bh")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--n-jobs", type=int, default=2)
    a = ap.parse_args(argv)
    import fasttsne

    print(f"{'data':>12s} {'N':>7s} {'method':>6s} {'wall s':>8s} {'cpu s':>8s} {'KL':>8s}")
    for name in a.data.split(","):
        X = dataset(name)
        for _ in range(a.repeats):
            for method in a.methods.split(","):
                t0, c0 = time.perf_counter(), time.process_time()
                emb = fasttsne.TSNE(n_components=3, negative_gradient_method=method, random_state=0,
                                    n_jobs=a.n_jobs).fit(X)
                wall, cpu = time.perf_counter() - t0, time.process_time() - c0
                print(f"{name:>12s} {len(X):7d} {method:>6s} {wall:8.1f} {cpu:8.1f} "
                      f"{emb.kl_divergence:8.4f}", flush=True)


if __name__ == "__main__":
    main()
