"""openTSNE's names and call forms: aliases, OptimizationInterrupt from callbacks, per-call gradient parameters."""
import numpy as np
import pytest

import fasttsne
from fasttsne import InvalidParameterError, OptimizationInterrupt


@pytest.fixture(scope="module")
def embedding():
    X = np.random.default_rng(0).normal(size=(90, 4))
    return fasttsne.TSNE(n_iter=5, early_exaggeration_iter=5, perplexity=10, random_state=0).fit(X)


def test_opentsne_class_names_are_the_fasttsne_classes():
    assert fasttsne.TSNEEmbedding is fasttsne.Embedding
    assert fasttsne.PartialTSNEEmbedding is fasttsne.PartialEmbedding


def test_interrupt_has_opentsne_attributes():
    interrupt = OptimizationInterrupt(error=1.5, final_embedding="e")
    assert interrupt.error == 1.5 and interrupt.final_embedding == "e"


def _raising(iteration, error, embedding):
    raise OptimizationInterrupt(error=error, final_embedding=embedding)


def test_a_callback_raising_interrupt_stops_with_the_result(embedding):
    result = embedding.optimize(20, callbacks=_raising, callbacks_every_iters=10)
    assert result.n_iter == embedding.n_iter + 10 and result.kl_divergence is not None


def test_propagate_exception_raises_the_callbacks_interrupt_with_the_embedding(embedding):
    with pytest.raises(OptimizationInterrupt) as caught:
        embedding.optimize(20, callbacks=_raising, callbacks_every_iters=10, propagate_exception=True)
    assert isinstance(caught.value.final_embedding, fasttsne.Embedding)
    assert caught.value.final_embedding.n_iter == embedding.n_iter + 10 and caught.value.error is not None


def test_propagate_exception_raises_when_a_callback_returns_true(embedding):
    with pytest.raises(OptimizationInterrupt) as caught:
        embedding.optimize(20, callbacks=lambda *a: True, callbacks_every_iters=10, propagate_exception=True)
    assert caught.value.final_embedding.n_iter == embedding.n_iter + 10


def test_partial_optimize_handles_callback_interrupts(embedding):
    partial = embedding.prepare_partial(np.zeros((3, 4)))
    assert partial.optimize(20, callbacks=_raising, callbacks_every_iters=10).n_iter == 10
    with pytest.raises(OptimizationInterrupt):
        partial.optimize(20, callbacks=_raising, callbacks_every_iters=10, propagate_exception=True)


def test_optimize_takes_gradient_parameters_per_call(embedding):
    result = embedding.optimize(2, negative_gradient_method="bh", theta=0.8)
    assert result.gradient.theta == 0.8 and embedding.gradient_params["theta"] == 0.5
    result = embedding.optimize(2, negative_gradient_method="fft", n_interpolation_points=3)
    assert result.gradient_params["n_interpolation_points"] == 3


def test_optimize_checks_gradient_parameters_through_the_table(embedding):
    with pytest.raises(InvalidParameterError, match="theta"):
        embedding.optimize(2, theta=-1)


def test_a_list_of_perplexities_fits_the_multiscale_mixture():
    X = np.random.default_rng(2).normal(size=(90, 4))
    tsne = fasttsne.TSNE(perplexity=[5, 20], n_iter=0, early_exaggeration_iter=0, random_state=0)
    embedding = tsne.prepare_initial(X)
    expected = fasttsne.affinity.Multiscale([5, 20], random_state=0).fit(X).P
    assert isinstance(embedding.affinities, fasttsne.affinity.Multiscale)
    assert abs(embedding.P - expected).max() < 1e-12


@pytest.mark.parametrize("perplexity", [[], [5, -1], ["a"]])
def test_a_bad_perplexity_list_is_refused(perplexity):
    with pytest.raises(InvalidParameterError, match="perplexity"):
        fasttsne.TSNE(perplexity=perplexity).check_params()


@pytest.mark.parametrize("exaggeration, expected", [(None, 12), (4, 12), (20, 20)])
def test_auto_early_exaggeration_is_max_of_12_and_exaggeration(exaggeration, expected):
    X = np.random.default_rng(2).normal(size=(60, 3))
    emb = fasttsne.TSNE(early_exaggeration="auto", exaggeration=exaggeration, early_exaggeration_iter=2, n_iter=2,
                        perplexity=5, random_state=0).fit(X)
    assert emb.phases_[0].exaggeration == expected
