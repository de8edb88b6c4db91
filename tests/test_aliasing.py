"""A map owns what it needs: changing the caller's data or reusing a backend instance does not
change it, and an optimisation stopped by an exception leaves its fields true to its positions."""
import pickle

import numpy as np
import pytest

import fasttsne
from fasttsne.neighbors import Annoy, Exact, RPForest


def _data(d=6, n=150, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d))


def _transform(emb, X_new):
    return emb.transform(X_new, n_iter=10, random_state=0)


@pytest.mark.parametrize("neighbors, d", [("exact", 6), ("annoy", 250), ("rpforest", 250)])
def test_scaling_the_callers_array_in_place_leaves_the_map_unchanged(neighbors, d):
    X = _data(d)
    emb = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=5, neighbors=neighbors, perplexity=10,
                        random_state=0).fit(X)
    queries = X[:5].copy()
    before = _transform(emb, queries)
    X *= 30.0
    np.testing.assert_array_equal(_transform(emb, queries), before)


@pytest.mark.parametrize("backend", [Exact(), Annoy(random_state=0), RPForest(random_state=0)])
def test_a_second_fit_with_the_same_backend_instance_leaves_the_first_map_unchanged(backend):
    X, other = _data(seed=1), _data(seed=2)
    first = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=5, neighbors=backend, perplexity=10,
                          random_state=0).fit(X)
    before = _transform(first, X[:5])
    fasttsne.TSNE(n_iter=10, early_exaggeration_iter=5, neighbors=backend, perplexity=10,
                  random_state=0).fit(other[:100])
    np.testing.assert_array_equal(_transform(first, X[:5]), before)


def _optimize_in_place_until_a_callback_raises(obj):
    """``obj.optimize(inplace=True)`` stopped by a callback that raises, after the positions moved."""
    def fail(iteration, kl, positions):
        raise RuntimeError("stop here")

    start = np.asarray(obj).copy()
    with pytest.raises(RuntimeError, match="stop here"):
        obj.optimize(30, inplace=True, callbacks=fail, callbacks_every_iters=5)
    assert not np.array_equal(np.asarray(obj), start)  # the positions did move


def test_a_callback_that_raises_in_an_inplace_optimize_leaves_no_stale_kl():
    emb = fasttsne.TSNE(n_iter=20, early_exaggeration_iter=5, perplexity=10, random_state=0).fit(_data())
    assert emb.kl_divergence is not None
    _optimize_in_place_until_a_callback_raises(emb)
    assert emb.kl_divergence is None
    assert emb.n_iter == sum(p.n_iter for p in emb.phases_)


def test_a_callback_that_raises_in_an_inplace_partial_optimize_leaves_no_stale_kl():
    X = _data()
    emb = fasttsne.TSNE(n_iter=20, early_exaggeration_iter=5, perplexity=10, random_state=0).fit(X)
    partial = emb.prepare_partial(X[:4] + 0.1).optimize(5, inplace=False)
    assert partial.kl_divergence is not None
    _optimize_in_place_until_a_callback_raises(partial)
    assert partial.kl_divergence is None
    assert not np.asarray(partial).flags.writeable


def test_an_inplace_optimize_rebuilds_the_reference_repulsion_for_new_points():
    emb = fasttsne.TSNE(n_iter=20, early_exaggeration_iter=5, perplexity=10, random_state=0).fit(_data())
    X_new = _data(seed=3)[:4]
    _transform(emb, X_new)  # builds the cache for the current positions
    emb.optimize(20, inplace=True)
    fresh = pickle.loads(pickle.dumps(emb))  # no cache: built from the positions it has now
    np.testing.assert_array_equal(_transform(emb, X_new), _transform(fresh, X_new))

