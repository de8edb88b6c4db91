"""The parameter table: every front door checks it first, with one error type and one message style."""
import inspect
import re

import numpy as np
import pytest

import fasttsne
from fasttsne import _params, _threads
from fasttsne._params import (GRID_PARAMS, OPTIMIZE_PARAMS, PARTIAL_PARAMS, PREPARE_PARTIAL_PARAMS, REQUIRED,
                              TRANSFORM_PARAMS, TSNE_PARAMS, InvalidParameterError)
from fasttsne.affinity import NeighborModel
from fasttsne.partial import PartialEmbedding

#: A bad value for every TSNE parameter (a new parameter needs one here: see the test below).
BAD = {
    "n_components": 0, "perplexity": -1.0, "learning_rate": "fast", "early_exaggeration_iter": -1, "anneal_iter": -1,
    "early_exaggeration": 0, "n_iter": 1.5, "exaggeration": -2.0, "dof": 0.0, "theta": -0.1,
    "n_interpolation_points": 0, "min_num_intervals": 0, "ints_in_interval": 0.0, "initialization": "pcaa",
    "metric": 3, "metric_params": [("p", 3)], "initial_momentum": 1.0, "final_momentum": 1.2,
    "max_grad_norm": 0.0, "max_step_norm": -1.0, "neighbors": "nope", "negative_gradient_method": "nope",
    "n_jobs": 0, "random_state": "seed", "verbose": "yes", "callbacks": [1], "callbacks_every_iters": 0,
    "tol": 0.0, "max_iter": 0, "knn_kwargs": {1: 2},
}


@pytest.fixture
def no_neighbour_search(monkeypatch):
    def reached(self, X):
        raise AssertionError("the neighbour search started before the parameters were checked")
    monkeypatch.setattr(NeighborModel, "fit", reached)


def test_every_tsne_parameter_has_a_bad_value_in_this_test():
    assert set(BAD) == set(TSNE_PARAMS) == set(inspect.signature(fasttsne.TSNE).parameters)


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_of_any_tsne_parameter_fails_before_the_neighbour_search(name, no_neighbour_search):
    X = np.random.default_rng(0).normal(size=(50, 3))
    # the table names the parameter; a registry names the unknown backend
    with pytest.raises(InvalidParameterError, match=f"{name}|{re.escape(repr(BAD[name]))}"):
        fasttsne.TSNE(**{name: BAD[name]}).fit(X)


def test_an_unknown_metric_for_the_chosen_backend_fails_before_the_neighbour_search(no_neighbour_search):
    with pytest.raises(InvalidParameterError, match="does not support metric 'eucldean'"):
        fasttsne.TSNE(metric="eucldean", neighbors="exact").fit(np.zeros((50, 3)))


def test_an_initialization_array_of_the_wrong_shape_fails_before_the_neighbour_search(no_neighbour_search):
    with pytest.raises(InvalidParameterError, match=r"initialization must have shape \(50, 2\)"):
        fasttsne.TSNE(initialization=np.zeros((49, 2))).fit(np.zeros((50, 3)))


def test_the_message_names_the_parameter_the_constraint_and_the_value():
    with pytest.raises(InvalidParameterError) as info:
        fasttsne.TSNE(final_momentum=1.2).fit(np.zeros((50, 3)))
    assert str(info.value) == "final_momentum must be a number in [0, 1), got 1.2."


def test_the_error_is_both_a_value_error_and_a_type_error():
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidParameterError, TypeError)


def test_every_default_in_the_tables_is_accepted_by_its_own_constraints():
    for table in (TSNE_PARAMS, OPTIMIZE_PARAMS, PARTIAL_PARAMS, PREPARE_PARTIAL_PARAMS, TRANSFORM_PARAMS, GRID_PARAMS):
        for p in table.values():
            assert p.default is REQUIRED or p.accepts(p.default), p.name


@pytest.mark.parametrize("function, table", [
    (fasttsne.TSNE.__init__, TSNE_PARAMS),
    (fasttsne.Embedding.optimize, OPTIMIZE_PARAMS),
    (fasttsne.Embedding.transform, TRANSFORM_PARAMS),
    (fasttsne.Embedding.prepare_partial, PREPARE_PARTIAL_PARAMS),
    (PartialEmbedding.optimize, PARTIAL_PARAMS),
    (fasttsne.Embedding.prepare_interpolation_grid, GRID_PARAMS),
], ids=["TSNE", "optimize", "transform", "prepare_partial", "PartialEmbedding.optimize",
        "prepare_interpolation_grid"])
def test_front_door_signatures_carry_the_tables_defaults(function, table):
    signature = {name: p.default for name, p in inspect.signature(function).parameters.items()
                 if name not in ("self", "X_new", "X")}
    expected = {name: (inspect.Parameter.empty if p.default is REQUIRED else p.default) for name, p in table.items()}
    assert signature == expected


def test_docstrings_are_written_from_the_table():
    for name, p in TSNE_PARAMS.items():
        assert f"{name} : " in fasttsne.TSNE.__doc__ and p.doc.split()[0] in fasttsne.TSNE.__doc__
    assert TRANSFORM_PARAMS["n_jobs"].doc.split(":")[0] in " ".join(fasttsne.Embedding.transform.__doc__.split())


def test_bounds_copied_into_the_table_match_their_sources():
    from fasttsne.gradients import fft
    assert _params._MAX_N_JOBS == _threads.MAX_N_JOBS
    assert _params._MAX_INTERPOLATION_POINTS == fft.MAX_INTERPOLATION_POINTS


@pytest.fixture(scope="module")
def small_map():
    X = np.random.default_rng(0).normal(size=(40, 3))
    return X, fasttsne.TSNE(perplexity=5, n_iter=0, early_exaggeration_iter=0, random_state=0).fit(X)


@pytest.mark.parametrize("params", [{"n_iter": -1}, {"momentum": 1.0}, {"min_gain": -0.1},
                                    {"callbacks": "not callable"}, {"negative_gradient_method": "nope"},
                                    {"dof": 0}, {"n_jobs": 0}])
def test_optimize_rejects_bad_values_before_any_iteration(params, small_map, monkeypatch):
    _, embedding = small_map
    monkeypatch.setattr("fasttsne.optim.descent.gradient_descent",
                        lambda *a, **k: pytest.fail("an iteration ran"))
    with pytest.raises(InvalidParameterError):
        embedding.optimize(**{"n_iter": 5, **params})


@pytest.mark.parametrize("params", [{"learning_rate": "auto"}, {"k": 0}, {"perplexity": 0},
                                    {"initialization": "pca"}, {"final_momentum": 1.0}, {"n_jobs": 1.5},
                                    {"early_exaggeration_iter": -3}])
def test_transform_rejects_bad_values_before_the_neighbour_query(params, small_map, monkeypatch):
    X, embedding = small_map
    monkeypatch.setattr(type(embedding.affinities.index), "query", lambda *a, **k: pytest.fail("queried"))
    with pytest.raises(InvalidParameterError):
        embedding.transform(X[:3], **params)
