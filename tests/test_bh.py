"""Barnes-Hut repulsion: accuracy against the exact sums, determinism, robustness, transform variant."""
import pickle

import numpy as np
import pytest

import fasttsne
from fasttsne._ext import _bh
from fasttsne.gradients import get_gradient
from fasttsne.gradients.bh import BarnesHut
from fasttsne.gradients.exact import ExactGradient

# Measured on the mnist2000 embedding at theta=0.5 with dof=1: relative error 0.0153 in F/Z
# and 0.0062 in Z (openTSNE's Barnes-Hut: 0.0152 and 0.0084); the bounds leave a little room.
FORCE_REL_ERROR_AT_HALF = 0.02
Z_REL_ERROR_AT_HALF = 0.01
# (F/Z, Z) bounds at theta=0.5 by dimension, over dof in {0.5, 1, 2}; measured maxima were
# 1-D (0.0323, 0.0121), 2-D (0.0178, 0.0062), 3-D (0.0113, 0.0029).
REL_ERROR_AT_HALF_BY_DIM = {1: (0.035, 0.015), 2: (0.02, 0.01), 3: (0.015, 0.005)}
# theta=0 differs from the exact sums only by the order of additions
EXACT_RTOL = 1e-10


def repulsion(backend, Y, dof=1.0, n_jobs=2):
    out = np.empty_like(Y)
    Z = backend(Y, dof, out, n_jobs)
    return out, Z


def rel_errors(Y, theta, dof=1.0):
    """(||F/Z error|| / ||F/Z||, |Z error| / Z) of Barnes-Hut against the exact sums."""
    F, Z = repulsion(BarnesHut(theta), Y, dof)
    Fe, Ze = repulsion(ExactGradient(), Y, dof)
    force = np.linalg.norm(F / Z - Fe / Ze) / np.linalg.norm(Fe / Ze)
    return force, abs(Z - Ze) / Ze


def brute_force_reference(Y_ref, Y_new, dof):
    """Per-point loop of the definition: sums over the reference of w and w^(1+1/dof) (y - y_j)."""
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


@pytest.fixture(scope="module", params=[1, 2, 3], ids=["1d", "2d", "3d"])
def Yd(request, Y2, mnist2000):
    """The real 2-D embedding cut to 1-D or given a third axis (a principal component, same spread)."""
    d = request.param
    if d <= 2:
        return np.ascontiguousarray(Y2[:, :d])
    pc = mnist2000[0][:, 0]
    third = (pc - pc.mean()) / pc.std() * Y2.std()
    return np.ascontiguousarray(np.column_stack([Y2, third]))


# ------------------------------------------------------------------ accuracy
def test_theta_half_force_close_to_exact_on_real_embedding(Y2):
    force, _ = rel_errors(Y2, 0.5)
    assert force < FORCE_REL_ERROR_AT_HALF


def test_theta_half_z_close_to_exact_on_real_embedding(Y2):
    _, z = rel_errors(Y2, 0.5)
    assert z < Z_REL_ERROR_AT_HALF


def test_errors_shrink_as_theta_decreases(Y2):
    errors = [rel_errors(Y2, theta) for theta in (0.8, 0.5, 0.2, 0.05)]
    forces, zs = zip(*errors)
    assert list(forces) == sorted(forces, reverse=True)
    assert list(zs) == sorted(zs, reverse=True)


@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_theta_zero_matches_exact(Yd, dof):
    F, Z = repulsion(BarnesHut(0.0), Yd, dof)
    Fe, Ze = repulsion(ExactGradient(), Yd, dof)
    np.testing.assert_allclose(Z, Ze, rtol=EXACT_RTOL)
    np.testing.assert_allclose(F, Fe, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(Fe).max())


@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_theta_half_close_to_exact_in_every_dimension_and_dof(Yd, dof):
    force_bound, z_bound = REL_ERROR_AT_HALF_BY_DIM[Yd.shape[1]]
    force, z = rel_errors(Yd, 0.5, dof)
    assert force < force_bound
    assert z < z_bound


# ------------------------------------------------------------------ determinism
def test_one_and_two_threads_give_bitwise_identical_results(Y2):
    F1, Z1 = repulsion(BarnesHut(0.5), Y2, n_jobs=1)
    F2, Z2 = repulsion(BarnesHut(0.5), Y2, n_jobs=2)
    assert Z1 == Z2
    assert np.array_equal(F1, F2)


def test_tree_nodes_partition_their_points_and_hold_their_centre_of_mass(Y2):
    tree = _bh.SpaceTree(2)
    tree.build(Y2)
    nodes = tree.node_arrays()
    order = nodes["order"]
    assert np.array_equal(np.sort(order), np.arange(len(Y2)))
    for i in range(tree.n_nodes):
        s, c = nodes["start"][i], nodes["count"][i]
        np.testing.assert_allclose(nodes["center_of_mass"][i], Y2[order[s:s + c]].mean(axis=0), rtol=1e-12, atol=1e-12)
        kids = range(nodes["first_child"][i], nodes["first_child"][i] + nodes["n_children"][i])
        if len(kids):
            assert sum(nodes["count"][k] for k in kids) == c
            assert nodes["start"][kids[0]] == s


# ------------------------------------------------------------------ optimisation
def test_full_run_kl_within_one_percent_of_exact(digits):
    # a shortened schedule keeps the exact run affordable; measured: 0.7763 (bh) vs 0.7757
    X, _ = digits
    kls = {}
    for method in ("exact", "bh"):
        emb = fasttsne.TSNE(negative_gradient_method=method, neighbors="exact", random_state=0,
                            early_exaggeration_iter=100, n_iter=200, n_jobs=2).fit(X)
        kls[method] = emb.kl_divergence
    assert abs(kls["bh"] - kls["exact"]) < 0.01 * kls["exact"]


# ------------------------------------------------------------------ robustness
def test_duplicate_points_give_finite_and_exact_at_theta_zero(Y2):
    Y = np.concatenate([Y2[:300], np.repeat(Y2[:5], 40, axis=0), np.full((200, 2), 3.25)])
    F, Z = repulsion(BarnesHut(0.5), Y)
    assert np.isfinite(F).all() and np.isfinite(Z)
    F0, Z0 = repulsion(BarnesHut(0.0), Y)
    Fe, Ze = repulsion(ExactGradient(), Y)
    np.testing.assert_allclose(Z0, Ze, rtol=EXACT_RTOL)
    np.testing.assert_allclose(F0, Fe, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(Fe).max())


def test_all_points_identical_repel_nothing_and_count_every_pair():
    n = 1000
    F, Z = repulsion(BarnesHut(0.5), np.full((n, 2), -7.5))
    assert np.array_equal(F, np.zeros((n, 2)))
    assert Z == n * (n - 1)


def test_far_outlier_gives_finite_output_close_to_exact(Y2):
    Y = np.concatenate([Y2, [[1e6, -1e6]]])
    F, Z = repulsion(BarnesHut(0.5), Y)
    assert np.isfinite(F).all() and np.isfinite(Z)
    force, z = rel_errors(Y, 0.5)
    assert force < FORCE_REL_ERROR_AT_HALF and z < Z_REL_ERROR_AT_HALF


# ------------------------------------------------------------------ parameters and protocol
def test_registered_under_bh_and_aliases():
    for name in ("bh", "barnes-hut", "BH"):
        assert isinstance(get_gradient(name, n_samples=100, n_components=2), BarnesHut)


def test_theta_is_passed_from_params():
    assert get_gradient("bh", n_samples=100, n_components=2, theta=0.25).theta == 0.25


@pytest.mark.parametrize("theta", [-0.1, float("nan"), float("inf")])
def test_invalid_theta_is_refused(theta):
    with pytest.raises(ValueError, match="theta"):
        BarnesHut(theta)


def test_four_dimensions_refused_naming_the_method():
    with pytest.raises(ValueError, match="'bh' supports at most 3-D"):
        get_gradient("bh", n_samples=100, n_components=4)


def test_pickled_backend_gives_identical_results(Y2):
    bh = BarnesHut(0.3)
    F, Z = repulsion(bh, Y2)
    F2, Z2 = repulsion(pickle.loads(pickle.dumps(bh)), Y2)
    assert Z == Z2 and np.array_equal(F, F2)


# ------------------------------------------------------------------ reference variant (transform)
@pytest.fixture(scope="module")
def ref_and_new(Yd):
    """Reference = first 1,800 points of the embedding; new points = the other 200, jittered."""
    rng = np.random.default_rng(1)
    new = Yd[1800:] + rng.normal(scale=0.5, size=Yd[1800:].shape)
    return np.ascontiguousarray(Yd[:1800]), np.ascontiguousarray(new)


def call_reference(ref, Y_new, n_jobs=2):
    out = np.empty_like(Y_new)
    z = np.empty(len(Y_new))
    ref(Y_new, out, z, n_jobs)
    return out, z


@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("backend", [BarnesHut(0.0), ExactGradient()], ids=["bh-theta0", "exact"])
def test_reference_equals_per_point_brute_force(ref_and_new, backend, dof):
    Y_ref, Y_new = ref_and_new
    out, z = call_reference(backend.reference(Y_ref, dof), Y_new)
    out_bf, z_bf = brute_force_reference(Y_ref, Y_new, dof)
    np.testing.assert_allclose(z, z_bf, rtol=EXACT_RTOL)
    np.testing.assert_allclose(out, out_bf, rtol=EXACT_RTOL, atol=EXACT_RTOL * np.abs(out_bf).max())


@pytest.mark.parametrize("dof", [0.5, 1.0, 2.0])
def test_reference_at_theta_half_close_to_brute_force(ref_and_new, dof):
    Y_ref, Y_new = ref_and_new
    force_bound, z_bound = REL_ERROR_AT_HALF_BY_DIM[Y_ref.shape[1]]
    out, z = call_reference(BarnesHut(0.5).reference(Y_ref, dof), Y_new)
    out_bf, z_bf = brute_force_reference(Y_ref, Y_new, dof)
    # each new point is normalised by its own z
    force = np.linalg.norm(out / z[:, None] - out_bf / z_bf[:, None]) / np.linalg.norm(out_bf / z_bf[:, None])
    assert force < force_bound
    assert np.linalg.norm(z - z_bf) / np.linalg.norm(z_bf) < z_bound


@pytest.mark.parametrize("backend", [BarnesHut(0.5), ExactGradient()], ids=["bh", "exact"])
def test_reference_batch_equals_one_by_one_exactly(ref_and_new, backend):
    Y_ref, Y_new = ref_and_new
    ref = backend.reference(Y_ref, 1.0)
    out, z = call_reference(ref, Y_new)
    for m in range(0, len(Y_new), 17):
        out_m, z_m = call_reference(ref, Y_new[m:m + 1], n_jobs=1)
        assert z_m[0] == z[m]
        assert np.array_equal(out_m[0], out[m])


@pytest.mark.parametrize("backend", [BarnesHut(0.5), ExactGradient()], ids=["bh", "exact"])
def test_reference_neither_modifies_nor_depends_on_the_callers_array(ref_and_new, backend):
    Y_ref, Y_new = ref_and_new
    Y_ref = Y_ref.copy()
    kept = Y_ref.copy()
    ref = backend.reference(Y_ref, 1.0)
    before = call_reference(ref, Y_new)
    assert np.array_equal(Y_ref, kept)
    Y_ref += 100.0
    after = call_reference(ref, Y_new)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def test_reference_survives_pickling_with_identical_results(ref_and_new):
    Y_ref, Y_new = ref_and_new
    ref = BarnesHut(0.5).reference(Y_ref, 2.0)
    before = call_reference(ref, Y_new)
    after = call_reference(pickle.loads(pickle.dumps(ref)), Y_new)
    assert np.array_equal(before[0], after[0]) and np.array_equal(before[1], after[1])


def test_reference_refuses_new_points_of_another_dimension(Y2):
    ref = BarnesHut(0.5).reference(Y2, 1.0)
    with pytest.raises(ValueError, match="Y_new must be"):
        call_reference(ref, np.zeros((3, 3)))
