"""KL against iterations for optimisation schedules: which one reaches a given KL soonest.

Every schedule starts from the same initial map (default PCA initialisation, default P) and
runs early exaggeration, then the main phase in chunks; after each chunk the map is scored as
the side-by-side benchmark (``../shared/bench/tsnebench.py``) scores it: KL with one common P
(perplexity 30 on the exact 90-NN graph; Z exact up to 20,000 points) and kNN preservation.

Schedules (``--schedules``, comma-separated names):

- ``default``: 250 iterations at exaggeration 12 and momentum 0.5, then momentum 0.8;
- ``momentum0.9``: as default, momentum 0.9 in the main phase;
- ``ee125``: 125 iterations of early exaggeration instead of 250;
- ``lr2``: the main phase at twice the automatic learning rate (2 N);
- ``anneal``: exaggeration lowered from 12 to 1 in 10 even steps of 10 iterations after early
  exaggeration (Kobak & Berens 2019 anneal the exaggeration this way), then the main phase.

``--grids 4x0.8,4x1`` runs each schedule with the FFT gradient on each grid (nodes per
interval x interval width, embedding units) instead of the automatic gradient; ``--late-grid
3x1`` switches to that grid from the second main-phase chunk on (a sparse, late map).

Usage (from the project root)::

    python benchmarks/schedules.py --data digits
    python benchmarks/schedules.py --data mnist_test --chunks 250,250,250,250
    python benchmarks/schedules.py --data mnist_test --schedules default --grids 4x0.8,4x1
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))


def _anneal(embedding, n_jobs):
    """Exaggeration 12 -> 1 in 10 steps of 10 iterations; returns the map and the iterations run."""
    for factor in np.linspace(12.0, 1.0, 11)[1:]:
        embedding = embedding.optimize(10, exaggeration=float(factor), momentum=0.8, n_jobs=n_jobs)
    return embedding, 100


#: name -> (early exaggeration iterations, main-phase momentum, main-phase learning rate factor,
#: whether to anneal)
SCHEDULES = {
    "default": (250, 0.8, 1.0, False),
    "momentum0.9": (250, 0.9, 1.0, False),
    "ee125": (125, 0.8, 1.0, False),
    "lr2": (250, 0.8, 2.0, False),
    "anneal": (250, 0.8, 1.0, True),
}


def _grid(text):
    """'4x0.8' -> the FFT gradient's keyword arguments for that grid."""
    nodes, width = text.split("x")
    return dict(negative_gradient_method="fft", n_interpolation_points=int(nodes), ints_in_interval=float(width))


def run(schedule, start, chunks, n_jobs, score, gradient, late=None):
    """Yield (iterations so far, seconds so far, scores) after each main-phase chunk.

    ``gradient``: keyword arguments of the first ``optimize`` (the gradient and its grid), kept
    by the map for the later ones; ``late``: those of the second main-phase chunk, if any.
    """
    ee, momentum, lr_factor, anneal = SCHEDULES[schedule]
    n = start.positions.shape[0]
    t0 = time.process_time()
    embedding = start.optimize(ee, exaggeration=12.0, momentum=0.5, n_jobs=n_jobs, **gradient)
    done = ee
    if anneal:
        embedding, extra = _anneal(embedding, n_jobs)
        done += extra
    for index, chunk in enumerate(chunks):
        switch = late if late and index == 1 else {}
        embedding = embedding.optimize(chunk, momentum=momentum, learning_rate=lr_factor * n, n_jobs=n_jobs,
                                       **switch)
        done += chunk
        seconds = time.process_time() - t0
        yield done, seconds, score(np.asarray(embedding))
        t0 = time.process_time() - seconds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="digits")
    ap.add_argument("--schedules", default=",".join(SCHEDULES))
    ap.add_argument("--chunks", default="250,250,250", help="main-phase iterations between scores")
    ap.add_argument("--grids", default=None, help="FFT grids, e.g. 4x0.8,4x1 (default: the automatic gradient)")
    ap.add_argument("--late-grid", default=None, help="FFT grid from the second main-phase chunk on, e.g. 3x1")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import fasttsne
    from tsnebench import common_P, kl_divergence, knn_preservation, load_dataset

    X, _ = load_dataset(a.data)
    P = common_P(X)
    chunks = [int(v) for v in a.chunks.split(",")]
    start = fasttsne.TSNE(n_jobs=a.n_jobs, random_state=a.seed).prepare_initial(X)

    def score(Y):
        return kl_divergence(P, Y), knn_preservation(X, Y)

    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}, n_jobs={a.n_jobs}, seed {a.seed}; "
          "CPU seconds of the optimisation (scoring excluded); KL with the common P")
    gradients = {"auto": {}}
    if a.grids:
        gradients = {g: _grid(g) for g in a.grids.split(",")}
    late = _grid(a.late_grid) if a.late_grid else None
    print(f"{'schedule':<12} {'gradient':>8} {'iterations':>10} {'cpu s':>8} {'kl':>8} {'knn':>8}")
    for name in a.schedules.split(","):
        for label, gradient in gradients.items():
            for done, seconds, (kl, knn) in run(name, start, chunks, a.n_jobs, score, gradient, late):
                print(f"{name:<12} {label:>8} {done:>10} {seconds:8.1f} {kl:8.4f} {knn:8.4f}", flush=True)


if __name__ == "__main__":
    main()
