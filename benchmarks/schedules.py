"""KL against CPU time for optimisation schedules: which one reaches a given KL soonest.

Every schedule starts from the same initial map (default PCA initialisation, default P) and
runs its early exaggeration, its annealing (if any) and its main phase; at each checkpoint
(``--at``, total iterations) the map is scored as the side-by-side benchmark
(``../shared/bench/tsnebench.py``) scores it: KL with one common P (perplexity 30 on the exact
90-NN graph; Z exact up to 20,000 points, sampled beyond) and kNN preservation. The CPU
seconds are the optimisation's alone (``time.process_time``, scoring excluded); "own KL" is
fasttsne's KL of its own P at that point (free: the descent computes it).

A schedule is a name made of tokens joined by ``-`` (none: ``classic``), each changing one
setting of the classic schedule, the one ``TSNE.fit`` ran by default until issue 23 (250
iterations at exaggeration 12, then 500 without; momentum 0.8 throughout; learning rate N /
exaggeration; ``default`` is another name for it):

- ``eeN``: N early-exaggeration iterations (250);
- ``xF``: early exaggeration F (default 12);
- ``emF``: momentum F during early exaggeration (0.8);
- ``aN`` / ``aNlin`` / ``aNgeo``: after early exaggeration, lower the exaggeration to 1 over N
  iterations, in equal (``lin``, the default) or geometric (``geo``) steps of ``--anneal-step``
  iterations (Kobak & Berens 2019 anneal it), the learning rate following it ("auto": N /
  exaggeration); ``aNlib``: the library's annealing (``optimize(anneal_from=, anneal_iter=)``:
  geometric steps every iteration, the main phase's learning rate);
- ``afix``: during annealing keep the main phase's learning rate instead;
- ``mF``: main-phase momentum F (0.8);
- ``lrF``: main-phase learning rate F x N ("auto" is 1 x N);
- ``tsne``: alone, ``TSNE(...).fit`` itself with its present defaults (the same start and P,
  scored through a callback), to check that the library runs what the tokens describe.

The annealing iterations count toward the total, so every schedule is read at the same
iteration counts. ``--grids 4x0.8,4x1`` runs each schedule with the FFT gradient on each grid
(nodes per interval x interval width, embedding units) instead of the automatic gradient;
``--late-grid 3x1`` switches to that grid after the first checkpoint.

Usage (from the project root)::

    PYTHONPATH=. python benchmarks/schedules.py --data digits
    PYTHONPATH=. python benchmarks/schedules.py --data mnist --schedules classic,tsne,ee150-a100lib \\
        --at 600,650,700,750
"""
import argparse
import dataclasses
import hashlib
import os
import re
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "shared", "bench"))

#: ``TSNE``'s present defaults (for the ``tsne`` schedule).
from fasttsne._params import TSNE_PARAMS  # noqa: E402


@dataclasses.dataclass
class Schedule:
    """Settings of one schedule, the classic one unless changed (see the module docstring for the tokens)."""

    ee: int = 250
    factor: float = 12.0
    ee_momentum: float = 0.8
    anneal: int = 0
    shape: str = "lin"
    anneal_rate_fixed: bool = False
    momentum: float = 0.8
    rate: float = 1.0

    def segments(self, n_samples, step):
        """(iterations, exaggeration, momentum, learning rate, annealed from) of each stretch, in order."""
        out = [(self.ee, self.factor, self.ee_momentum, max(n_samples / self.factor, 1.0), None)]
        main_rate = self.rate * n_samples
        if self.anneal and self.shape == "lib":
            out.append((self.anneal, 1.0, self.momentum, main_rate, self.factor))
        elif self.anneal:
            steps = -(-self.anneal // step)
            levels = (np.linspace(self.factor, 1.0, steps + 1) if self.shape == "lin"
                      else np.geomspace(self.factor, 1.0, steps + 1))[1:]
            for i, level in enumerate(levels):
                n = min(step, self.anneal - i * step)
                rate = main_rate if self.anneal_rate_fixed else max(n_samples / level, 1.0)
                out.append((n, float(level), self.momentum, rate, None))
        out.append((None, 1.0, self.momentum, main_rate, None))  # the main phase: to the last checkpoint
        return out


_TOKENS = [
    (r"ee(\d+)", lambda s, m: setattr(s, "ee", int(m[1]))),
    (r"x([\d.]+)", lambda s, m: setattr(s, "factor", float(m[1]))),
    (r"em([\d.]+)", lambda s, m: setattr(s, "ee_momentum", float(m[1]))),
    (r"a(\d+)(lin|geo|lib)?", lambda s, m: (setattr(s, "anneal", int(m[1])), setattr(s, "shape", m[2] or "lin"))),
    (r"afix", lambda s, m: setattr(s, "anneal_rate_fixed", True)),
    (r"m([\d.]+)", lambda s, m: setattr(s, "momentum", float(m[1]))),
    (r"lr([\d.]+)", lambda s, m: setattr(s, "rate", float(m[1]))),
]


def parse(name):
    """The :class:`Schedule` a name describes."""
    schedule = Schedule()
    if name in ("classic", "default"):
        return schedule
    for token in name.split("-"):
        for pattern, apply in _TOKENS:
            match = re.fullmatch(pattern, token)
            if match:
                apply(schedule, match)
                break
        else:
            raise SystemExit(f"schedules.py: unknown token {token!r} in {name!r}")
    return schedule


def _grid(text):
    """'4x0.8' -> the FFT gradient's keyword arguments for that grid."""
    nodes, width = text.split("x")
    return dict(negative_gradient_method="fft", n_interpolation_points=int(nodes), ints_in_interval=float(width))


def run(schedule, start, at, n_jobs, score, gradient, late=None, step=10):
    """Yield (iterations, CPU seconds, own KL, scores) at each checkpoint of ``at``.

    ``gradient``: keyword arguments of the first ``optimize`` (the gradient and its grid), kept
    by the map for the later ones; ``late``: those from the first checkpoint on, if any.
    """
    n = start.positions.shape[0]
    embedding = start.optimize(0, n_jobs=n_jobs, **gradient)  # a copy, on this gradient
    seconds, done, extra = 0.0, 0, {}
    pending = list(at)
    for length, factor, momentum, rate, anneal_from in schedule.segments(n, step):
        left = pending[-1] - done if length is None else length
        while left > 0 and pending:
            chunk = min(left, pending[0] - done)
            if anneal_from is not None and chunk < length:
                raise SystemExit("schedules.py: a checkpoint falls inside the library's annealing")
            anneal = {} if anneal_from is None else dict(anneal_from=anneal_from, anneal_iter=length)
            t0 = time.process_time()
            embedding.optimize(chunk, exaggeration=factor, momentum=momentum, learning_rate=rate, n_jobs=n_jobs,
                               inplace=True, **anneal, **extra)
            seconds += time.process_time() - t0
            done += chunk
            left -= chunk
            if done == pending[0]:
                pending.pop(0)
                extra = late or {}
                yield done, seconds, embedding.kl_divergence, score(np.asarray(embedding))
        if not pending:
            return


def run_tsne(start, at, n_jobs, score):
    """As :func:`run` for ``TSNE(...).fit`` with its defaults, scored through a callback."""
    import fasttsne
    ee = TSNE_PARAMS["early_exaggeration_iter"].default
    rows, spent = [], [0.0]

    def checkpoint(iteration, kl, positions):
        if iteration in at:
            t0 = time.process_time()
            rows.append((iteration, kl, score(positions)))
            spent[0] += time.process_time() - t0

    t0 = time.process_time()
    fasttsne.TSNE(n_iter=max(at) - ee, n_jobs=n_jobs, callbacks=checkpoint, callbacks_every_iters=10).fit(
        affinities=start.affinities, initialization=np.asarray(start))
    total = time.process_time() - t0 - spent[0]
    # the callbacks' own share of the time is not split per checkpoint: the total is exact at the last one
    for iteration, kl, scores in rows:
        yield iteration, total * iteration / max(at), kl, scores


def common_p(tb, X, name):
    """tsnebench's common P, cached beside its neighbour cache (the 70k one takes a while)."""
    import scipy.sparse as sp
    path = tb.cache_path(X, "commonP30").replace(".npy", ".npz")
    if os.path.exists(path):
        return sp.load_npz(path).tocoo()
    P = tb.common_P(X)
    sp.save_npz(path, P.tocsr())
    return P


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="digits")
    ap.add_argument("--schedules", default="classic,tsne,a100lib,ee150-a100lib")
    ap.add_argument("--at", default="500,600,750,850,1000", help="total iterations at which to score")
    ap.add_argument("--anneal-step", type=int, default=10, help="iterations per exaggeration level")
    ap.add_argument("--grids", default=None, help="FFT grids, e.g. 4x0.8,4x1 (default: the automatic gradient)")
    ap.add_argument("--late-grid", default=None, help="FFT grid after the first checkpoint, e.g. 3x1")
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)

    import fasttsne
    import tsnebench as tb

    X, _ = tb.load_dataset(a.data)
    P = common_p(tb, X, a.data)
    at = [int(v) for v in a.at.split(",")]
    start = fasttsne.TSNE(n_jobs=a.n_jobs, random_state=a.seed).prepare_initial(X)

    def score(Y):
        return tb.kl_divergence(P, Y), tb.knn_preservation(X, Y)

    digest = hashlib.sha1(np.ascontiguousarray(start.positions).tobytes()).hexdigest()[:8]
    print(f"# {a.data}: {X.shape[0]} x {X.shape[1]}, n_jobs={a.n_jobs}, seed {a.seed} (start {digest}), "
          f"anneal step {a.anneal_step}; CPU seconds of the optimisation (scoring excluded); KL with the common P")
    gradients = {"auto": {}}
    if a.grids:
        gradients = {g: _grid(g) for g in a.grids.split(",")}
    late = _grid(a.late_grid) if a.late_grid else None
    print(f"{'schedule':<22} {'gradient':>8} {'iterations':>10} {'cpu s':>8} {'own kl':>8} {'kl':>8} {'knn':>8}",
          flush=True)
    for name in a.schedules.split(","):
        for label, gradient in gradients.items():
            if name == "tsne":
                rows = run_tsne(start, at, a.n_jobs, score)
            else:
                rows = run(parse(name), start, at, a.n_jobs, score, gradient, late, a.anneal_step)
            for done, seconds, own, (kl, knn) in rows:
                print(f"{name:<22} {label:>8} {done:>10} {seconds:8.1f} {own:8.4f} {kl:8.4f} {knn:8.4f}", flush=True)


if __name__ == "__main__":
    main()
