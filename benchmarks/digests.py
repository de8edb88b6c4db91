"""Print SHA-256 digests of embeddings made with fixed seeds, one line per case.

A refactoring that should not change results is checked by running this before and after
and comparing the output (``diff``). Cases: the exact, Barnes-Hut and FFT gradients; a fit,
a continued ``optimize`` and a ``transform``; each deterministic neighbour backend.

    python benchmarks/digests.py > before.txt
    ... change the code ...
    python benchmarks/digests.py | diff before.txt -
"""
import hashlib
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "data"))


def digest(a):
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float64))
    return hashlib.sha256(a.tobytes()).hexdigest()[:16]


def data():
    from load import load  # noqa: E402  (../shared/data)
    X, y = load("mnist_test")
    X = np.asarray(X[:3000], dtype=np.float64)
    X = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(X, full_matrices=False)
    return X @ vt[:50].T


def main():
    import fasttsne
    X = data()
    ref, new = X[:2500], X[2500:]
    # without annealing, so these lines stay those of the schedule before it; one case anneals below
    short = dict(early_exaggeration_iter=50, anneal_iter=0, n_iter=100, random_state=0)
    cases = []
    for grad in ("exact", "bh", "fft"):
        for jobs in (1, 2):
            emb = fasttsne.TSNE(negative_gradient_method=grad, neighbors="exact", n_jobs=jobs, **short).fit(ref)
            cases.append((f"fit grad={grad} n_jobs={jobs}", emb))
            cases.append((f"optimize grad={grad} n_jobs={jobs}", emb.optimize(20, n_jobs=jobs)))
            cases.append((f"transform grad={grad} n_jobs={jobs}", emb.transform(new, n_jobs=jobs)))
    for nn in ("exact", "annoy", "rpforest"):
        emb = fasttsne.TSNE(negative_gradient_method="bh", neighbors=nn, n_jobs=1, **short).fit(ref)
        cases.append((f"fit neighbors={nn}", emb))
        cases.append((f"transform neighbors={nn}", emb.transform(new)))
    emb = fasttsne.TSNE(negative_gradient_method="bh", neighbors="exact", n_components=3, **short).fit(ref)
    cases.append(("fit 3-D bh", emb))
    emb = fasttsne.TSNE(negative_gradient_method="fft", neighbors="exact", n_components=1, **short).fit(ref)
    cases.append(("fit 1-D fft", emb))
    emb = fasttsne.TSNE(negative_gradient_method="fft", neighbors="exact", initialization="random",
                        dof=0.6, **short).fit(ref)
    cases.append(("fit fft dof=0.6 random init", emb))
    emb = fasttsne.TSNE(negative_gradient_method="fft", neighbors="exact", **{**short, "anneal_iter": 30}).fit(ref)
    cases.append(("fit fft annealed", emb))
    for name, value in cases:
        print(f"{name:40s} {digest(value)}")


if __name__ == "__main__":
    main()
