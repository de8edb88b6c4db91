"""New points stop moving once they have settled (``Embedding.transform``'s ``SETTLED_STEP``)."""
import numpy as np
import pytest

import fasttsne
from fasttsne.optim import transform_schedule
from fasttsne.partial import SETTLE_EVERY, SETTLED_STEP


@pytest.fixture(scope="module")
def reference(digits):
    X, _ = digits
    return fasttsne.TSNE(random_state=0, n_jobs=1, n_iter=300).fit(X[:500]), X[500:600]


def _placed(emb, X_new, settled_step, n_iter=250):
    partial = emb.prepare_partial(X_new)
    partial._run(transform_schedule(n_iter=n_iter), settled_step=settled_step)
    return np.array(partial)


def test_no_point_settles_below_a_zero_step(reference):
    emb, X_new = reference
    np.testing.assert_array_equal(_placed(emb, X_new, 0.0), _placed(emb, X_new, None))


def test_a_point_settles_at_the_first_check_where_its_step_is_short(reference):
    # every step is shorter than 1e9: every point stops at the first check, where the run
    # without settling has made SETTLE_EVERY steps
    emb, X_new = reference
    np.testing.assert_array_equal(_placed(emb, X_new, 1e9), _placed(emb, X_new, None, n_iter=SETTLE_EVERY))


def test_transform_settles_points_close_to_where_the_full_schedule_puts_them(reference):
    emb, X_new = reference
    settled = emb.transform(X_new)
    full = _placed(emb, X_new, None)
    assert not np.array_equal(settled, full)  # some points did stop early
    moved = np.abs(settled - full).max(axis=1)
    # typically a few settling steps apart; a point the full schedule still nudges on its slow
    # way stays within a thousandth of the map
    assert np.median(moved) < 100 * SETTLED_STEP
    assert moved.max() < 1e-3 * np.ptp(np.asarray(emb), axis=0).max()


def test_a_batch_settles_exactly_as_its_points_one_by_one(reference):
    emb, X_new = reference
    batch = emb.transform(X_new[:6])
    single = np.vstack([emb.transform(X_new[i:i + 1]) for i in range(6)])
    np.testing.assert_array_equal(batch, single)


def test_settled_points_keep_the_kl_of_all_points(reference):
    # the KL reported at the end covers every point, settled or not
    emb, X_new = reference
    partial = emb.prepare_partial(X_new)
    partial._run(transform_schedule(), settled_step=SETTLED_STEP)
    again = fasttsne.partial.PartialEmbedding(np.array(partial), emb, partial.P).optimize(0)
    assert partial.kl_divergence == pytest.approx(again.kl_divergence, rel=1e-12)
