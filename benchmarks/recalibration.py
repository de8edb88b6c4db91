"""``set_perplexity`` on the kept k-NN graph against a new model, and what keeping the graph costs.

    PYTHONPATH=. python benchmarks/recalibration.py [N] [D] [repeats]

On a Gaussian mixture of N points in D dimensions (default 20,000 x 50, 3 repeats), with
exact neighbours on one thread:

- CPU seconds (``time.process_time``, the least sensitive to other load) of
  ``PerplexityBasedNN(X, 10)`` (a search and a calibration) and of ``set_perplexity(10)`` on a
  model fitted at perplexity 30, run alternately; the best of the repeats is printed, with
  whether both give the same P;
- the traced memory (``tracemalloc``, numpy's allocations included) of fitting
  ``PerplexityBasedNN(X, 30)`` with ``keep_graph=True`` (the default) and ``False`` (what
  ``TSNE`` uses for its own model): the peak, and what the fitted model still holds.
"""
import sys
import time
import tracemalloc

import numpy as np

from fasttsne.affinity import PerplexityBasedNN


def gaussian_mixture(n, d, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 4, size=(10, d))
    return centres[rng.integers(0, 10, n)] + rng.normal(size=(n, d))


def cpu_seconds(work):
    start = time.process_time()
    result = work()
    return time.process_time() - start, result


def traced_bytes(work):
    """(peak, still held with the result alive) traced bytes of ``work()``."""
    tracemalloc.start()
    try:
        result = work()
        held, peak = tracemalloc.get_traced_memory()
        del result
        return peak, held
    finally:
        tracemalloc.stop()


def main(n=20_000, d=50, repeats=3):
    X = gaussian_mixture(n, d)
    settings = dict(method="exact", n_jobs=1)
    fresh_times, recalibrated_times = [], []
    for _ in range(repeats):
        seconds, fresh = cpu_seconds(lambda: PerplexityBasedNN(X, 10, **settings))
        fresh_times.append(seconds)
        model = PerplexityBasedNN(X, 30, **settings)
        seconds, _ = cpu_seconds(lambda: model.set_perplexity(10))
        recalibrated_times.append(seconds)
    same = (fresh.P != model.P).nnz == 0
    print(f"N={n} D={d}: new PerplexityBasedNN(X, 10) {min(fresh_times):.2f} CPU s, "
          f"set_perplexity(10) {min(recalibrated_times):.3f} CPU s, same P: {same}")
    mib = 2 ** 20
    for keep in (True, False):
        peak, held = traced_bytes(lambda: PerplexityBasedNN(X, 30, keep_graph=keep, **settings))
        print(f"fit at perplexity 30, keep_graph={keep}: peak {peak / mib:.1f} MiB, held by the model "
              f"{held / mib:.1f} MiB (the 90-NN graph is {n * 90 * 16 / mib:.1f} MiB)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
