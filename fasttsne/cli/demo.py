"""``fasttsne demo``: embed the bundled digits; print the time, KL and 10-NN accuracy; draw them."""
import os
import time

import numpy as np
from scipy.spatial import cKDTree

from .. import datasets
from .._version import __version__
from ..plotting import plot
from ..tsne import TSNE
from .writing import check_writable, has_matplotlib, save_plot

__all__ = ["add_parser", "run"]


def add_parser(sub):
    """Add the ``demo`` command to the subparsers ``sub``."""
    demo = sub.add_parser("demo", help="embed the bundled digits dataset and report time, KL, accuracy",
                          description="Embed the bundled digits (1,797 x 64) and print the time, the KL "
                                      "divergence and the 10-NN label accuracy.")
    demo.add_argument("--n-jobs", type=int, default=-1, help="threads (default: all cores)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--plot", default="fasttsne-demo.png",
                      help="PNG to write when matplotlib is installed ('none' to skip)")
    demo.add_argument("--verbose", action="store_true", help="print per-phase timings and a progress bar")
    demo.set_defaults(func=run)


def knn_accuracy(Y, y, k=10):
    """Leave-one-out k-NN label accuracy of the embedding ``Y`` (N, d) for integer labels
    ``y`` (N,), by majority vote (ties to the smaller label)."""
    idx = cKDTree(Y).query(Y, k + 1)[1][:, 1:]
    votes = y[idx]
    pred = np.array([np.bincount(v).argmax() for v in votes])
    return float((pred == y).mean())


def run(args):
    """Embed the bundled digits dataset; print time, KL and 10-NN accuracy; optionally plot."""
    X, y = datasets.load_digits()  # through the module, so that a test can substitute it
    print(f"fasttsne {__version__}: embedding the bundled digits ({X.shape[0]} x {X.shape[1]}) "
          f"with n_jobs={args.n_jobs}", flush=True)
    t0 = time.perf_counter()
    emb = TSNE(n_jobs=args.n_jobs, random_state=args.seed, verbose=args.verbose).fit(X)
    elapsed = time.perf_counter() - t0
    Y = np.asarray(emb)
    print(f"time {elapsed:.2f} s   KL {emb.kl_divergence:.4f}   10-NN accuracy {knn_accuracy(Y, y):.4f}")
    if args.plot != "none":
        if not has_matplotlib():
            print("picture skipped: matplotlib is not installed (python -m pip install matplotlib, then run "
                  "the demo again)")
            return 0
        check_writable(args.plot, None, "plot")
        save_plot(args.plot, lambda ax: plot(Y, y, ax=ax, legend_title="digit", title="fasttsne: digits"))
        print(f"picture written to {os.path.abspath(args.plot)}")
    return 0
