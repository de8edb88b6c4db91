"""Ctrl-C stops an optimisation within about one iteration and keeps the result so far."""
import os
import signal
import threading

import numpy as np
import pytest

import fasttsne

pytestmark = pytest.mark.usefixtures("ctrl_c_raises")


def interrupt_at(iteration):
    def callback(it, kl, Y):
        if it == iteration:
            os.kill(os.getpid(), signal.SIGINT)
    return callback


def test_ctrl_c_raises_optimization_interrupt_carrying_the_embedding_so_far(digits):
    X, _ = digits
    tsne = fasttsne.TSNE(n_iter=200, early_exaggeration_iter=100, random_state=0, callbacks_every_iters=10,
                         callbacks=interrupt_at(150))
    with pytest.raises(fasttsne.OptimizationInterrupt) as info:
        tsne.fit(X[:400])
    emb = info.value.embedding
    assert isinstance(emb, fasttsne.Embedding)
    assert 150 <= emb.n_iter <= 151
    assert np.all(np.isfinite(np.asarray(emb)))


def test_interrupted_embedding_can_be_continued(digits):
    X, _ = digits
    emb = fasttsne.TSNE(n_iter=0, early_exaggeration_iter=50, random_state=0).fit(X[:300])
    with pytest.raises(fasttsne.OptimizationInterrupt) as info:
        emb.optimize(100, callbacks=interrupt_at(80), callbacks_every_iters=10)
    partial = info.value.embedding
    assert emb.n_iter == 50  # the original is untouched
    assert partial.optimize(20).n_iter == partial.n_iter + 20


def test_interrupt_is_a_keyboard_interrupt():
    assert issubclass(fasttsne.OptimizationInterrupt, KeyboardInterrupt)


def test_ctrl_c_from_another_thread_stops_a_long_run_promptly(digits):
    X, _ = digits
    tsne = fasttsne.TSNE(n_iter=100000, early_exaggeration_iter=0, random_state=0)
    emb = tsne.prepare_initial(X[:300])
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(fasttsne.OptimizationInterrupt) as info:
            emb.optimize(100000)
    finally:
        timer.cancel()
    assert 0 < info.value.embedding.n_iter < 100000
