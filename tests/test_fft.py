"""FFT-accelerated interpolation repulsion: accuracy against the exact sums, convergence,
determinism, robustness, and the reference variant used by transform."""
import pickle

import numpy as np
import pytest
from reference_checks import assert_box_padded, assert_survives_pickling
import scipy.fft

import fasttsne
from fasttsne.gradients import get_gradient
from fasttsne.gradients.exact import ExactGradient
from fasttsne.gradients.fft import NEAR_FIELD_RADIUS, REFERENCE_PADDING, FFTInterpolation, _even_spectrum

# Measured on the mnist2000 embedding at the defaults (4 nodes, >= 50 intervals, boxes at
# most 0.8 wide, so no exact near field), relative errors of F/Z and of Z by dimension and dof:
#   2-D: dof 0.5 (0.0057, 7.6e-7), 1 (0.0046, 1.4e-5), 2 (0.0037, 4.8e-5)
#   1-D: dof 0.5 (0.0084, 5.0e-6), 1 (0.0048, 7.5e-6), 2 (0.0032, 6.8e-6)
# (boxes 0.6 wide, 2-D dof 1: 0.0014 and 4.1e-6; the paper's 3 nodes on boxes 1 wide with a
# near field of radius 2: 0.0031 and 1.8e-5; openTSNE at its defaults: 0.039 and 0.0070).
# The bounds leave room.
REL_ERROR_AT_DEFAULTS = {1: (0.012, 1e-4), 2: (0.008, 1e-4)}
# float32 FFTs move F/Z by ~1.7e-5 relative to float64 ones on this embedding (no exact near
# field at the default box width: every pair goes through the float32 grid)
FLOAT32_VS_FLOAT64 = 5e-5
# a new point outside the padded box is summed exactly: only the order of additions differs
EXACT_RTOL = 1e-12
# reference variant at the defaults, new points inside the box: relative error of the
# per-point-normalised forces, and largest relative error of a point's z; measured maxima
# over dof in {0.5, 1, 2}: 2-D (0.0050, 0.0041), 1-D (0.0067, 0.0012) (boxes 0.6 wide:
# 2-D (0.0033, 0.0022), 1-D (0.0086, 0.0007))
REFERENCE_REL_ERROR = {1: (0.012, 0.003), 2: (0.008, 0.006)}


def repulsion(backend, Y, dof=1.0, n_jobs=2):
    out = np.empty_like(Y)
    Z = backend(Y, dof, out, n_jobs)
    return out, Z


def rel_errors(Y, dof=1.0, **params):
    """(||F/Z error|| / ||F/Z||, |Z error| / Z) of the FFT backend against the exact sums."""
    F, Z = repulsion(FFTInterpolation(**params), Y, dof)
    Fe, Ze = repulsion(ExactGradient(), Y, dof)
    return np.linalg.norm(F / Z - Fe / Ze) / np.linalg.norm(Fe / Ze), abs(Z - Ze) / Ze


def brute_force_reference(Y_ref, Y_new, dof):
    """The definition, point by point: sums over the reference of w and w^(1+1/dof) (y - y_j)."""
    out = np.empty_like(Y_new)
    z = np.empty(len(Y_new))
    for m, y in enumerate(Y_new):
        diff = y - Y_ref
        base = 1.0 + (diff ** 2).sum(axis=1) / dof
        w = base ** -dof
        z[m] = w.sum()
        out[m] = ((w / base)[:, None] * diff).sum(axis=0)
    return out, z


@pytest.fixture(scope="module")
def Y2(mnist2000_embedding):
    return np.array(mnist2000_embedding, dtype=np.float64, order="C")


@pytest.fixture(scope="module")
def Y1(Y2):
    """A 1-D layout with the real embedding's density: its first axis."""
    return np.ascontiguousarray(Y2[:, :1])


@pytest.fixture(scope="module")
def new_points(Y2):
    """Points near the reference, as transform places them: reference points plus jitter."""
    rng = np.random.default_rng(1)
    idx = rng.choice(len(Y2), 200, replace=False)
    return np.ascontiguousarray(Y2[idx] + rng.normal(0.0, 1.0, (200, 2)))


# ------------------------------------------------------------------ registry and parameters
@pytest.mark.parametrize("name", ["fft", "interpolation", "FFT"])
def test_registered_under_its_name_and_aliases(name):
    assert isinstance(get_gradient(name, n_samples=100, n_components=2), FFTInterpolation)


def test_tsne_parameters_reach_the_backend():
    backend = get_gradient("fft", n_samples=100, n_components=2, n_interpolation_points=4,
                           min_num_intervals=20, ints_in_interval=2.0)
    assert (backend.n_interpolation_points, backend.min_num_intervals, backend.ints_in_interval) \
        == (4, 20, 2.0)
    assert backend.near_field_radius == NEAR_FIELD_RADIUS


@pytest.mark.parametrize("params, match", [
    (dict(n_interpolation_points=0), "n_interpolation_points must be an integer in"),
    (dict(n_interpolation_points=2.5), "n_interpolation_points must be an integer in"),
    (dict(n_interpolation_points=17), "n_interpolation_points must be an integer in"),
    (dict(min_num_intervals=0), "min_num_intervals must be an integer >= 1"),
    (dict(ints_in_interval=0), "ints_in_interval must be a positive number"),
    (dict(ints_in_interval=float("inf")), "ints_in_interval must be a positive number"),
    (dict(near_field_radius=-1), "near_field_radius must be an integer >= 0"),
])
def test_invalid_parameters_are_refused(params, match):
    with pytest.raises(ValueError, match=match):
        FFTInterpolation(**params)


def test_non_finite_positions_are_refused(Y2):
    Y = Y2.copy()
    Y[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        repulsion(FFTInterpolation(), Y)


# ------------------------------------------------------------------ the grid
def test_grid_covers_the_points_with_at_least_the_required_intervals(Y2):
    backend = FFTInterpolation(min_num_intervals=50, ints_in_interval=1)
    grid = backend.grid(Y2)
    span = np.ptp(Y2, axis=0)
    assert np.all(grid.bounds[:, 0] <= Y2.min(axis=0)) and np.all(grid.bounds[:, 1] >= Y2.max(axis=0))
    assert np.all(grid.n_int >= np.maximum(50, np.ceil(span)))
    assert np.all(grid.h <= 1.0)


def test_kernel_spectrum_from_the_quadrant_equals_the_fft_of_the_full_even_kernel():
    rng = np.random.default_rng(0)
    L1, L2 = 12, 10
    quadrant = rng.random((L1 // 2 + 1, L2 // 2 + 1))
    a = np.minimum(np.arange(L1), L1 - np.arange(L1))
    b = np.minimum(np.arange(L2), L2 - np.arange(L2))
    full = quadrant[a[:, None], b[None, :]]
    np.testing.assert_allclose(_even_spectrum(quadrant, (L1, L2), np.float64, 1),
                               scipy.fft.rfft2(full).real, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ accuracy
@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_defaults_are_accurate_on_a_real_2d_embedding(Y2, dof):
    force, z = rel_errors(Y2, dof)
    assert force < REL_ERROR_AT_DEFAULTS[2][0]
    assert z < REL_ERROR_AT_DEFAULTS[2][1]


@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_defaults_are_accurate_in_1d(Y1, dof):
    force, z = rel_errors(Y1, dof)
    assert force < REL_ERROR_AT_DEFAULTS[1][0]
    assert z < REL_ERROR_AT_DEFAULTS[1][1]


def test_error_shrinks_as_intervals_grow(Y2):
    # boxes 0.8 (the default), 0.6 and 0.4 wide: all without the exact near field (and the
    # parameters' grid for every call)
    errors = [rel_errors(Y2, ints_in_interval=w, min_num_intervals=1, coarse_grid=False)
              for w in (0.8, 0.6, 0.4)]
    forces, zs = zip(*errors)
    assert forces[0] > forces[1] > forces[2]
    assert zs[0] > zs[1] > zs[2]


def test_error_shrinks_as_interpolation_points_grow(Y2):
    # boxes 0.3 wide: every spacing below NEAR_FIELD_MIN_SPACING, so no exact near field
    errors = [rel_errors(Y2, n_interpolation_points=p, ints_in_interval=0.3) for p in (2, 3, 4, 5)]
    forces, zs = zip(*errors)
    assert all(a > b for a, b in zip(forces, forces[1:]))
    assert all(a > b for a, b in zip(zs, zs[1:]))


def test_error_shrinks_as_the_near_field_grows(Y2):
    # the near field applies to nodes more than NEAR_FIELD_MIN_SPACING apart only: the paper's grid
    errors = [rel_errors(Y2, n_interpolation_points=3, ints_in_interval=1.0, near_field_radius=r)
              for r in (0, 1, 2, 3)]
    forces, zs = zip(*errors)
    assert all(a > b for a, b in zip(forces, forces[1:]))
    assert all(a > b for a, b in zip(zs, zs[1:]))


def test_a_slightly_expanded_embedding_reuses_the_cached_kernels(Y2):
    backend = FFTInterpolation()
    repulsion(backend, Y2)
    kernels = backend._kernels
    F, Z = repulsion(backend, Y2 * 1.001)
    assert backend._kernels is kernels
    F_fresh, Z_fresh = repulsion(FFTInterpolation(), Y2 * 1.001)
    np.testing.assert_array_equal(F, F_fresh)


def test_float32_ffts_agree_with_float64_ffts(Y2):
    backend = FFTInterpolation()
    F32, Z32 = repulsion(backend, Y2)
    backend.fft_dtype = np.float64
    F64, Z64 = repulsion(backend, Y2)
    assert np.linalg.norm(F32 / Z32 - F64 / Z64) / np.linalg.norm(F64 / Z64) < FLOAT32_VS_FLOAT64


def test_changing_dof_between_calls_uses_the_new_kernel(Y2):
    backend = FFTInterpolation()
    repulsion(backend, Y2, dof=1.0)
    F, Z = repulsion(backend, Y2, dof=2.0)
    F_fresh, Z_fresh = repulsion(FFTInterpolation(), Y2, dof=2.0)
    np.testing.assert_array_equal(F, F_fresh)
    assert Z == Z_fresh


# ------------------------------------------------------------------ determinism
@pytest.mark.parametrize("d", [1, 2])
def test_result_does_not_depend_on_n_jobs(Y2, d):
    Y = np.ascontiguousarray(Y2[:, :d])
    F1, Z1 = repulsion(FFTInterpolation(), Y, n_jobs=1)
    F2, Z2 = repulsion(FFTInterpolation(), Y, n_jobs=2)
    np.testing.assert_array_equal(F1, F2)
    assert Z1 == Z2


# ------------------------------------------------------------------ robustness
def test_far_outlier_gives_finite_output(Y2):
    Y = Y2.copy()
    Y[0] = [1e6, -1e6]
    F, Z = repulsion(FFTInterpolation(), Y)
    assert np.isfinite(F).all() and np.isfinite(Z) and Z > 0


def test_identical_points_give_no_force_and_all_pairs_in_z():
    Y = np.full((500, 2), 3.0)
    F, Z = repulsion(FFTInterpolation(), Y)
    np.testing.assert_allclose(F, 0.0, atol=1e-9)
    # all pairs through the float32 grid: measured 4.6e-5 relative
    assert Z == pytest.approx(500 * 499, rel=2e-4)


def test_duplicated_points_in_an_embedding_stay_accurate(Y2):
    Y = np.ascontiguousarray(np.concatenate([Y2, Y2[:500]]))
    force, z = rel_errors(Y)  # measured 0.0031 and 1.8e-5
    assert force < REL_ERROR_AT_DEFAULTS[2][0]
    assert z < REL_ERROR_AT_DEFAULTS[2][1]


# ------------------------------------------------------------------ end to end
def test_tsne_kl_matches_the_exact_gradient_on_digits(digits):
    # a shortened schedule keeps the exact run affordable; measured KL 0.7782 (fft) vs 0.7757
    # (exact); the paper's method without the near-field correction gives 0.8102 (+4.4%)
    X, _ = digits
    kls = {}
    for method in ("exact", "fft"):
        emb = fasttsne.TSNE(negative_gradient_method=method, neighbors="exact", random_state=0,
                            early_exaggeration_iter=100, n_iter=200, n_jobs=2).fit(X)
        kls[method] = emb.kl_divergence
    assert abs(kls["fft"] - kls["exact"]) < 0.01 * kls["exact"]


# ------------------------------------------------------------------ reference variant
def reference_errors(Y_ref, Y_new, dof):
    """(relative error of out/z over the batch, largest relative error of a point's z)."""
    ref = FFTInterpolation().reference(Y_ref, dof)
    out, z = np.empty_like(Y_new), np.empty(len(Y_new))
    ref(Y_new, out, z, 2)
    out_e, z_e = brute_force_reference(Y_ref, Y_new, dof)
    force = np.linalg.norm(out / z[:, None] - out_e / z_e[:, None]) / np.linalg.norm(out_e / z_e[:, None])
    return force, np.max(np.abs(z - z_e) / z_e)


@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_reference_matches_brute_force_inside_the_box(Y2, new_points, dof):
    force, z = reference_errors(Y2, new_points, dof)
    assert force < REFERENCE_REL_ERROR[2][0]
    assert z < REFERENCE_REL_ERROR[2][1]


def test_reference_in_1d_matches_brute_force(Y1, new_points):
    force, z = reference_errors(Y1, np.ascontiguousarray(new_points[:, :1]), 0.5)
    assert force < REFERENCE_REL_ERROR[1][0]
    assert z < REFERENCE_REL_ERROR[1][1]


def test_reference_box_is_padded_around_the_reference(Y2):
    assert_box_padded(FFTInterpolation().reference(Y2, 1.0), Y2, REFERENCE_PADDING)


def test_reference_sums_points_outside_the_box_exactly(Y2):
    ref = FFTInterpolation().reference(Y2, 1.0)
    Y_new = np.array([[ref.bounds[0, 1] + 5.0, 0.0], [0.0, ref.bounds[1, 0] - 1e4]])
    out, z = np.empty_like(Y_new), np.empty(2)
    ref(Y_new, out, z, 2)
    out_e, z_e = brute_force_reference(Y2, Y_new, 1.0)
    # per point, relative to the force's size (a component may be a cancelling sum)
    assert np.all(np.linalg.norm(out - out_e, axis=1) <= EXACT_RTOL * np.linalg.norm(out_e, axis=1))
    np.testing.assert_allclose(z, z_e, rtol=EXACT_RTOL)


def test_reference_batch_equals_points_one_by_one(Y2, new_points):
    ref = FFTInterpolation().reference(Y2, 1.0)
    Y_new = np.concatenate([new_points[:20], [[1e3, 1e3]]])
    out, z = np.empty_like(Y_new), np.empty(len(Y_new))
    ref(Y_new, out, z, 2)
    for m in range(len(Y_new)):
        one, z_one = np.empty((1, 2)), np.empty(1)
        ref(np.ascontiguousarray(Y_new[m:m + 1]), one, z_one, 1)
        np.testing.assert_array_equal(one[0], out[m])
        assert z_one[0] == z[m]


def test_reference_leaves_the_reference_array_alone(Y2, new_points):
    Y_ref = Y2.copy()
    ref = FFTInterpolation().reference(Y_ref, 1.0)
    out, z = np.empty_like(new_points), np.empty(len(new_points))
    ref(new_points, out, z, 2)
    np.testing.assert_array_equal(Y_ref, Y2)
    Y_ref += 100.0  # later changes to the caller's array do not reach the reference
    out2, z2 = np.empty_like(out), np.empty_like(z)
    ref(new_points, out2, z2, 2)
    np.testing.assert_array_equal(out2, out)


def test_reference_survives_pickling(Y2, new_points):
    ref = FFTInterpolation(n_interpolation_points=4).reference(Y2, 0.5)
    assert_survives_pickling(ref, new_points)


def test_reference_refuses_arrays_of_the_wrong_shape(Y2):
    ref = FFTInterpolation().reference(Y2, 1.0)
    with pytest.raises(ValueError, match="Y_new must be"):
        ref(np.zeros((5, 1)), np.empty((5, 1)), np.empty(5), 1)


def test_backend_survives_pickling(Y2):
    backend = FFTInterpolation(n_interpolation_points=4, min_num_intervals=60)
    repulsion(backend, Y2)
    clone = pickle.loads(pickle.dumps(backend))
    F, Z = repulsion(backend, Y2)
    F2, Z2 = repulsion(clone, Y2)
    np.testing.assert_array_equal(F, F2)
    assert Z == Z2
