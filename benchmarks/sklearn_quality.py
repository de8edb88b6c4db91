"""fasttsne.sklearn.TSNE against sklearn.manifold.TSNE on scikit-learn's digits.

Both maps of a case are scored against one P (scikit-learn's: the k-NN P of its Barnes-Hut
method for the full digits, the dense P of its exact method for 500 digits) with the exact
KL, and with ``sklearn.manifold.trustworthiness`` (5 neighbours). Same parameters, same
``max_iter`` (scikit-learn's default, 1000), its default PCA initialisation with
``random_state=0``, then random initialisation with ``random_state=1``.

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
    # (case, data, scikit-learn's method, the fasttsne methods compared with it, dense P, other parameters)
    cases = [("digits (1797)", X_all, "barnes_hut", ("barnes_hut", "fft"), False, {}),
             ("500 digits", X_all[:500], "exact", ("exact",), True, {}),
             ("digits, random", X_all, "barnes_hut", ("barnes_hut",), False, dict(init="random", random_state=1)),
             ("500, random", X_all[:500], "exact", ("exact",), True, dict(init="random", random_state=1))]
    print(f"{'case':14s} {'method':>11s} {'KL sk':>7s} {'KL ft':>7s} {'ratio':>6s} {'T sk':>6s} {'T ft':>6s} "
          f"{'s sk':>6s} {'s ft':>6s}")
    for label, X, sk_method, ft_methods, exact, params in cases:
        params = {"random_state": 0, **params}
        P = sklearn_p(X, 30.0, exact)
        t0 = time.perf_counter()
        Y_sk = SklearnTSNE(method=sk_method, n_jobs=n_jobs, **params).fit_transform(X)
        s_sk = time.perf_counter() - t0
        kl_sk, t_sk = kl(P, Y_sk), trustworthiness(X, Y_sk, n_neighbors=5)
        for method in ft_methods:
            t0 = time.perf_counter()
            Y_ft = TSNE(method=method, n_jobs=n_jobs, **params).fit_transform(X)
            s_ft = time.perf_counter() - t0
            kl_ft, t_ft = kl(P, Y_ft), trustworthiness(X, Y_ft, n_neighbors=5)
            print(f"{label:14s} {method:>11s} {kl_sk:7.4f} {kl_ft:7.4f} {kl_ft / kl_sk:6.4f} {t_sk:6.4f} "
                  f"{t_ft:6.4f} {s_sk:6.1f} {s_ft:6.1f}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
