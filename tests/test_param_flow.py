"""Each parameter of ``TSNE``, ``optimize`` and ``transform`` reaches the layer that uses it.

The layers are spied on (the descent loop, the initialisation, the neighbour backend, the
affinity calibration, the reference repulsion) and the value that arrived is compared with
the value given. Threads: ``n_jobs`` is kept as given and resolved where it is used, so a
saved map follows the cores of the machine that loads it.
"""
import io

import numpy as np
import pytest

import fasttsne
import fasttsne.affinity
import fasttsne.optim.descent
import fasttsne.tsne
from fasttsne import _threads
from fasttsne.gradients import NegativeGradient
from fasttsne.neighbors import NeighborBackend

N = 60
SMALL = dict(perplexity=5, early_exaggeration_iter=2, n_iter=3, random_state=0)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(3).normal(size=(N, 4))


class Spy:
    """Records the calls of ``module.name`` (then calls it)."""

    def __init__(self, monkeypatch, module, name):
        self.calls = []
        original = getattr(module, name)

        def spy(*args, **kwargs):
            self.calls.append((args, kwargs))
            return original(*args, **kwargs)
        monkeypatch.setattr(module, name, spy)


@pytest.fixture
def descent(monkeypatch):
    return Spy(monkeypatch, fasttsne.optim.descent, "gradient_descent")


@pytest.fixture
def cpus(monkeypatch):
    """This machine, as fasttsne sees it, has 3 usable cores."""
    monkeypatch.setattr(_threads, "available_cpus", lambda: 3)


@pytest.fixture
def query_threads(monkeypatch):
    """The thread counts neighbour backends resolve (``NeighborBackend.threads``)."""
    seen, threads = [], NeighborBackend.threads

    def recorded(self):
        seen.append(threads.fget(self))
        return seen[-1]
    monkeypatch.setattr(NeighborBackend, "threads", property(recorded))
    return seen


@pytest.fixture
def reference_threads(monkeypatch):
    """The ``n_jobs`` each gradient backend's ``reference()`` build is given."""
    seen = []
    for cls in {type(b) for b in (fasttsne.gradients.get_gradient(m, n_samples=N, n_components=2)
                                  for m in ("exact", "bh", "fft"))}:
        original = cls.reference

        def reference(self, Y_ref, dof, n_jobs=1, _original=original):
            seen.append(n_jobs)
            return _original(self, Y_ref, dof, n_jobs)
        monkeypatch.setattr(cls, "reference", reference)
    return seen


# ------------------------------------------------------------------ TSNE -> descent loop
SCHEDULE = [  # (parameter, value, what the descent loop of each phase receives)
    ("early_exaggeration", 7.0, lambda calls: calls[0][1]["exaggeration"]),
    ("exaggeration", 1.5, lambda calls: calls[1][1]["exaggeration"]),
    ("initial_momentum", 0.3, lambda calls: calls[0][1]["momentum"]),
    ("final_momentum", 0.6, lambda calls: calls[1][1]["momentum"]),
    ("learning_rate", 42.0, lambda calls: {c[1]["learning_rate"] for c in calls} == {42.0} and 42.0),
    ("max_grad_norm", 0.7, lambda calls: {c[1]["max_grad_norm"] for c in calls} == {0.7} and 0.7),
    ("max_step_norm", 2.5, lambda calls: {c[1]["max_step_norm"] for c in calls} == {2.5} and 2.5),
    ("early_exaggeration_iter", 4, lambda calls: calls[0][0][3]),
    ("n_iter", 5, lambda calls: calls[1][0][3]),
    ("callbacks_every_iters", 7, lambda calls: calls[0][1]["callbacks_every_iters"]),
    ("dof", 0.8, lambda calls: calls[0][0][1].dof),
]


@pytest.mark.parametrize("name, value, arrived", SCHEDULE, ids=[s[0] for s in SCHEDULE])
def test_tsne_schedule_parameter_reaches_the_descent_loop(X, descent, name, value, arrived):
    fasttsne.TSNE(**{**SMALL, name: value}).fit(X)
    assert arrived(descent.calls) == value


def test_tsne_auto_learning_rate_is_n_over_exaggeration_and_recorded(X, descent):
    embedding = fasttsne.TSNE(**SMALL).fit(X)
    assert [c[1]["learning_rate"] for c in descent.calls] == [N / 12, N / 1.0]
    assert [p.learning_rate for p in embedding.phases_] == [N / 12, N / 1.0]
    assert embedding.learning_rate_ == N


def test_tsne_callbacks_reach_the_descent_loop(X, descent):
    def callback(iteration, kl, positions):
        return False
    fasttsne.TSNE(**SMALL, callbacks=callback).fit(X)
    assert all(c[1]["callbacks"] == (callback,) for c in descent.calls)


def test_tsne_verbose_gives_the_descent_loop_a_progress_bar(X, descent, capsys):
    fasttsne.TSNE(**SMALL, verbose=True).fit(X)
    assert all(c[1]["progress"] is not None for c in descent.calls)


def test_a_callback_stop_skips_the_main_phase(X, descent):
    embedding = fasttsne.TSNE(**{**SMALL, "early_exaggeration_iter": 4}, callbacks_every_iters=2,
                              callbacks=lambda it, kl, pos: True).fit(X)
    assert len(descent.calls) == 1 and embedding.n_iter == 2 and len(embedding.phases_) == 1


# ------------------------------------------------------------------ TSNE -> other layers
def test_tsne_n_components_initialization_and_random_state_reach_the_initialisation(X, monkeypatch):
    spy = Spy(monkeypatch, fasttsne.tsne, "initial_positions")
    fasttsne.TSNE(**{**SMALL, "random_state": 11}, n_components=3, initialization="random").fit(X)
    (init, _, n_components, random_state), _ = spy.calls[0]
    assert (init, n_components, random_state) == ("random", 3, 11)


def test_tsne_affinity_and_neighbour_parameters_reach_the_model_and_the_backend(X):
    embedding = fasttsne.TSNE(**{**SMALL, "perplexity": 7}, neighbors="exact", metric="minkowski",
                              metric_params={"p": 3}).fit(X)
    index = embedding.affinities.index
    assert embedding.affinities.perplexity == 7
    assert (index.name, index.metric, index.metric_params) == ("exact", "minkowski", {"p": 3})


@pytest.mark.parametrize("method, params, attributes", [
    ("bh", {"theta": 0.3}, {"theta": 0.3}),
    ("fft", {"n_interpolation_points": 3, "min_num_intervals": 20, "ints_in_interval": 1.5},
     {"n_interpolation_points": 3, "min_num_intervals": 20, "ints_in_interval": 1.5}),
])
def test_tsne_gradient_parameters_reach_the_gradient_backend(X, descent, method, params, attributes):
    fasttsne.TSNE(**SMALL, negative_gradient_method=method, **params).fit(X)
    gradient = descent.calls[0][0][1].gradient
    assert gradient.name == method
    assert {k: getattr(gradient, k) for k in attributes} == attributes


def test_tsne_n_jobs_is_kept_as_given_and_resolved_in_every_stage(X, descent, cpus, query_threads, monkeypatch):
    calibration = Spy(monkeypatch, fasttsne.affinity.models, "conditional_probabilities")
    embedding = fasttsne.TSNE(**SMALL, n_jobs=-1).fit(X)
    assert embedding.n_jobs == -1 and embedding.affinities.n_jobs == -1
    assert embedding.affinities.index.n_jobs == -1
    assert set(query_threads) == {3}
    assert {args[2] for args, _ in calibration.calls} == {3}
    assert {c[1]["n_jobs"] for c in descent.calls} == {3}
    assert {c[0][1].n_jobs for c in descent.calls} == {3}  # the objective's kernels


# ------------------------------------------------------------------ optimize
@pytest.fixture(scope="module")
def small_map(X):
    return fasttsne.TSNE(**SMALL).fit(X)


def test_optimize_parameters_reach_the_descent_loop(small_map, descent):
    def callback(iteration, kl, positions):
        return False
    small_map.optimize(4, exaggeration=2.0, learning_rate=9.0, momentum=0.4, max_grad_norm=0.9,
                       max_step_norm=1.1, min_gain=0.05, n_jobs=2, callbacks=callback, callbacks_every_iters=3)
    (_, objective, _, n_iter), kwargs = descent.calls[0]
    assert n_iter == 4 and objective.n_jobs == 2
    assert {k: kwargs[k] for k in ("exaggeration", "learning_rate", "momentum", "max_grad_norm", "max_step_norm",
                                   "min_gain", "n_jobs", "callbacks", "callbacks_every_iters")} == dict(
        exaggeration=2.0, learning_rate=9.0, momentum=0.4, max_grad_norm=0.9, max_step_norm=1.1, min_gain=0.05,
        n_jobs=2, callbacks=(callback,), callbacks_every_iters=3)


def test_optimize_dof_and_method_reach_the_objective(small_map, descent):
    result = small_map.optimize(2, dof=0.7, negative_gradient_method="bh")
    objective = descent.calls[0][0][1]
    assert objective.dof == 0.7 and objective.gradient.name == "bh"
    assert (result.dof, small_map.dof) == (0.7, 1)  # the original is unchanged


def test_optimize_verbose_gives_the_descent_loop_a_progress_bar(small_map, descent, capsys):
    small_map.optimize(2, verbose=True)
    assert descent.calls[0][1]["progress"] is not None


def test_optimize_records_the_auto_learning_rate_of_its_exaggeration(small_map):
    assert small_map.optimize(1, exaggeration=4.0).learning_rate_ == N / 4.0


# ------------------------------------------------------------------ transform
def test_transform_schedule_parameters_reach_the_descent_loop(small_map, X, descent):
    small_map.transform(X[:5], learning_rate=0.3, early_exaggeration=3.0, early_exaggeration_iter=2,
                        exaggeration=1.2, n_iter=3, initial_momentum=0.1, final_momentum=0.2, max_grad_norm=0.4,
                        max_step_norm=0.6, callbacks_every_iters=9)
    (early, main) = descent.calls
    assert (early[0][3], early[1]["exaggeration"], early[1]["momentum"]) == (2, 3.0, 0.1)
    assert (main[0][3], main[1]["exaggeration"], main[1]["momentum"]) == (3, 1.2, 0.2)
    for _, kwargs in descent.calls:
        assert (kwargs["learning_rate"], kwargs["max_grad_norm"], kwargs["max_step_norm"],
                kwargs["callbacks_every_iters"], kwargs["center"]) == (0.3, 0.4, 0.6, 9, False)


def test_transform_perplexity_and_k_reach_the_affinities_and_the_query(small_map, X, monkeypatch):
    to_new = Spy(monkeypatch, type(small_map.affinities), "to_new")
    query = Spy(monkeypatch, type(small_map.affinities.index), "query")
    small_map.transform(X[:5], perplexity=2.0, k=20, n_iter=1)
    assert to_new.calls[0][1]["perplexity"] == 2.0
    assert query.calls[0][0][2] == 20  # max(k, 3 * perplexity)


def test_transform_initialization_and_random_state_reach_the_initialisation(small_map, X, monkeypatch):
    import fasttsne.embedding
    spy = Spy(monkeypatch, fasttsne.embedding, "initial_partial_positions")
    rng = np.random.default_rng(5)
    small_map.transform(X[:5], initialization="random", random_state=rng, n_iter=1)
    (initialization, _, _, _, random_state), _ = spy.calls[0]
    assert initialization == "random" and random_state is rng


def test_transform_n_jobs_reaches_every_stage(X, descent, cpus, query_threads, reference_threads, monkeypatch):
    embedding = fasttsne.TSNE(**SMALL, n_jobs=-1, negative_gradient_method="fft").fit(X)
    query_threads.clear()
    descent.calls.clear()
    calibration = Spy(monkeypatch, fasttsne.affinity.models, "conditional_probabilities")
    embedding.transform(X[:5], n_jobs=1, n_iter=2)
    assert set(query_threads) == {1}
    assert {args[2] for args, _ in calibration.calls} == {1}
    assert reference_threads == [1]
    assert {c[1]["n_jobs"] for c in descent.calls} == {1} and {c[0][1].n_jobs for c in descent.calls} == {1}


def test_transform_without_n_jobs_uses_the_maps_request_resolved_now(X, descent, cpus, query_threads,
                                                                     reference_threads):
    embedding = fasttsne.TSNE(**SMALL, n_jobs=-1, negative_gradient_method="fft").fit(X)
    query_threads.clear()
    descent.calls.clear()
    embedding.transform(X[:5], n_iter=2)
    assert set(query_threads) == {3} and reference_threads == [3]
    assert {c[1]["n_jobs"] for c in descent.calls} == {3}


def test_a_map_saved_with_all_cores_runs_with_the_cores_of_the_loading_machine(X, descent, query_threads,
                                                                               monkeypatch):
    monkeypatch.setattr(_threads, "available_cpus", lambda: 16)
    buffer = io.BytesIO()
    fasttsne.TSNE(**SMALL, n_jobs=-1).fit(X).save(buffer)
    monkeypatch.setattr(_threads, "available_cpus", lambda: 2)
    loaded = fasttsne.load(io.BytesIO(buffer.getvalue()))
    assert loaded.n_jobs == -1 and loaded.affinities.n_jobs == -1 and loaded.affinities.index.n_jobs == -1
    descent.calls.clear()
    query_threads.clear()
    loaded.optimize(2)
    loaded.transform(X[:4], n_iter=1)
    assert {c[1]["n_jobs"] for c in descent.calls} == {2}
    assert set(query_threads) == {2}


def test_the_saved_map_keeps_its_phases_and_learning_rates(small_map):
    buffer = io.BytesIO()
    small_map.save(buffer)
    loaded = fasttsne.load(io.BytesIO(buffer.getvalue()))
    assert loaded.phases_ == small_map.phases_ and loaded.learning_rate_ == small_map.learning_rate_


def test_a_backend_instance_is_checked_like_a_name(X):
    class NotABackend:
        pass
    with pytest.raises(fasttsne.InvalidParameterError, match="negative_gradient_method"):
        fasttsne.TSNE(**SMALL, negative_gradient_method=NotABackend()).fit(X)
    assert isinstance(fasttsne.gradients.get_gradient("bh", n_samples=N, n_components=2), NegativeGradient)
