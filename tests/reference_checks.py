"""Checks shared by the tests of every reference repulsion (``gradient.reference(Y_ref, dof)``)."""
import pickle

import numpy as np


def assert_survives_pickling(ref, new_points):
    """A pickled-and-restored reference gives bitwise the forces and normalisations of the
    original on ``new_points`` (M, d)."""
    clone = pickle.loads(pickle.dumps(ref))
    results = []
    for r in (ref, clone):
        out, z = np.empty_like(new_points), np.empty(len(new_points))
        r(new_points, out, z, 2)
        results.append((out, z))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


def assert_box_padded(ref, Y_ref, padding):
    """The grid of ``ref`` (a reference built on ``Y_ref``) is built for the reference's box
    widened on each side by ``padding`` times half its extent (openTSNE's meaning), and covers it."""
    lo, hi = Y_ref.min(axis=0), Y_ref.max(axis=0)
    margin = padding * (hi - lo) / 2
    np.testing.assert_allclose(ref.box, np.stack([lo - margin, hi + margin], axis=1))
    assert np.all(ref.bounds[:, 0] <= lo - margin)
    assert np.all(ref.bounds[:, 1] >= hi + margin)
