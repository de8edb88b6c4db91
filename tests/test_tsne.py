"""The TSNE front door and the Embedding it returns."""
import numpy as np
import pytest

import fasttsne
from quality import knn_accuracy, knn_preservation


@pytest.fixture(scope="module")
def digits_run(digits):
    X, y = digits
    kls = []
    emb = fasttsne.TSNE(random_state=0, n_jobs=2, callbacks=lambda it, kl, Y: kls.append((it, kl)),
                        callbacks_every_iters=50).fit(X)
    return emb, kls


def test_default_run_on_digits_preserves_neighbours(digits, digits_run):
    X, _ = digits
    assert knn_preservation(X, np.asarray(digits_run[0])) >= 0.55


def test_default_run_on_digits_separates_the_classes(digits, digits_run):
    _, y = digits
    assert knn_accuracy(np.asarray(digits_run[0]), y) >= 0.97


def test_kl_decreases_during_the_main_phase(digits_run):
    _, kls = digits_run
    main = [kl for it, kl in kls if it > fasttsne.TSNE().early_exaggeration_iter]
    assert len(main) >= 9
    assert all(b <= a + 1e-9 for a, b in zip(main, main[1:]))


def test_reported_kl_is_the_kl_of_the_final_positions(digits_run):
    from fasttsne.optim import kl_divergence
    emb, _ = digits_run
    expected = kl_divergence(np.asarray(emb), emb.P, emb.affinities.sum_p_log_p, emb.gradient)
    assert emb.kl_divergence == pytest.approx(expected, rel=1e-12)


def test_reported_kl_is_within_one_percent_of_the_exact_kl(digits_run):
    from fasttsne.optim import kl_divergence
    from fasttsne.gradients import ExactGradient
    emb, _ = digits_run
    exact = kl_divergence(np.asarray(emb), emb.P, emb.affinities.sum_p_log_p, ExactGradient())
    assert emb.kl_divergence == pytest.approx(exact, rel=1e-2)


def test_fit_transform_returns_an_array_of_the_embedding(digits):
    X, _ = digits
    Y = fasttsne.TSNE(n_iter=10, early_exaggeration_iter=10, random_state=0).fit_transform(X[:300])
    assert isinstance(Y, np.ndarray) and Y.shape == (300, 2) and Y.dtype == np.float64


def test_same_random_state_gives_the_same_embedding(digits):
    X, _ = digits
    a = fasttsne.TSNE(n_iter=50, early_exaggeration_iter=50, initialization="random", random_state=3).fit(X[:400])
    b = fasttsne.TSNE(n_iter=50, early_exaggeration_iter=50, initialization="random", random_state=3).fit(X[:400])
    assert np.array_equal(np.asarray(a), np.asarray(b))


def test_n_jobs_does_not_change_the_exact_result(digits):
    X, _ = digits
    kw = dict(n_iter=30, early_exaggeration_iter=30, random_state=0, negative_gradient_method="exact")
    a = fasttsne.TSNE(n_jobs=1, **kw).fit(X[:400])
    b = fasttsne.TSNE(n_jobs=2, **kw).fit(X[:400])
    assert np.array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("n_components", [1, 2, 3])
def test_embedding_has_the_requested_dimension(digits, n_components):
    X, _ = digits
    emb = fasttsne.TSNE(n_components=n_components, n_iter=20, early_exaggeration_iter=20,
                        negative_gradient_method="exact", random_state=0).fit(X[:200])
    assert emb.shape == (200, n_components)
    assert np.all(np.isfinite(np.asarray(emb)))


def test_pca_initialization_has_first_coordinate_std_1e_4(digits):
    X, _ = digits
    emb = fasttsne.TSNE(random_state=0).prepare_initial(X)
    assert np.std(np.asarray(emb)[:, 0]) == pytest.approx(1e-4)


def test_user_initialization_array_is_used_as_given(digits):
    X, _ = digits
    init = np.random.default_rng(0).normal(size=(300, 2))
    emb = fasttsne.TSNE(initialization=init).prepare_initial(X[:300])
    assert np.array_equal(np.asarray(emb), init)


def test_initialization_of_the_wrong_shape_is_rejected(digits):
    X, _ = digits
    with pytest.raises(ValueError, match=r"initialization must have shape \(300, 2\)"):
        fasttsne.TSNE(initialization=np.zeros((299, 2))).fit(X[:300])


def test_callback_returning_true_stops_the_run_early(digits):
    X, _ = digits
    seen = []

    def stop_at_100(it, kl, Y):
        seen.append(it)
        return it >= 100

    emb = fasttsne.TSNE(random_state=0, callbacks=stop_at_100, callbacks_every_iters=50).fit(X[:300])
    assert emb.n_iter == 100
    assert seen == [50, 100]


def test_callbacks_receive_iteration_kl_and_a_copy_of_the_positions(digits):
    X, _ = digits
    got = []
    fasttsne.TSNE(n_iter=0, early_exaggeration_iter=20, random_state=0, callbacks_every_iters=10,
                  callbacks=lambda it, kl, Y: got.append((it, kl, Y))).fit(X[:200])
    assert [g[0] for g in got] == [10, 20]
    assert all(np.isfinite(g[1]) and g[2].shape == (200, 2) for g in got)
    assert not np.array_equal(got[0][2], got[1][2])


@pytest.mark.parametrize("kw, message", [
    (dict(neighbors="nope"), "unknown neighbour backend 'nope'; available: auto, .*exact"),
    (dict(negative_gradient_method="nope"), "unknown negative_gradient_method 'nope'; available: auto, .*exact"),
    (dict(perplexity=0), "perplexity must be a positive number or a non-empty list of positive numbers, got 0"),
    (dict(n_iter=-1), "n_iter must be a non-negative integer"),
    (dict(learning_rate=-5), "learning_rate must be a positive number or 'auto', got -5"),
    (dict(dof=0), "dof must be a positive number, got 0"),
    (dict(n_components=0), "n_components must be a positive integer"),
    (dict(theta=-1), "theta must be a non-negative number, got -1"),
    (dict(initialization="spectral?"), "initialization must be one of 'pca', 'spectral', 'random'"),
])
def test_bad_parameters_are_rejected_with_a_clear_message(digits, kw, message):
    X, _ = digits
    with pytest.raises(ValueError, match=message):
        fasttsne.TSNE(**kw).fit(X[:100])


def test_demo_dataset_is_bundled():
    from fasttsne.datasets import load_digits
    X, y = load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,) and set(np.unique(y)) == set(range(10))
