"""FFT repulsion benchmark: accuracy against the exact sums and time per evaluation, fasttsne's
``FFTInterpolation`` next to openTSNE's FFT gradient, on real t-SNE layouts.

Layouts are openTSNE embeddings (FFT gradient, default schedule, PCA-50 input) of MNIST's
10,000 test digits ("10k") and all 70,000 digits ("70k"), computed once and cached; "100k"
resamples the 70k layout with 0.3-unit jitter, scaled by sqrt(100/70) so the density of a
bigger embedding is kept. One evaluation is one call of the backend (forces and Z); the
time reported is the median over ``--repeats`` calls after a warm-up call, with the grid's
cached kernels in use (a t-SNE step usually finds them cached; see docs/gradients.md).

Usage (from the project root)::

    python benchmarks/fft_gradient.py --time 10k,70k,100k --repeats 11
    python benchmarks/fft_gradient.py --accuracy 10k,70k

openTSNE's gradient is called directly (``openTSNE._tsne.estimate_negative_gradient_fft_2d``,
single-threaded as in openTSNE itself); its accuracy is that of its normalised gradient.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED_DATA = os.environ.get("FASTTSNE_SHARED_DATA", os.path.join(HERE, "..", "..", "shared", "data"))
#: Layout name -> (shared dataset, points resampled from its layout or None).
LAYOUTS = {"10k": ("mnist_test", None), "70k": ("mnist", None), "100k": ("mnist", 100_000)}
#: Standard deviation of the jitter of resampled points (embedding units).
RESAMPLE_JITTER = 0.3


def _pca(X, k=50):
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X[:: max(1, len(X) // 20000)], full_matrices=False)
    return X @ vt[:k].T


def layout(name, cache):
    """(N, 2) float64 C-contiguous t-SNE layout ``name`` (see LAYOUTS)."""
    dataset, resample = LAYOUTS[name]
    path = os.path.join(cache, f"{dataset}_opentsne_layout.npy")
    if not os.path.exists(path):
        import openTSNE
        sys.path.insert(0, SHARED_DATA)
        try:
            from load import load
        finally:
            sys.path.pop(0)
        X = _pca(load(dataset)[0])
        Y = openTSNE.TSNE(n_jobs=2, random_state=0, negative_gradient_method="fft").fit(X)
        os.makedirs(cache, exist_ok=True)
        np.save(path, np.asarray(Y))
    Y = np.load(path)
    if resample:
        rng = np.random.default_rng(0)
        Y = Y[rng.choice(len(Y), resample, replace=True)] * np.sqrt(resample / len(Y))
        Y = Y + rng.normal(0.0, RESAMPLE_JITTER, Y.shape)
    return np.ascontiguousarray(Y, dtype=np.float64)


def _median_ms(f, repeats, clock=time.perf_counter):
    f()
    times = []
    for _ in range(repeats):
        t0 = clock()
        f()
        times.append(clock() - t0)
    return 1e3 * statistics.median(times)


def _opentsne(Y, dof=1.0):
    """openTSNE's normalised repulsive gradient F/Z and its Z."""
    import openTSNE._tsne as ot
    g = np.zeros_like(Y)
    Z = ot.estimate_negative_gradient_fft_2d(Y.copy(), g, 3, 50, 1, dof)
    return -g, Z


def time_layouts(names, repeats, cache):
    from fasttsne.gradients.fft import FFTInterpolation
    import openTSNE._tsne as ot
    print("| layout | N | fasttsne n_jobs=1 | fasttsne n_jobs=2 | openTSNE | openTSNE / fasttsne(2) |")
    print("|---|---|---|---|---|---|")
    for name in names:
        Y = layout(name, cache)
        out = np.empty_like(Y)
        ms = {}
        for n_jobs in (1, 2):
            backend = FFTInterpolation()
            ms[n_jobs] = _median_ms(lambda: backend(Y, 1.0, out, n_jobs), repeats)
        g = np.zeros_like(Y)
        ms["ot"] = _median_ms(lambda: ot.estimate_negative_gradient_fft_2d(Y, g, 3, 50, 1, 1.0), repeats)
        print(f"| {name} | {len(Y):,} | {ms[1]:.0f} ms | {ms[2]:.0f} ms | {ms['ot']:.0f} ms | "
              f"{ms['ot'] / ms[2]:.1f}x |", flush=True)


def accuracy(names, cache):
    from fasttsne._ext import _exact
    from fasttsne.gradients.fft import FFTInterpolation
    print("| layout | method | F/Z rel. error | Z rel. error |")
    print("|---|---|---|---|")
    for name in names:
        Y = layout(name, cache)
        Fe = np.empty_like(Y)
        Ze = _exact.negative_gradient(Y, 1.0, Fe, np.empty(len(Y)), 2)
        Ge = Fe / Ze
        rows = []
        for radius in (0, 1, 2):
            F = np.empty_like(Y)
            Z = FFTInterpolation(near_field_radius=radius)(Y, 1.0, F, 2)
            rows.append((f"fasttsne, near_field_radius={radius}", F / Z, Z))
        rows.append(("openTSNE",) + _opentsne(Y))
        for label, G, Z in rows:
            print(f"| {name} | {label} | {np.linalg.norm(G - Ge) / np.linalg.norm(Ge):.2e} | "
                  f"{abs(Z - Ze) / Ze:.1e} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time", default="", help="comma-separated layouts to time (10k, 70k, 100k)")
    parser.add_argument("--accuracy", default="", help="comma-separated layouts to check against the exact sums")
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "fasttsne-bench"),
                        help="where the layouts are kept between runs")
    args = parser.parse_args(argv)
    if args.accuracy:
        accuracy(args.accuracy.split(","), args.cache)
    if args.time:
        time_layouts(args.time.split(","), args.repeats, args.cache)


if __name__ == "__main__":
    main()
