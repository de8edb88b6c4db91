"""Time every phase of a default fasttsne fit: neighbours, affinities, initialisation, the two
optimisation phases (and optionally a transform), on a tsnebench dataset.

Usage (from the project root)::

    python benchmarks/phases.py --data gmm:100000:50:20 --n-jobs 2
    python benchmarks/phases.py --data mnist --transform 0.142857

The data are loaded exactly as ``../shared/bench/tsnebench.py`` loads them (float32, same
seeds, same held-out split), so the phase times add up to that script's fit time.
"""
import argparse
import os
import sys
import time


HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="gmm:100000:50:20")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--method", default="auto")
    ap.add_argument("--neighbors", default="auto")
    ap.add_argument("--transform", type=float, default=0.0, help="fraction held out and transformed")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    from tsnebench import load_dataset
    import fasttsne
    from fasttsne.affinity import PerplexityBasedNN
    from fasttsne.initialization import initial_positions
    from fasttsne.embedding import Embedding

    X, y = load_dataset(a.data)
    X_new = None
    if a.transform:
        # the same split as tsnebench: a fixed permutation, the tail held out
        from tsnebench import split
        ref, new = split(len(X), a.transform)
        X, X_new = X[ref], X[new]
    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}, n_jobs={a.n_jobs}, fasttsne {fasttsne.__version__}")
    t = fasttsne.TSNE(n_jobs=a.n_jobs, random_state=a.seed, negative_gradient_method=a.method,
                      neighbors=a.neighbors)
    rows = []

    def timed(label, fn):
        t0 = time.perf_counter()
        out = fn()
        rows.append((label, time.perf_counter() - t0))
        rss, hwm = _memory_mb()
        print(f"{label:<24s} {rows[-1][1]:8.2f} s   rss {rss:6.0f} MB   peak so far {hwm:6.0f} MB", flush=True)
        return out

    aff = PerplexityBasedNN(t.perplexity, neighbors=a.neighbors, n_jobs=a.n_jobs, random_state=a.seed)
    from fasttsne._validation import check_data
    from fasttsne.progress import reporting
    Xc = check_data(X, accept_sparse=True)
    print(f"{'data loaded':<24s} {'':8s}     rss {_memory_mb()[0]:6.0f} MB   peak so far {_memory_mb()[1]:6.0f} MB")
    with reporting(True):  # the model prints its own "neighbours" and "affinities" lines
        timed("neighbours+affinities", lambda: aff.fit(Xc))
    print(f"# neighbour backend: {type(aff.index).__name__}")
    Y0 = timed("initialisation", lambda: initial_positions(t.initialization, Xc, t.n_components, a.seed))
    emb = Embedding(Y0, aff, negative_gradient_method=a.method, gradient_params=t._gradient_params(),
                    n_jobs=a.n_jobs, random_state=a.seed, n_features=X.shape[1])
    timed(f"exaggeration ({t.early_exaggeration_iter} it)",
          lambda: emb.optimize(t.early_exaggeration_iter, exaggeration=t.early_exaggeration,
                               momentum=t.initial_momentum, inplace=True))
    timed(f"main phase ({t.n_iter} it)",
          lambda: emb.optimize(t.n_iter, momentum=t.final_momentum, inplace=True))
    total = sum(s for _, s in rows)
    print(f"{'fit total':<24s} {total:8.2f} s   kl {emb.kl_divergence:.4f}")
    if X_new is not None:
        timed(f"transform ({len(X_new)})", lambda: emb.transform(X_new))
    print(f"{'peak RSS':<24s} {_memory_mb()[1]:8.0f} MB")


def _memory_mb():
    """(current, peak) resident memory of this process in MB, as tsnebench reads it."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out.get("VmRSS", 0.0), out.get("VmHWM", 0.0)


if __name__ == "__main__":
    main()
