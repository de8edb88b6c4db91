"""Saving is atomic: processes saving to one path at once all succeed, and a reader meanwhile
always finds one whole map, never a partial or mixed file."""
import os
import subprocess
import sys

import numpy as np

import fasttsne

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAVES = 15

WRITER = r"""
import sys
import fasttsne
emb = fasttsne.load(sys.argv[1])
for _ in range(int(sys.argv[3])):
    emb.save(sys.argv[2])
"""


def test_two_processes_saving_to_one_path_never_expose_a_partial_file(tmp_path):
    X = np.random.default_rng(2).normal(size=(300, 6))
    sources = []
    for seed in (0, 1):
        emb = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, random_state=seed).fit(X)
        sources.append(tmp_path / f"source{seed}.tsne")
        emb.save(sources[-1])
    expected = [np.asarray(fasttsne.load(p)) for p in sources]
    target = tmp_path / "shared.tsne"
    fasttsne.load(sources[0]).save(target)
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(src), str(target), str(SAVES)],
                                stderr=subprocess.PIPE, text=True, env=env) for src in sources]
    reads = 0
    while any(w.poll() is None for w in writers) or reads == 0:
        positions = np.asarray(fasttsne.load(target))  # raises on a partial file
        assert any(np.array_equal(positions, e) for e in expected)
        reads += 1
    for w in writers:
        assert w.wait(timeout=120) == 0, w.stderr.read()[-2000:]
    assert sorted(os.listdir(tmp_path)) == ["shared.tsne", "source0.tsne", "source1.tsne"]
