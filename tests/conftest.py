"""Shared fixtures: real datasets from ../shared/data and a real embedding to test gradients at."""
import os
import signal
import sys

import numpy as np
import pytest

SHARED_DATA = os.environ.get(
    "FASTTSNE_SHARED_DATA",
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared", "data"))


def load_shared(name):
    """(X, y) of a dataset in ../shared/data; skips the test when the folder is absent."""
    if not os.path.isdir(SHARED_DATA):
        pytest.skip(f"shared datasets not found at {SHARED_DATA}")
    sys.path.insert(0, SHARED_DATA)
    try:
        from load import load
    finally:
        sys.path.pop(0)
    return load(name)


def pca_reduce(X, n_components):
    """Project X onto its first principal components (float64)."""
    X = np.asarray(X, dtype=np.float64)
    Xc = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(Xc, full_matrices=False)
    return Xc @ vt[:n_components].T


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits: (1797, 64) float64 and labels."""
    from fasttsne.datasets import load_digits
    return load_digits()


@pytest.fixture(scope="session")
def mnist2000():
    """2,000 MNIST test digits reduced to 50 principal components, and their labels."""
    X, y = load_shared("mnist_test")
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(len(X), 2000, replace=False))
    return pca_reduce(X[idx], 50), y[idx]


@pytest.fixture(scope="session")
def mnist2000_embedding(mnist2000):
    """A real t-SNE embedding of ``mnist2000`` (exact gradient, shortened schedule without
    annealing: the same map whatever the default schedule).

    Returns the fasttsne.Embedding; ``np.asarray(emb)`` is (2000, 2).
    """
    import fasttsne
    X, _ = mnist2000
    return fasttsne.TSNE(early_exaggeration_iter=100, anneal_iter=0, n_iter=150, negative_gradient_method="exact",
                         neighbors="exact", random_state=0, n_jobs=2).fit(X)


@pytest.fixture
def ctrl_c_raises():
    """SIGINT raises KeyboardInterrupt during the test, as in an interactive session.

    A process started in the background by a non-interactive shell inherits SIGINT ignored, and
    Python then keeps it ignored: the Ctrl-C tests would see nothing. They restore Python's own
    handler for their duration.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
