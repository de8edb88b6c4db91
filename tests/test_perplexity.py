"""Perplexity calibration and the symmetric P it produces."""
import warnings

import numpy as np
import pytest

from fasttsne.affinity import (SUM_BLOCK, PerplexityBasedNN, conditional_probabilities, joint_from_neighbors,
                               joint_probabilities, sum_p_log_p, to_csr)


def reference_conditionals(distances, perplexity):
    """Plain numpy bisection on beta for each row: the reference computation."""
    out = np.empty_like(distances)
    for i, d in enumerate(distances):
        d2 = d ** 2 - (d ** 2).min()
        lo, hi = 0.0, 1e12
        for _ in range(200):
            beta = (lo + hi) / 2
            w = np.exp(-beta * d2)
            p = w / w.sum()
            H = -(p[p > 0] * np.log(p[p > 0])).sum()
            if H > np.log(perplexity):
                lo = beta
            else:
                hi = beta
        out[i] = p
    return out


def entropy_rows(P):
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(P > 0, P * np.log(P), 0.0).sum(1)


@pytest.mark.parametrize("perplexity", [5.0, 30.0])
def test_calibrated_rows_reach_the_requested_perplexity(mnist2000, perplexity):
    X, _ = mnist2000
    model = PerplexityBasedNN(perplexity, neighbors="exact").fit(X)
    idx, dist = model.index.build(X, int(3 * perplexity))
    P, _ = conditional_probabilities(dist, perplexity)
    np.testing.assert_allclose(np.exp(entropy_rows(P)), perplexity, rtol=1e-4)


def test_calibrated_conditionals_match_a_reference_bisection(mnist2000):
    X, _ = mnist2000
    model = PerplexityBasedNN(10, neighbors="exact").fit(X[:300])
    _, dist = model.index.build(X[:300], 30)
    P, _ = conditional_probabilities(dist, 10.0)
    np.testing.assert_allclose(P, reference_conditionals(dist, 10.0), atol=1e-5)


def test_P_is_symmetric_non_negative_and_sums_to_one(mnist2000):
    X, _ = mnist2000
    P = PerplexityBasedNN(30, neighbors="exact").fit(X).P
    assert abs(P - P.T).max() < 1e-15
    assert P.data.min() > 0
    assert P.sum() == pytest.approx(1.0, abs=1e-12)


def test_P_uses_int32_indices_for_the_kernels(digits):
    P = PerplexityBasedNN(30, neighbors="exact").fit(digits[0]).P
    assert P.indices.dtype == np.int32 and P.indptr.dtype == np.int32


def test_duplicate_points_give_finite_affinities():
    X = np.repeat(np.random.default_rng(0).normal(size=(20, 5)), 10, axis=0)
    P = PerplexityBasedNN(10, neighbors="exact").fit(X).P
    assert np.all(np.isfinite(P.data))
    assert P.sum() == pytest.approx(1.0)


def test_identical_points_give_finite_uniform_affinities():
    P = PerplexityBasedNN(5, neighbors="exact").fit(np.ones((50, 3))).P
    assert np.all(np.isfinite(P.data))
    assert P.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_calibration_works_at_extreme_scales(scale):
    dist = np.random.default_rng(0).uniform(1, 2, size=(100, 30)) * scale
    P, _ = conditional_probabilities(dist, 10.0)
    np.testing.assert_allclose(np.exp(entropy_rows(P)), 10.0, rtol=1e-4)


def test_too_large_perplexity_is_lowered_with_a_warning():
    X = np.random.default_rng(0).normal(size=(40, 3))
    with pytest.warns(UserWarning, match=r"perplexity 30 is too large for 40 points.*using perplexity 13"):
        model = PerplexityBasedNN(30, neighbors="exact").fit(X)
    assert model.perplexity_ == pytest.approx(13.0)


def test_valid_perplexity_gives_no_warning(digits):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PerplexityBasedNN(30, neighbors="exact").fit(digits[0])


def _random_graph(n, k, seed):
    """(n, k) neighbour indices with repeats, self-loops and zero weights; weights >= 0."""
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, n, size=(n, k))
    indices[::7, 1] = indices[::7, 0]  # a repeated neighbour in some rows
    values = rng.random((n, k))
    values[::5, 2] = 0.0  # explicit zeros are dropped, not stored
    return indices, values / values.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_joint_from_neighbors_equals_the_scipy_symmetrisation_rounded_to_float32(n_jobs):
    indices, values = _random_graph(500, 12, seed=3)
    expected = joint_probabilities(to_csr(indices, values, 500))
    P = joint_from_neighbors([indices, values], lambda v: v, n_jobs)
    assert P.has_sorted_indices and P.indices.dtype == np.int32 and P.dtype == np.float32
    assert np.array_equal(P.indptr, expected.indptr)
    assert np.array_equal(P.indices, expected.indices)
    # the same float64 sums, rounded once
    assert np.array_equal(P.data, expected.data.astype(np.float32))


def test_sum_p_log_p_accumulates_float32_values_in_float64_and_skips_zeros():
    v = np.random.default_rng(0).random(3 * SUM_BLOCK // 2).astype(np.float32)
    v[::7] = 0.0
    w = v[v > 0].astype(np.float64)
    assert sum_p_log_p(v) == pytest.approx(float(np.sum(w * np.log(w))), rel=1e-12)


def test_joint_from_neighbors_empties_the_list_it_is_given():
    indices, values = _random_graph(50, 4, seed=0)
    knn = [indices, values]
    joint_from_neighbors(knn, lambda v: v)
    assert knn == []


def test_joint_from_neighbors_rejects_indices_out_of_range():
    indices, values = _random_graph(50, 4, seed=0)
    indices[3, 1] = 50
    with pytest.raises(ValueError, match=r"neighbour indices must lie in \[0, 50\)"):
        joint_from_neighbors([indices, values], lambda v: v)
