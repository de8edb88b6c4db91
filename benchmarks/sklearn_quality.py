"""fasttsne.sklearn.TSNE against sklearn.manifold.TSNE on scikit-learn's digits.

Both maps of a case are scored against one P (scikit-learn's: the k-NN P of its Barnes-Hut
method for the full digits, the dense P of its exact method for 500 digits) with the exact
KL, and with ``sklearn.manifold.trustworthiness`` (5 neighbours). Same parameters, same
``max_iter`` (scikit-learn's default, 1000), seeds 0, 1, 2.

Usage: ``PYTHONPATH=. python benchmarks/sklearn_quality.py [n_jobs]``
"""
import sys
import time

import numpy as np
from scipy.spatial.distance import pdist, squareform
from sklearn.datasets import load_digits
from sklearn.manifold import TSNE as SklearnTSNE
from sklearn.manifold import trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities, _joint_probabilities_nn
from sklearn.neighbors import NearestNeighbors

from fasttsne.sklearn import TSNE


def sklearn_p(X, perplexity, exact):
    """scikit-learn's P for X, dense (N, N)."""
    if exact:
        return squareform(_joint_probabilities(squareform(pdist(X, "sqeuclidean")), perplexity, 0))
    k = min(X.shape[0] - 1, int(3.0 * perplexity + 1))
    graph = NearestNeighbors(n_neighbors=k).fit(X).kneighbors_graph(mode="distance")
    graph.data **= 2
    return _joint_probabilities_nn(graph, perplexity, 0).toarray()


def kl(P, Y):
    """KL(P || Q) in nats, Q the Cauchy-kernel similarities of Y, exactly."""
    w = 1.0 / (1.0 + squareform(pdist(Y, "sqeuclidean")))
    np.fill_diagonal(w, 0.0)
    q = w / w.sum()
    mask = P > 0
    return float(np.sum(P[mask] * np.log(P[mask] / q[mask])))


def main(n_jobs):
    X_all = load_digits().data
    cases = [("digits (1797), barnes_hut", X_all, dict(method="barnes_hut"), False),
             ("digits (1797), fasttsne method='auto'", X_all, dict(method="barnes_hut"), False),
             ("500 digits, exact", X_all[:500], dict(method="exact"), True)]
    print(f"{'case':40s} {'seed':>4s} {'KL sk':>8s} {'KL ft':>8s} {'ratio':>7s} {'T sk':>7s} {'T ft':>7s} "
          f"{'s sk':>6s} {'s ft':>6s}")
    for label, X, params, exact in cases:
        P = sklearn_p(X, 30.0, exact)
        ft_params = dict(params, method="auto") if "auto" in label else params
        for seed in (0, 1, 2):
            t0 = time.perf_counter()
            Y_sk = SklearnTSNE(random_state=seed, n_jobs=n_jobs, **params).fit_transform(X)
            t1 = time.perf_counter()
            Y_ft = TSNE(random_state=seed, n_jobs=n_jobs, **ft_params).fit_transform(X)
            t2 = time.perf_counter()
            kl_sk, kl_ft = kl(P, Y_sk), kl(P, Y_ft)
            t_sk, t_ft = trustworthiness(X, Y_sk, n_neighbors=5), trustworthiness(X, Y_ft, n_neighbors=5)
            print(f"{label:40s} {seed:4d} {kl_sk:8.4f} {kl_ft:8.4f} {kl_ft / kl_sk:7.4f} {t_sk:7.4f} {t_ft:7.4f} "
                  f"{t1 - t0:6.1f} {t2 - t1:6.1f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
