"""The fixed schedule (250 + 500 iterations) against the "auto" one, dataset by dataset.

For each dataset, fits ``TSNE(random_state=seed)`` twice, with the fixed schedule and with
``early_exaggeration_iter="auto", n_iter="auto"``, and prints one row per fit: iterations,
seconds, KL and kNN preservation, both scored as ``../shared/bench/tsnebench.py`` scores them
(KL with one common P, the same for both fits; the fraction of each point's 10 exact high-D
neighbours kept among its 10 nearest in the map). A last column per dataset says whether
"auto" met the bar for becoming the default: KL <= fixed KL * 1.005 and kNN preservation >=
fixed - 0.002.

    PYTHONPATH=. python benchmarks/convergence.py digits gmm:20000:16:26 mnist_test --n-jobs 1

Dataset names are tsnebench's (``digits``, ``gmm:N:D:C``, names from ../shared/data).
"""
import argparse
import importlib.util
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TSNEBENCH = os.path.join(HERE, "..", "..", "shared", "bench", "tsnebench.py")
#: The bar for "auto" to become the default (issue 18).
KL_RATIO, KNN_DROP = 1.005, 0.002
SCHEDULES = {"fixed": {}, "auto": {"early_exaggeration_iter": "auto", "n_iter": "auto"}}


def load_tsnebench(path):
    spec = importlib.util.spec_from_file_location("tsnebench", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(tb, name, seed, n_jobs):
    """Rows (dicts) of the fixed and auto fits of dataset ``name``."""
    import fasttsne
    X, _ = tb.load_dataset(name)
    P = tb.common_P(X)
    rows = []
    for schedule, params in SCHEDULES.items():
        t0 = time.perf_counter()
        embedding = fasttsne.TSNE(random_state=seed, n_jobs=n_jobs, **params).fit(X)
        seconds = time.perf_counter() - t0
        Y = np.asarray(embedding)
        rows.append({"data": name, "schedule": schedule, "n": len(X), "iterations": int(embedding.n_iter),
                     "exaggeration_iter": int(embedding.phases_[0].n_iter), "seconds": seconds,
                     "kl": tb.kl_divergence(P, Y), "knn": tb.knn_preservation(X, Y)})
    fixed, auto = rows
    auto["meets_bar"] = bool(auto["kl"] <= fixed["kl"] * KL_RATIO and auto["knn"] >= fixed["knn"] - KNN_DROP)
    return rows


def row_text(r):
    bar = "" if "meets_bar" not in r else ("yes" if r["meets_bar"] else "NO")
    return (f"| {r['data']} | {r['n']} | {r['schedule']} | {r['exaggeration_iter']} | {r['iterations']} | "
            f"{r['seconds']:.1f} | {r['kl']:.4f} | {r['knn']:.4f} | {bar} |")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="+", help="tsnebench dataset names")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--n-jobs", type=int, default=1)
    p.add_argument("--tsnebench", default=TSNEBENCH, help="path of tsnebench.py")
    p.add_argument("--json", default=None, help="also append the rows here, one JSON object a line")
    a = p.parse_args(argv)
    tb = load_tsnebench(a.tsnebench)
    print("| data | N | schedule | exaggeration iterations | total iterations | seconds | KL | kNN "
          "preservation | auto meets the bar |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for name in a.data:
        for r in run(tb, name, a.seed, a.n_jobs):
            print(row_text(r), flush=True)
            if a.json:
                with open(a.json, "a") as f:
                    f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    sys.exit(main())
