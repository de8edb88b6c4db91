"""Accuracy and time of 3-D FFT grid settings on a real 3-D t-SNE layout: the table behind
the 3-D grid bounds (MAX_NODES_3D, MAX_SPACING_3D) in docs/gradients.md.

The layout is tests/test_fft3d.py's: 2,000 MNIST test digits (50 principal components)
embedded in 3-D with the exact gradient, 100 iterations of early exaggeration and 20 after
(about 30 x 26 x 13 units), optionally scaled by ``--scale``. Each setting is ``NODESxWIDTH``
(nodes per box, box width in embedding units); the node cap is lifted so every setting gets
the grid it asks for, and the exact forces and Z are the reference.

Usage (from the project root)::

    python benchmarks/fft3d_grid.py --settings 4x0.8,4x1,4x1.2,3x0.6,3x0.75,3x0.9
    python benchmarks/fft3d_grid.py --scale 3 --settings 4x4,4x2,3x1.5
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def layout():
    """The 3-D mnist2000 layout of tests/test_fft3d.py."""
    import fasttsne
    from conftest import load_shared, pca_reduce
    X, _ = load_shared("mnist_test")
    idx = np.sort(np.random.default_rng(0).choice(len(X), 2000, replace=False))
    emb = fasttsne.TSNE(n_components=3, early_exaggeration_iter=100, n_iter=20,
                        negative_gradient_method="exact", neighbors="exact", random_state=0,
                        n_jobs=2).fit(pca_reduce(X[idx], 50))
    return np.array(emb, dtype=np.float64, order="C")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", default="4x0.8,4x1,4x1.2,3x0.6,3x0.75,3x0.9")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--dof", type=float, default=1.0)
    ap.add_argument("--n-jobs", type=int, default=2)
    a = ap.parse_args(argv)

    from fasttsne.gradients import fft3d
    from fasttsne.gradients.exact import ExactGradient
    from fasttsne.gradients.fft import FFTInterpolation

    fft3d.MAX_NODES_3D = 1 << 12  # every setting gets the grid it asks for
    Y = np.ascontiguousarray(layout() * a.scale)
    F_exact = np.empty_like(Y)
    Z_exact = ExactGradient()(Y, a.dof, F_exact, a.n_jobs)
    reference = F_exact / Z_exact
    print(f"# span {np.round(np.ptp(Y, axis=0), 1)}, dof {a.dof}, n_jobs={a.n_jobs}")
    print(f"{'setting':>8s} {'nodes':>16s} {'spacing':>8s} {'ms':>7s} {'F/Z err':>9s} {'Z err':>9s}")
    for text in a.settings.split(","):
        p, width = text.split("x")
        backend = FFTInterpolation(n_interpolation_points=int(p), ints_in_interval=float(width),
                                   min_num_intervals=1)
        grid = backend.grid(Y)
        saved = fft3d.MAX_SPACING_3D
        fft3d.MAX_SPACING_3D = np.inf  # measure the grid, never Barnes-Hut
        try:
            out = np.empty_like(Y)
            backend(Y, a.dof, out, a.n_jobs)  # builds the kernels
            t0 = time.perf_counter()
            Z = backend(Y, a.dof, out, a.n_jobs)
            ms = 1e3 * (time.perf_counter() - t0)
        finally:
            fft3d.MAX_SPACING_3D = saved
        err = np.linalg.norm(out / Z - reference) / np.linalg.norm(reference)
        print(f"{text:>8s} {str(grid.nodes):>16s} {max(grid.spacing):8.3f} {ms:7.0f} {err:9.2e} "
              f"{abs(Z - Z_exact) / Z_exact:9.2e}", flush=True)


if __name__ == "__main__":
    main()
