"""Threads: runs in parallel Python threads give what each run gives alone, and the number of
OpenMP threads (``n_jobs``) does not change any result."""
import threading

import numpy as np
import pytest

import fasttsne

SCHEDULE = dict(early_exaggeration_iter=30, n_iter=30, neighbors="exact", random_state=0)
GRADIENTS = ["exact", "bh", "fft"]


@pytest.fixture(scope="module")
def datasets():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(5, 8))
    first = np.repeat(centres, 80, axis=0) + rng.normal(size=(400, 8))
    second = rng.normal(size=(350, 8)) * np.linspace(0.5, 3.0, 8)
    return first, second


def in_threads(*calls):
    """Run the zero-argument ``calls`` at once, one thread each; return their results in order.

    A barrier releases all threads together so the runs overlap; an exception in a thread
    is re-raised here.
    """
    results = [None] * len(calls)
    errors = []
    barrier = threading.Barrier(len(calls))

    def run(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except BaseException as e:  # noqa: BLE001 - handed to the main thread
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def fit(X, method, n_jobs=2):
    return np.asarray(fasttsne.TSNE(negative_gradient_method=method, n_jobs=n_jobs, **SCHEDULE).fit(X))


# ------------------------------------------------------------------ Python threads
@pytest.mark.parametrize("method", GRADIENTS)
def test_two_fits_in_two_threads_give_the_embeddings_of_each_fit_alone(datasets, method):
    first, second = datasets
    alone = [fit(first, method), fit(second, method)]
    together = in_threads(lambda: fit(first, method), lambda: fit(second, method))
    assert np.array_equal(together[0], alone[0])
    assert np.array_equal(together[1], alone[1])


@pytest.mark.parametrize("method", GRADIENTS)
def test_transform_from_two_threads_on_one_embedding_gives_the_transform_alone(datasets, method):
    X, other = datasets
    X_new = other[:40] * 0.5
    alone = fasttsne.TSNE(negative_gradient_method=method, n_jobs=2, **SCHEDULE).fit(X).transform(X_new, n_iter=40)
    shared = fasttsne.TSNE(negative_gradient_method=method, n_jobs=2, **SCHEDULE).fit(X)
    together = in_threads(lambda: shared.transform(X_new, n_iter=40), lambda: shared.transform(X_new, n_iter=40))
    assert np.array_equal(together[0], alone)
    assert np.array_equal(together[1], alone)


def test_threads_transforming_at_once_build_the_reference_repulsion_once(datasets, monkeypatch):
    X, other = datasets
    emb = fasttsne.TSNE(negative_gradient_method="bh", **SCHEDULE).fit(X)
    backend = emb.gradient
    build = backend.reference
    calls = []

    def slow_build(*args, **kwargs):
        calls.append(threading.get_ident())
        threading.Event().wait(0.2)  # a window in which an unguarded cache would be built twice
        return build(*args, **kwargs)

    monkeypatch.setattr(backend, "reference", slow_build)
    in_threads(*[lambda: emb.transform(other[:5], n_iter=5)] * 3)
    assert len(calls) == 1


@pytest.mark.parametrize("method", GRADIENTS)
def test_optimising_one_embedding_from_two_threads_gives_the_result_of_each_call_alone(datasets, method):
    # optimize() returns a new Embedding; the copies must not share the backend's scratch buffers
    X, _ = datasets
    emb = fasttsne.TSNE(negative_gradient_method=method, n_jobs=2, **SCHEDULE).fit(X)
    alone = np.asarray(emb.optimize(25))
    together = in_threads(lambda: np.asarray(emb.optimize(25)), lambda: np.asarray(emb.optimize(25)))
    assert np.array_equal(together[0], alone)
    assert np.array_equal(together[1], alone)


# ------------------------------------------------------------------ n_jobs
@pytest.mark.parametrize("method", GRADIENTS)
def test_one_and_two_threads_give_bitwise_identical_embeddings(datasets, method):
    X, _ = datasets
    assert np.array_equal(fit(X, method, n_jobs=1), fit(X, method, n_jobs=2))


@pytest.mark.parametrize("method", GRADIENTS)
def test_one_and_two_threads_give_bitwise_identical_transforms(datasets, method):
    X, other = datasets
    emb = fasttsne.TSNE(negative_gradient_method=method, n_jobs=1, **SCHEDULE).fit(X)
    X_new = other[:30] * 0.5
    assert np.array_equal(emb.transform(X_new, n_iter=30, n_jobs=1), emb.transform(X_new, n_iter=30, n_jobs=2))


def test_annoy_neighbours_with_one_thread_are_reproducible_from_the_seed(datasets):
    # Annoy seeds each of its build threads with random_state + thread index, so its forest
    # (and the embedding) depends on n_jobs; with n_jobs=1 the seed alone decides it
    X, _ = datasets
    runs = [np.asarray(fasttsne.TSNE(neighbors="annoy", negative_gradient_method="bh", n_jobs=1,
                                     early_exaggeration_iter=30, n_iter=30, random_state=5).fit(X))
            for _ in range(2)]
    assert np.array_equal(runs[0], runs[1])


def test_one_backend_instance_given_to_two_fits_in_two_threads_is_not_shared(datasets):
    from fasttsne.gradients.bh import BarnesHut
    first, second = datasets
    backend = BarnesHut(theta=0.5)

    def fit_with_backend(X):
        return np.asarray(fasttsne.TSNE(negative_gradient_method=backend, n_jobs=2, **SCHEDULE).fit(X))

    alone = [fit_with_backend(first), fit_with_backend(second)]
    together = in_threads(lambda: fit_with_backend(first), lambda: fit_with_backend(second))
    assert np.array_equal(together[0], alone[0]) and np.array_equal(together[1], alone[1])
