"""FFT-accelerated interpolation in 3-D: accuracy against the exact sums on a real 3-D layout
(the unsplit grid and the split kernel), convergence as the grid refines, the split's
short-range sum and far kernel against their definitions, determinism, the hand-over to
Barnes-Hut where no grid is affordable, the reference variant used by transform, and a fit
end to end."""

import numpy as np
import pytest
from scipy.spatial import cKDTree
from reference_checks import assert_box_padded, assert_survives_pickling

import fasttsne
from fasttsne.gradients import get_gradient, split3d
from fasttsne.gradients.bh import BarnesHut
from fasttsne.gradients.exact import ExactGradient
from fasttsne.gradients.split3d import NearCells, add_near_field, pair_checks, taylor_coefficients
from fasttsne._ext import _near3d
from fasttsne.gradients.fft import REFERENCE_PADDING, FFTInterpolation
from fasttsne.gradients.fft3d import MAX_NODES_3D, SPLIT_NODES_3D, Grid3, Plan
# the 2-D tests' helpers: the same definitions hold in 3-D
from test_fft import brute_force_reference, rel_errors, repulsion

# The 2-D path's F/Z errors at its defaults on the 2-D mnist2000 embedding (tests/test_fft.py):
# 0.0057 / 0.0046 / 0.0037 at dof 0.5 / 1 / 2; the 3-D path must do at least as well on the
# 3-D layout. Measured there at the defaults (the grid at its cap, spacing 0.23 on the widest
# axis), (F/Z, Z): dof 0.5 (0.0037, 2.1e-6), 1 (0.0037, 4.5e-5), 2 (0.0033, 1.8e-4).
REL_ERROR_2D_AT_DEFAULTS = {0.5: 0.0057, 1.0: 0.0046, 2.0: 0.0037}
# Z's error in 3-D, with room (2-D at dof 2: 4.8e-5; 3-D 1.8e-4)
Z_REL_ERROR = 5e-4
# a new point outside the padded box is summed exactly: only the order of additions differs
EXACT_RTOL = 1e-12
# reference variant at the defaults, new points inside the box: relative error of the
# per-point-normalised forces and largest relative error of a point's z (measured: ...)
REFERENCE_REL_ERROR = (0.008, 0.006)


@pytest.fixture(scope="module")
def Y3(mnist2000):
    """A real 3-D t-SNE layout of ``mnist2000`` (exact gradient), 20 iterations after early
    exaggeration: the map is expanding, about 20 units wide, on a grid at the defaults."""
    X, _ = mnist2000
    emb = fasttsne.TSNE(n_components=3, early_exaggeration_iter=100, n_iter=20,
                        negative_gradient_method="exact", neighbors="exact", random_state=0,
                        n_jobs=2).fit(X)
    return np.array(emb, dtype=np.float64, order="C")


@pytest.fixture(scope="module")
def Y3_half(Y3):
    """The layout halved (15 units wide): every unsplit grid of the refinement tests fits
    under the node cap."""
    return np.ascontiguousarray(Y3 / 2)


@pytest.fixture(scope="module")
def new_points(Y3_half):
    """Points near the reference, as transform places them: reference points plus jitter."""
    rng = np.random.default_rng(1)
    idx = rng.choice(len(Y3_half), 100, replace=False)
    return np.ascontiguousarray(Y3_half[idx] + rng.normal(0.0, 0.5, (100, 3)))


def test_three_dimensions_are_accepted_and_four_refused():
    assert isinstance(get_gradient("fft", n_samples=100, n_components=3), FFTInterpolation)
    with pytest.raises(ValueError, match="at most 3-D.*use 'exact'"):
        get_gradient("fft", n_samples=100, n_components=4)


def test_the_layout_is_on_a_split_grid_at_the_defaults(Y3):
    # the accuracy tests below test the split kernel, not the Barnes-Hut hand-over
    chosen = FFTInterpolation().plan(Y3)
    assert chosen.grid is not None and chosen.cutoff > 0


# ------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_defaults_are_as_accurate_as_the_2d_path(Y3, dof):
    force, z = rel_errors(Y3, dof)
    assert force <= REL_ERROR_2D_AT_DEFAULTS[dof]
    assert z <= Z_REL_ERROR


@pytest.mark.parametrize("dof", [0.5, 2.0])
def test_a_wide_map_is_as_accurate_as_the_2d_path(Y3, dof):
    # three times wider (90 units, as a whole run's map): the split at a wider cutoff
    force, z = rel_errors(np.ascontiguousarray(3 * Y3), dof)
    assert force <= REL_ERROR_2D_AT_DEFAULTS[dof]
    assert z <= Z_REL_ERROR


def unsplit_plan(Y, p, width):
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    return Plan(Grid3(lo, hi, p, 1, width), 0.0, 0.0)


def split_plan(Y, p, cutoff):
    lo, hi = Y.min(axis=0), Y.max(axis=0)
    return Plan(Grid3.uniform(lo, hi, p, cutoff), cutoff, 0.0)


def plan_errors(Y, chosen, dof=1.0):
    """rel_errors for one forced plan."""
    F = np.empty_like(Y)
    Z = FFTInterpolation()._call_3d(chosen, Y, dof, F, 2)
    Fe, Ze = repulsion(ExactGradient(), Y, dof)
    return np.linalg.norm(F / Z - Fe / Ze) / np.linalg.norm(Fe / Ze), abs(Z - Ze) / Ze


def test_unsplit_error_shrinks_as_the_boxes_narrow(Y3_half):
    # spacing 0.25, 0.2, 0.15
    errors = [plan_errors(Y3_half, unsplit_plan(Y3_half, 4, w)) for w in (1.0, 0.8, 0.6)]
    forces, zs = zip(*errors)
    assert forces[0] > forces[1] > forces[2]


def test_unsplit_error_shrinks_as_interpolation_points_grow(Y3_half):
    # the same box width: spacing 0.25, 0.17, 0.125
    errors = [plan_errors(Y3_half, unsplit_plan(Y3_half, p, 0.5)) for p in (2, 3, 4)]
    forces, zs = zip(*errors)
    assert forces[0] > forces[1] > forces[2]
    assert zs[0] > zs[1] > zs[2]


def test_identical_points_give_no_force_and_all_pairs_in_z():
    Y = np.full((300, 3), -2.0)
    F, Z = repulsion(FFTInterpolation(), Y)
    np.testing.assert_allclose(F, 0.0, atol=1e-9)
    # all pairs through the float32 grid: measured 2.9e-4 relative
    assert Z == pytest.approx(300 * 299, rel=Z_REL_ERROR)


def test_changing_dof_between_calls_uses_the_new_kernel(Y3):
    backend = FFTInterpolation()
    repulsion(backend, Y3, dof=1.0)
    F, Z = repulsion(backend, Y3, dof=2.0)
    F_fresh, Z_fresh = repulsion(FFTInterpolation(), Y3, dof=2.0)
    np.testing.assert_array_equal(F, F_fresh)
    assert Z == Z_fresh


# ------------------------------------------------------------------ grid size
def test_grid_covers_the_points_within_the_node_cap(Y3):
    for scale in (1.0, 100.0):
        grid = FFTInterpolation().grid(Y3 * scale)
        assert np.all(grid.bounds[:, 0] <= (Y3 * scale).min(axis=0))
        assert np.all(grid.bounds[:, 1] >= (Y3 * scale).max(axis=0))
        assert max(grid.nodes) <= MAX_NODES_3D


def test_a_small_compact_map_gets_a_grid_sized_by_the_map():
    # 500 points 2 units wide: boxes 0.8 wide, as many as the map spans, not a floor of boxes
    Y = np.random.default_rng(0).uniform(0.0, 2.0, (500, 3))
    assert max(FFTInterpolation().grid(Y).nodes) <= 16


@pytest.fixture(scope="module")
def stretched():
    """20,000 points in a 10-unit ball and one 10^6 units away: every grid under the node cap
    has boxes holding most of the map, so the short-range sum would be quadratic."""
    rng = np.random.default_rng(2)
    Y = rng.normal(0.0, 3.0, (20_001, 3))
    Y[0] = 1e6
    return Y


def test_a_map_stretched_past_any_affordable_grid_gets_barnes_hut(stretched):
    assert FFTInterpolation().grid(stretched) is None
    F, Z = repulsion(FFTInterpolation(), stretched)
    F_bh, Z_bh = repulsion(BarnesHut(), stretched)
    np.testing.assert_array_equal(F, F_bh)
    assert Z == Z_bh


# ------------------------------------------------------------------ the split kernel
def test_far_kernel_is_the_kernel_beyond_the_cutoff_and_smooth_across_it():
    dof, a = 0.7, 3.0
    r = np.arange(200) * 0.025  # offsets along one axis, 0 .. 5
    kw, k2 = np.empty((200, 1, 1)), np.empty((200, 1, 1))
    _near3d.far_kernel_octant(0.025, 1.0, 1.0, dof, a * a, taylor_coefficients(dof, a * a), kw, k2)
    base = 1.0 + r ** 2 / dof
    beyond = r >= a
    np.testing.assert_allclose(kw[beyond, 0, 0], base[beyond] ** -dof, rtol=1e-14)
    np.testing.assert_allclose(k2[beyond, 0, 0], base[beyond] ** (-dof - 1), rtol=1e-14)
    # inside: a polynomial in r^2 meeting the kernel at the cutoff with matching slope
    inside = kw[~beyond, 0, 0]
    assert inside[-1] == pytest.approx(base[~beyond][-1] ** -dof, rel=1e-6)
    assert np.diff(inside)[-1] == pytest.approx(np.diff(base[~beyond] ** -dof)[-1], rel=1e-3)


@pytest.mark.parametrize("cells_per_cutoff", [1, 2, 3, 5])
def test_short_range_sum_matches_its_definition(monkeypatch, cells_per_cutoff):
    # w - T and w^(1+1/dof) + T' summed over the pairs closer than the cutoff, by brute force,
    # whatever the width of the search's cells
    monkeypatch.setattr(split3d, "NEAR_CELLS_PER_CUTOFF", cells_per_cutoff)
    rng = np.random.default_rng(3)
    Y = np.ascontiguousarray(rng.uniform(0.0, 12.0, (400, 3)))
    dof, a = 1.5, 2.5
    grid = split_plan(Y, SPLIT_NODES_3D, a).grid
    out = np.zeros_like(Y)
    z = add_near_field(NearCells(len(Y), grid).sort(Y, grid), a, dof, out, np.empty(len(Y)), 2)
    diff = Y[:, None, :] - Y[None, :, :]
    u = (diff ** 2).sum(axis=2)
    near = (u < a * a) & ~np.eye(len(Y), dtype=bool)
    coef = taylor_coefficients(dof, a * a)
    t = np.polynomial.polynomial.polyval(u - a * a, coef)
    dt = np.polynomial.polynomial.polyval(u - a * a, np.polynomial.polynomial.polyder(coef))
    w = (1.0 + u / dof) ** -dof
    weight = np.where(near, w / (1.0 + u / dof) + dt, 0.0)
    np.testing.assert_allclose(out, (weight[:, :, None] * diff).sum(axis=1), rtol=1e-10, atol=1e-12)
    assert z == pytest.approx(np.where(near, w - t, 0.0).sum(), rel=1e-10)


def test_the_pair_search_checks_under_half_the_pairs_of_27_boxes():
    # cells a third of the cutoff, read only where the cutoff sphere reaches: at least every
    # pair within the cutoff, under half the candidates the 27 boxes around each point hold
    Y = np.ascontiguousarray(np.random.default_rng(4).uniform(0.0, 30.0, (3000, 3)))
    a = 3.0
    grid = split_plan(Y, SPLIT_NODES_3D, a).grid
    box = np.floor((Y - grid.lo) / grid.h).astype(int)
    counts = np.zeros(tuple(grid.n_int + 2))
    np.add.at(counts, tuple((box + 1).T), 1.0)
    around = sum(np.roll(counts, (dx, dy, dz), axis=(0, 1, 2))
                 for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1))
    in_27 = (counts * around).sum()
    within = cKDTree(Y).count_neighbors(cKDTree(Y), a)
    checks = pair_checks(Y, grid, a, 1)
    assert within <= checks < 0.5 * in_27


def test_split_error_shrinks_as_nodes_per_box_grow(Y3):
    # the same cutoff (one box): spacing 1.2, 0.96, 0.8
    errors = [plan_errors(Y3, split_plan(Y3, p, 4.8)) for p in (4, 5, 6)]
    forces, zs = zip(*errors)
    assert forces[0] > forces[1] > forces[2]


def test_split_result_does_not_depend_on_n_jobs(Y3):
    Y = np.ascontiguousarray(3 * Y3)
    assert FFTInterpolation().plan(Y).cutoff > 0
    F1, Z1 = repulsion(FFTInterpolation(), Y, n_jobs=1)
    F2, Z2 = repulsion(FFTInterpolation(), Y, n_jobs=2)
    np.testing.assert_array_equal(F1, F2)
    assert Z1 == Z2


# ------------------------------------------------------------------ determinism
def test_result_does_not_depend_on_n_jobs(Y3):
    F1, Z1 = repulsion(FFTInterpolation(), Y3, n_jobs=1)
    F2, Z2 = repulsion(FFTInterpolation(), Y3, n_jobs=2)
    np.testing.assert_array_equal(F1, F2)
    assert Z1 == Z2


def test_non_finite_positions_are_refused(Y3):
    Y = Y3.copy()
    Y[5, 2] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        repulsion(FFTInterpolation(), Y)


# ------------------------------------------------------------------ reference variant
# on the halved layout: the reference's padded box (Y3's is 36 units wide) fits the grid
def test_reference_matches_brute_force_inside_the_box(Y3_half, new_points):
    ref = FFTInterpolation().reference(Y3_half, 1.0)
    out, z = np.empty_like(new_points), np.empty(len(new_points))
    ref(new_points, out, z, 2)
    out_e, z_e = brute_force_reference(Y3_half, new_points, 1.0)
    force = np.linalg.norm(out / z[:, None] - out_e / z_e[:, None]) / np.linalg.norm(out_e / z_e[:, None])
    assert force < REFERENCE_REL_ERROR[0]
    assert np.max(np.abs(z - z_e) / z_e) < REFERENCE_REL_ERROR[1]


def test_reference_box_is_padded_around_the_reference(Y3_half):
    assert_box_padded(FFTInterpolation().reference(Y3_half, 1.0), Y3_half, REFERENCE_PADDING)


def test_reference_sums_points_outside_the_box_exactly(Y3_half):
    ref = FFTInterpolation().reference(Y3_half, 0.5)
    Y_new = np.array([[ref.bounds[0, 1] + 3.0, 0.0, 0.0], [0.0, 0.0, ref.bounds[2, 0] - 1e3]])
    out, z = np.empty_like(Y_new), np.empty(2)
    ref(Y_new, out, z, 2)
    out_e, z_e = brute_force_reference(Y3_half, Y_new, 0.5)
    assert np.all(np.linalg.norm(out - out_e, axis=1) <= EXACT_RTOL * np.linalg.norm(out_e, axis=1))
    np.testing.assert_allclose(z, z_e, rtol=EXACT_RTOL)


def test_reference_batch_equals_points_one_by_one(Y3_half, new_points):
    ref = FFTInterpolation().reference(Y3_half, 1.0)
    Y_new = np.concatenate([new_points[:15], [[1e3, 1e3, 1e3]]])
    out, z = np.empty_like(Y_new), np.empty(len(Y_new))
    ref(Y_new, out, z, 2)
    for m in range(len(Y_new)):
        one, z_one = np.empty((1, 3)), np.empty(1)
        ref(np.ascontiguousarray(Y_new[m:m + 1]), one, z_one, 1)
        np.testing.assert_array_equal(one[0], out[m])
        assert z_one[0] == z[m]


def test_split_reference_matches_brute_force_and_batch_equals_one_by_one(Y3, new_points):
    Y_ref, Y_new = np.ascontiguousarray(3 * Y3), np.ascontiguousarray(3 * new_points)
    ref = FFTInterpolation().reference(Y_ref, 1.0)
    assert ref._in_3d.cutoff > 0
    out, z = np.empty_like(Y_new), np.empty(len(Y_new))
    ref(Y_new, out, z, 2)
    out_e, z_e = brute_force_reference(Y_ref, Y_new, 1.0)
    force = np.linalg.norm(out / z[:, None] - out_e / z_e[:, None]) / np.linalg.norm(out_e / z_e[:, None])
    assert force < REFERENCE_REL_ERROR[0]
    assert np.max(np.abs(z - z_e) / z_e) < REFERENCE_REL_ERROR[1]
    for m in range(10):
        one, z_one = np.empty((1, 3)), np.empty(1)
        ref(np.ascontiguousarray(Y_new[m:m + 1]), one, z_one, 1)
        np.testing.assert_array_equal(one[0], out[m])
        assert z_one[0] == z[m]


def test_reference_of_a_stretched_map_is_barnes_huts(stretched, new_points):
    ref = FFTInterpolation().reference(stretched, 1.0)
    assert ref.bounds is None
    out, z = np.empty_like(new_points), np.empty(len(new_points))
    ref(new_points, out, z, 2)
    out_bh, z_bh = np.empty_like(new_points), np.empty(len(new_points))
    BarnesHut().reference(stretched, 1.0)(new_points, out_bh, z_bh, 2)
    np.testing.assert_array_equal(out, out_bh)
    np.testing.assert_array_equal(z, z_bh)


def test_reference_survives_pickling(Y3_half, new_points):
    ref = FFTInterpolation().reference(Y3_half, 2.0)
    assert_survives_pickling(ref, new_points)


# ------------------------------------------------------------------ end to end
def test_a_3d_fit_and_transform_with_fft_are_as_good_as_barnes_hut(digits):
    # the unsplit grid serves the compact map of early exaggeration, the split kernel the
    # expanding map after it
    X, _ = digits
    kls = {}
    for method in ("bh", "fft"):
        emb = fasttsne.TSNE(n_components=3, negative_gradient_method=method, neighbors="exact",
                            random_state=0, early_exaggeration_iter=50, n_iter=50, n_jobs=2).fit(X[:500])
        kls[method] = emb.kl_divergence
        Y_new = np.asarray(emb.transform(X[500:550]))
        assert Y_new.shape == (50, 3) and np.isfinite(Y_new).all()
    # the interpolated forces are the more accurate
    assert kls["fft"] < 1.01 * kls["bh"]
