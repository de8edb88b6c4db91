"""The 2-D FFT grid chosen per call (fasttsne.gradients.plan2d): the coarse grid with the exact
near field on sparse maps, the parameters' grid on compact ones and whenever the user asked for a
finer grid; accuracy, determinism and transform's grid."""
import os

import numpy as np
import pytest

from fasttsne._ext import _fft
from fasttsne.gradients import plan2d
from fasttsne.gradients.exact import ExactGradient
from fasttsne.gradients.fft import FFTInterpolation

MAP = os.path.join(os.path.dirname(__file__), "data", "mnist_test_map.npy")


@pytest.fixture(scope="module")
def sparse():
    """The final layout of a default fit of MNIST's 10,000 test digits (178 x 159 units)."""
    return np.ascontiguousarray(np.load(MAP), dtype=np.float64)


@pytest.fixture(scope="module")
def compact():
    """10,000 points in ten tight clusters (radius ~1) spread over 100 x 100 units, as under
    early exaggeration: wide enough for the choice, with thousands of points per box."""
    rng = np.random.default_rng(0)
    centres = rng.uniform(0.0, 100.0, (10, 2))
    return np.ascontiguousarray(centres[rng.integers(0, 10, 10_000)] + rng.normal(0.0, 0.5, (10_000, 2)))


def repulsion(backend, Y, n_jobs=2):
    out = np.empty_like(Y)
    Z = backend(Y, 1.0, out, n_jobs)
    return out, Z


def force_error(backend, Y):
    """||F/Z - exact|| / ||exact|| on positions ``Y``."""
    F, Z = repulsion(backend, Y)
    Fe, Ze = repulsion(ExactGradient(), Y)
    return np.linalg.norm(F / Z - Fe / Ze) / np.linalg.norm(Fe / Ze)


# ------------------------------------------------------------------ the cost model
def test_near_field_work_counts_the_pairs_in_neighbouring_boxes():
    rng = np.random.default_rng(3)
    Y = np.ascontiguousarray(rng.uniform(0.0, 7.0, (300, 2)))
    lo, h, n_int = np.zeros(2), np.ones(2), np.array([7, 7], dtype=np.intp)
    box = np.minimum(np.floor(Y / h).astype(int), 6)
    for radius in (0, 1, 2):
        near = np.all(np.abs(box[:, None, :] - box[None, :, :]) <= radius, axis=2)
        pairs, occupied = _fft.near_field_work(Y, lo, h, n_int, radius)
        assert pairs == near.sum()
        assert occupied == len({tuple(b) for b in box})


def test_coarse_grid_is_chosen_on_a_sparse_layout(sparse):
    choice = FFTInterpolation().choice(sparse)
    assert choice.coarse
    assert (choice.grid.p, choice.grid.radius) == (plan2d.COARSE_NODES, plan2d.COARSE_RADIUS)
    assert choice.costs["coarse"] < choice.costs["fine"]


def test_fine_grid_is_kept_on_a_compact_layout(compact):
    choice = FFTInterpolation().choice(compact)
    assert choice.costs is not None  # priced, and the model said no
    assert not choice.coarse
    assert (choice.grid.p, choice.grid.radius) == (4, -1)


def test_coarse_grid_is_refused_where_its_near_field_is_dense_even_if_cheaper(sparse):
    # the same digits, denser (as some iterations earlier): the coarse grid would cost less, but
    # with this many near pairs per point its F/Z error exceeds the fine grid's (measured
    # 3.5e-3 against 2.8e-3)
    choice = FFTInterpolation().choice(sparse * 0.45)
    assert choice.costs["coarse"] < choice.costs["fine"]
    assert choice.pairs_per_point > plan2d.MAX_NEAR_PAIRS_PER_POINT
    assert not choice.coarse


def test_the_choice_follows_the_map_between_calls(sparse, compact):
    # sparse -> compact -> sparse on one backend equals fresh backends (the caches follow the grid)
    backend = FFTInterpolation()
    results = [repulsion(backend, Y) for Y in (sparse, compact, sparse)]
    for (F, Z), Y in zip(results, (sparse, compact, sparse)):
        F_fresh, Z_fresh = repulsion(FFTInterpolation(), Y)
        np.testing.assert_array_equal(F, F_fresh)
        assert Z == Z_fresh


# ------------------------------------------------------------------ what the user pins
@pytest.mark.parametrize("params", [dict(n_interpolation_points=5), dict(ints_in_interval=0.6),
                                    dict(coarse_grid=False)])
def test_a_finer_grid_or_coarse_grid_false_is_used_for_every_call(sparse, params):
    backend = FFTInterpolation(**params)
    choice = backend.choice(sparse)
    assert choice.costs is None and not choice.coarse
    assert choice.grid.p == backend.n_interpolation_points and choice.grid.radius == -1


def test_1d_maps_keep_the_parameters_grid(sparse):
    choice = FFTInterpolation().choice(np.ascontiguousarray(sparse[:, :1]))
    assert choice.costs is None and choice.grid.p == 4


def test_coarse_grid_must_be_a_bool():
    with pytest.raises(ValueError, match="coarse_grid must be True or False"):
        FFTInterpolation(coarse_grid="yes")


def test_transform_reference_uses_the_parameters_grid(sparse):
    ref = FFTInterpolation().reference(sparse, 1.0)
    assert ref._grid.p == 4 and ref._radius == -1


# ------------------------------------------------------------------ accuracy and determinism
def test_chosen_grid_is_at_least_as_accurate_as_the_fine_grid_on_a_real_layout(sparse):
    # measured F/Z errors on this layout: coarse grid 3.4e-3, fine grid 4.7e-3
    chosen = force_error(FFTInterpolation(), sparse)
    fine = force_error(FFTInterpolation(coarse_grid=False), sparse)
    assert chosen <= fine


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_coarse_grid_result_does_not_depend_on_n_jobs(sparse, n_jobs):
    F2, Z2 = repulsion(FFTInterpolation(), sparse, n_jobs=2)
    F, Z = repulsion(FFTInterpolation(), sparse, n_jobs=n_jobs)
    np.testing.assert_array_equal(F, F2)
    assert Z == Z2
