"""The exact gradient is the gradient of KL(P || Q): checked against finite differences."""
import numpy as np
import pytest
import scipy.sparse as sp

from fasttsne._ext import _attractive
from fasttsne.affinity import joint_probabilities
from fasttsne.gradients import ExactGradient


def kl_objective(Y, P, dof):
    """KL(P || Q) computed densely in numpy, the reference for the Cython kernels."""
    d2 = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    W = (1.0 + d2 / dof) ** (-dof)
    np.fill_diagonal(W, 0.0)
    Q = W / W.sum()
    Pd = P.toarray()
    mask = Pd > 0
    return float((Pd[mask] * np.log(Pd[mask] / Q[mask])).sum())


def random_P(n, rng):
    cond = sp.random(n, n, density=0.3, random_state=np.random.RandomState(1), format="csr")
    cond.setdiag(0)
    cond.eliminate_zeros()
    cond = sp.diags(1.0 / np.asarray(cond.sum(1)).ravel()) @ cond
    return joint_probabilities(sp.csr_matrix(cond))


def full_gradient(Y, P, dof):
    n, d = Y.shape
    A = np.empty((n, d))
    F = np.empty((n, d))
    _attractive.attractive_forces(P.indptr, P.indices, P.data, Y, dof, A, np.empty(n), False, 1)
    Z = ExactGradient()(Y, dof, F, 1)
    return 4.0 * (A - F / Z)  # fasttsne's kernels return the gradient divided by 4


@pytest.mark.parametrize("dof", [1.0, 0.5, 3.0])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_exact_gradient_matches_finite_differences_of_kl(dof, d):
    rng = np.random.default_rng(0)
    n = 25
    Y = rng.normal(size=(n, d))
    P = random_P(n, rng)
    grad = full_gradient(Y, P, dof)
    eps = 1e-6
    numeric = np.empty_like(Y)
    for i in range(n):
        for k in range(d):
            Yp, Ym = Y.copy(), Y.copy()
            Yp[i, k] += eps
            Ym[i, k] -= eps
            numeric[i, k] = (kl_objective(Yp, P, dof) - kl_objective(Ym, P, dof)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_kl_from_kernels_matches_dense_reference():
    from fasttsne.optim import kl_divergence
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(40, 2))
    P = random_P(40, rng)
    sum_p_log_p = float((P.data * np.log(P.data)).sum())
    assert kl_divergence(Y, P, sum_p_log_p, ExactGradient()) == pytest.approx(kl_objective(Y, P, 1.0), rel=1e-10)


def test_exact_gradient_is_identical_for_one_and_two_threads():
    Y = np.random.default_rng(0).normal(size=(500, 2))
    F1, F2 = np.empty_like(Y), np.empty_like(Y)
    Z1 = ExactGradient()(Y, 1.0, F1, 1)
    Z2 = ExactGradient()(Y, 1.0, F2, 2)
    assert Z1 == Z2
    assert np.array_equal(F1, F2)


def test_exact_gradient_refuses_sizes_that_would_take_hours():
    from fasttsne.gradients.exact import MAX_EXACT_SAMPLES
    Y = np.zeros((MAX_EXACT_SAMPLES + 1, 2))
    with pytest.raises(ValueError, match="use 'fft' or 'bh'"):
        ExactGradient()(Y, 1.0, np.empty_like(Y), 1)
