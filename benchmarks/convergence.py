"""Fit datasets under optimisation schedules; print iterations, seconds, KL and kNN preservation.

The table issue 18 asks of convergence-aware optimisation: the fixed schedule (250
early-exaggeration + 500 iterations) against any other, on the same data, seed and threads.
A schedule is a name from SCHEDULES or a JSON object of ``fasttsne.TSNE`` keyword arguments, so
a new one (``{"n_iter": "auto"}``) plugs in without editing this file:

  PYTHONPATH=. python benchmarks/convergence.py --data digits,mnist_test
  PYTHONPATH=. python benchmarks/convergence.py --schedule fixed --schedule '{"n_iter": 1000}'

Data: names from ../shared/data, ``digits`` (the bundled scikit-learn digits) or
``gmm:N:D:C`` (tsnebench.py's Gaussian mixture). The default list is the issue's: mnist,
mnist_test, fashion_mnist_train, digits, gmm:100000:50:20 and gmm:20000:16:26; the large ones
take many minutes each on a 2-core machine. kNN preservation is fasttsne.quality's (exact up
to 100,000 points, k = 10).
"""
import argparse
import json

import numpy as np

from quality import Clock, load, principal_components

DATASETS = ("mnist", "mnist_test", "fashion_mnist_train", "digits", "gmm:100000:50:20", "gmm:20000:16:26")
#: Named schedules: keyword arguments of fasttsne.TSNE.
SCHEDULES = {"fixed": {"early_exaggeration_iter": 250, "n_iter": 500}}


def schedule(text):
    """A --schedule value: (name, TSNE keyword arguments)."""
    if text in SCHEDULES:
        return text, SCHEDULES[text]
    try:
        params = json.loads(text)
    except json.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"expected one of {sorted(SCHEDULES)} or a JSON object, got {text!r}")
    if not isinstance(params, dict):
        raise argparse.ArgumentTypeError(f"a schedule must be a JSON object of TSNE arguments, got {text!r}")
    return text, params


def load_data(name, pca):
    if name == "digits":
        from fasttsne.datasets import load_digits
        X, y = load_digits()
    else:
        X, y = load(name)
    if pca and X.shape[1] > pca:
        X = principal_components(X, pca)
    return X, y


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=",".join(DATASETS), help="comma-separated datasets")
    p.add_argument("--schedule", type=schedule, action="append",
                   help="'fixed' or a JSON object of TSNE arguments; repeat to compare (default fixed)")
    p.add_argument("--pca", type=int, default=None, help="reduce wide data to this many principal components")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    import fasttsne
    from fasttsne import quality
    schedules = a.schedule or [schedule("fixed")]
    print(f"# n_jobs={a.n_jobs} seed={a.seed}{f' pca={a.pca}' if a.pca else ''}")
    print(f"{'data':<22} {'schedule':<28} {'iterations':>10} {'fit s':>8} {'CPU s':>8} {'KL':>8} {'kNN':>7}")
    for name in a.data.split(","):
        X, _ = load_data(name, a.pca)
        for label, params in schedules:
            tsne = fasttsne.TSNE(random_state=a.seed, n_jobs=a.n_jobs, **params)
            with Clock() as clock:
                embedding = tsne.fit(X)
            knn = quality.knn_preservation(X, np.asarray(embedding), 10, n_jobs=a.n_jobs)
            print(f"{name:<22} {label:<28} {embedding.n_iter:>10} {clock.wall:>8.1f} {clock.cpu:>8.1f} "
                  f"{embedding.kl_divergence:>8.4f} {knn:>7.4f}", flush=True)


if __name__ == "__main__":
    main()
