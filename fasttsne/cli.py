"""Command-line interface: ``fasttsne <command>`` or ``python -m fasttsne <command>``."""
import argparse
import sys
import time

import numpy as np

__all__ = ["main"]


def _knn_accuracy(Y, y, k=10):
    """Leave-one-out k-NN label accuracy of the embedding (majority vote)."""
    from scipy.spatial import cKDTree
    idx = cKDTree(Y).query(Y, k + 1)[1][:, 1:]
    votes = y[idx]
    pred = np.array([np.bincount(v).argmax() for v in votes])
    return float((pred == y).mean())


def cmd_demo(args):
    """Embed the bundled digits dataset; print time, KL and 10-NN accuracy; optionally plot."""
    import fasttsne
    from fasttsne.datasets import load_digits
    X, y = load_digits()
    print(f"fasttsne {fasttsne.__version__}: embedding the bundled digits ({X.shape[0]} x {X.shape[1]}) "
          f"with n_jobs={args.n_jobs}", flush=True)
    t0 = time.perf_counter()
    emb = fasttsne.TSNE(n_jobs=args.n_jobs, random_state=args.seed, verbose=args.verbose).fit(X)
    elapsed = time.perf_counter() - t0
    Y = np.asarray(emb)
    print(f"time {elapsed:.2f} s   KL {emb.kl_divergence:.4f}   10-NN accuracy {_knn_accuracy(Y, y):.4f}")
    if args.plot != "none":
        try:
            import matplotlib
        except ImportError:
            print("(matplotlib is not installed: no plot written; pip install matplotlib)")
            return 0
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 6))
        sc = ax.scatter(Y[:, 0], Y[:, 1], c=y, cmap="tab10", s=4)
        ax.legend(*sc.legend_elements(), loc="best", fontsize="small", markerscale=0.8, title="digit")
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("fasttsne: digits")
        fig.savefig(args.plot, dpi=120, bbox_inches="tight")
        print(f"plot written to {args.plot}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="fasttsne", description="Fast t-SNE embeddings.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="embed the bundled digits dataset and report time, KL, accuracy")
    demo.add_argument("--n-jobs", type=int, default=-1, help="threads (default: all cores)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--plot", default="fasttsne-demo.png",
                      help="PNG to write when matplotlib is installed ('none' to skip)")
    demo.add_argument("--verbose", action="store_true", help="print per-phase timings")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, TypeError, OSError) as e:
        print(f"fasttsne: error: {e}", file=sys.stderr)
        return 2
