"""Damaged map files: random byte flips and truncations of a saved map either load to the
very same map or raise ValueError; none crashes, hangs or loads something else.

The variants are generated and loaded in one child process (a crash or a hang fails the test,
not the suite), seeded so a failure can be replayed.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fasttsne

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
N_VARIANTS = 300

CHILD = r"""
import io, json, sys
import numpy as np
import fasttsne
path, seed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
original = open(path, "rb").read()
reference = np.asarray(fasttsne.load(path))
rng = np.random.default_rng(seed)
outcomes = {"loaded": 0, "ValueError": 0}
unexpected = []
for i in range(n):
    data = bytearray(original)
    if rng.random() < 0.3:
        data = data[:int(rng.integers(0, len(data)))]
    else:
        for _ in range(int(rng.integers(1, 5))):
            data[int(rng.integers(len(data)))] ^= int(rng.integers(1, 256))
    try:
        e = fasttsne.load(io.BytesIO(bytes(data)))
    except ValueError:
        outcomes["ValueError"] += 1
        continue
    except Exception as err:
        unexpected.append(f"variant {i}: {type(err).__name__}: {err}"[:300])
        continue
    if not np.array_equal(np.asarray(e), reference):
        unexpected.append(f"variant {i}: loaded different positions")
        continue
    e.transform(np.zeros((2, e.n_features)), n_iter=3)
    outcomes["loaded"] += 1
print(json.dumps({"outcomes": outcomes, "unexpected": unexpected}))
"""


@pytest.fixture(scope="module")
def saved_map(tmp_path_factory):
    X = np.random.default_rng(1).normal(size=(40, 4))
    emb = fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, neighbors="annoy", perplexity=5,
                        random_state=0).fit(X)
    path = tmp_path_factory.mktemp("fuzz") / "map.tsne"
    emb.save(path)
    return path


def test_flipped_and_truncated_files_load_identically_or_raise_value_error(saved_map):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        run = subprocess.run([sys.executable, "-c", CHILD, str(saved_map), "20261207", str(N_VARIANTS)],
                             capture_output=True, text=True, timeout=240, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("loading the damaged variants hung")
    assert run.returncode == 0, f"the loader's process died (status {run.returncode}): {run.stderr[-2000:]}"
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["unexpected"] == []
    assert sum(report["outcomes"].values()) == N_VARIANTS
