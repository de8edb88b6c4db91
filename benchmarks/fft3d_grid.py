"""Accuracy and time of 3-D FFT grid settings on real 3-D t-SNE layouts: the tables behind
the 3-D grid choice (``fft3d.plan``, ``split3d.TAYLOR_DEGREE``) in docs/gradients.md.

Layouts (``--layout``):

- ``early``: tests/test_fft3d.py's, 2,000 MNIST test digits (50 principal components)
  embedded in 3-D with the exact gradient, 100 iterations of early exaggeration and 20 after
  (about 30 x 26 x 13 units);
- ``mnist2000``: the same digits after a whole default run (exact gradient, 750 iterations);
- ``mnist_test``: the 10,000 MNIST test digits after a whole default run (Barnes-Hut).

Each setting is ``NODESxWIDTH`` (nodes per box, box width in embedding units: the unsplit
kernel, node cap lifted) or ``NODESxWIDTHs`` (the split kernel, cut off at one box width);
``auto`` is what ``FFTInterpolation()`` chooses. The exact forces and Z are the reference.

Usage (from the project root)::

    python benchmarks/fft3d_grid.py --layout early --settings auto,4x0.8,4x1.6s,4x3.2s
    python benchmarks/fft3d_grid.py --layout mnist_test --settings auto,4x4s,4x8s --degree 3
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def layout(name, cache_dir):
    """The named 3-D layout (N, 3), cached as ``cache_dir/fft3d-<name>.npy`` if given."""
    path = os.path.join(cache_dir, f"fft3d-{name}.npy") if cache_dir else None
    if path and os.path.exists(path):
        return np.load(path)
    import fasttsne
    from conftest import load_shared, pca_reduce
    X, _ = load_shared("mnist_test")
    if name == "mnist_test":
        emb = fasttsne.TSNE(n_components=3, negative_gradient_method="bh", random_state=0,
                            n_jobs=2).fit(pca_reduce(X, 50))
    else:
        idx = np.sort(np.random.default_rng(0).choice(len(X), 2000, replace=False))
        iters = dict(early_exaggeration_iter=100, n_iter=20) if name == "early" else {}
        emb = fasttsne.TSNE(n_components=3, negative_gradient_method="exact", neighbors="exact",
                            random_state=0, n_jobs=2, **iters).fit(pca_reduce(X[idx], 50))
    Y = np.array(emb, dtype=np.float64, order="C")
    if path:
        np.save(path, Y)
    return Y


def plan_of(text, backend, Y):
    """The fft3d.Plan a setting asks for."""
    from fasttsne.gradients import fft3d
    if text == "auto":
        return backend.plan(Y)
    split = text.endswith("s")
    p, width = text.rstrip("s").split("x")
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    if split:
        return fft3d.Plan(fft3d.Grid3.uniform(lo, hi, int(p), float(width)), float(width), 0.0)
    return fft3d.Plan(fft3d.Grid3(lo, hi, int(p), 1, float(width)), 0.0, 0.0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--layout", default="early", choices=("early", "mnist2000", "mnist_test"))
    ap.add_argument("--settings", default="auto,4x0.8,4x1.6s,4x3.2s")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dof", type=float, default=1.0)
    ap.add_argument("--degree", type=int, default=None, help="Taylor degree of the split's core")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--cache", default=None, help="folder to keep the layouts in")
    a = ap.parse_args(argv)

    from fasttsne.gradients import fft3d, split3d
    from fasttsne.gradients.exact import ExactGradient
    from fasttsne.gradients.fft import FFTInterpolation

    if a.degree is not None:
        split3d.TAYLOR_DEGREE = a.degree
    fft3d.MAX_NODES_3D = 1 << 12  # every setting gets the grid it asks for
    Y = np.ascontiguousarray(layout(a.layout, a.cache) * a.scale)
    F_exact = np.empty_like(Y)
    Z_exact = ExactGradient()(Y, a.dof, F_exact, a.n_jobs)
    reference = F_exact / Z_exact
    print(f"# {a.layout}: N={len(Y)}, span {np.round(np.ptp(Y, axis=0), 1)}, dof {a.dof}, "
          f"degree {split3d.TAYLOR_DEGREE}, n_jobs={a.n_jobs}")
    print(f"{'setting':>8s} {'nodes':>16s} {'spacing':>8s} {'cutoff':>7s} {'ms':>7s} {'F/Z err':>9s} {'Z err':>9s}")
    for text in a.settings.split(","):
        backend = FFTInterpolation()
        chosen = plan_of(text, backend, Y)
        out = np.empty_like(Y)
        backend._call_3d(chosen, Y, a.dof, out, a.n_jobs)  # builds the kernels
        t0 = time.perf_counter()
        Z = backend._call_3d(chosen, Y, a.dof, out, a.n_jobs)
        ms = 1e3 * (time.perf_counter() - t0)
        err = np.linalg.norm(out / Z - reference) / np.linalg.norm(reference)
        nodes = str(chosen.grid.nodes) if chosen.grid is not None else "Barnes-Hut"
        spacing = max(chosen.grid.spacing) if chosen.grid is not None else float("nan")
        print(f"{text:>8s} {nodes:>16s} {spacing:8.3f} {chosen.cutoff:7.2f} {ms:7.0f} {err:9.2e} "
              f"{abs(Z - Z_exact) / Z_exact:9.2e}", flush=True)


if __name__ == "__main__":
    main()
