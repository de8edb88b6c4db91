"""The one registry of neighbour and gradient backends: names, aliases, entry-point plugins,
naming a class without constructing it, and the gradient parameters a backend must take."""
import os

import numpy as np
import pytest

import fasttsne
from fasttsne import gradients, neighbors, registry
from fasttsne._params import InvalidParameterError
from fasttsne.gradients import BarnesHut, ExactGradient, FFTInterpolation, get_gradient
from fasttsne.neighbors import Exact

PLUGIN_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plugin")


@pytest.fixture
def restored(monkeypatch):
    """Every kind's registrations, restored after the test."""
    for kind in (neighbors.KIND, gradients.KIND):
        entry = registry._kind(kind)
        monkeypatch.setattr(entry, "classes", dict(entry.classes))
        monkeypatch.setattr(entry, "aliases", dict(entry.aliases))


@pytest.fixture
def plugin(restored, monkeypatch):
    """The demo plugin installed (its folder on sys.path, as pip would put it)."""
    monkeypatch.syspath_prepend(PLUGIN_DIR)


# -- names ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, name, cls", [
    ("neighbors", "exact", Exact), ("gradients", "bh", BarnesHut), ("gradients", "fft", FFTInterpolation)])
def test_lookup_returns_the_class_registered_under_a_name(kind, name, cls):
    assert registry.lookup(kind, name) is cls


def test_lookup_follows_aliases_to_the_class():
    assert registry.lookup("gradients", "barnes-hut") is BarnesHut


def test_name_of_gives_the_registered_name_not_an_alias():
    assert registry.name_of("gradients", BarnesHut) == "bh"


def test_name_of_names_a_class_without_constructing_it(restored):
    class Unbuildable(ExactGradient):
        def __init__(self):
            raise AssertionError("constructed")

    gradients.register("unbuildable", Unbuildable)
    assert registry.name_of("gradients", Unbuildable) == "unbuildable"


def test_name_of_an_unregistered_class_says_how_to_register_it():
    class Stray(ExactGradient):
        pass

    with pytest.raises(LookupError, match=r"registry.register\('gradients', name, cls\)"):
        registry.name_of("gradients", Stray)


def test_unknown_name_is_an_invalid_parameter_listing_auto_and_the_names():
    with pytest.raises(InvalidParameterError, match="unknown negative_gradient_method 'nope'; "
                                                    "available: auto, bh, exact, fft"):
        registry.lookup("gradients", "nope")


def test_available_lists_names_not_aliases():
    assert "barnes-hut" not in registry.available("gradients")
    assert {"bh", "exact", "fft"} <= set(registry.available("gradients"))


def test_register_refuses_a_class_of_another_kind(restored):
    with pytest.raises(TypeError, match="NegativeGradient"):
        registry.register("gradients", "wrong", Exact)


def test_register_refuses_the_reserved_name_auto(restored):
    with pytest.raises(InvalidParameterError, match="'auto'"):
        registry.register("neighbors", "auto", Exact)


def test_unknown_kind_is_refused_naming_the_declared_ones():
    with pytest.raises(ValueError, match="unknown registry kind 'colours'.*gradients.*neighbors"):
        registry.lookup("colours", "red")


# -- entry points --------------------------------------------------------------------------

def test_gradient_entry_point_is_listed_before_it_is_loaded(plugin):
    assert "demo-gradient" in gradients.available()
    assert "demo-gradient" not in registry.registered("gradients")


def test_gradient_entry_point_is_loaded_by_name(plugin):
    backend = get_gradient("demo-gradient", n_samples=100, n_components=2)
    assert type(backend).__module__ == "fasttsne_demo_plugin"


def test_embedding_with_a_plugin_gradient_saves_and_loads_by_its_name(plugin, digits, tmp_path):
    X = digits[0][:200]
    emb = fasttsne.TSNE(negative_gradient_method="demo-gradient", perplexity=5, early_exaggeration_iter=5,
                        n_iter=5, random_state=0).fit(X)
    emb.save(tmp_path / "m")
    loaded = fasttsne.load(tmp_path / "m")
    assert type(loaded.gradient).__name__ == "DemoGradient"
    assert np.array_equal(loaded.optimize(3), emb.optimize(3))


# -- gradient parameters -------------------------------------------------------------------

def test_a_parameter_the_chosen_method_does_not_take_is_refused():
    with pytest.raises(InvalidParameterError, match="'bh' does not take n_interpolation_points.*theta"):
        get_gradient("bh", n_samples=100, n_components=2, n_interpolation_points=3)


def test_defaults_reach_the_method_that_takes_them_and_skip_the_others():
    shared = dict(theta=0.3, n_interpolation_points=3)
    assert get_gradient("bh", n_samples=100, n_components=2, defaults=shared).theta == 0.3
    assert get_gradient("fft", n_samples=100, n_components=2, defaults=shared).n_interpolation_points == 3


def test_a_default_no_method_takes_is_refused():
    with pytest.raises(InvalidParameterError, match="no negative_gradient_method takes thetta"):
        get_gradient("bh", n_samples=100, n_components=2, defaults={"thetta": 0.5})


def test_parameters_with_a_backend_instance_are_refused():
    with pytest.raises(InvalidParameterError, match="set them on the instance"):
        get_gradient(BarnesHut(), n_samples=100, n_components=2, theta=0.2)


def test_saving_an_embedding_whose_backend_class_is_not_registered_says_how_to_register_it(digits, tmp_path):
    class Unlisted(Exact):
        pass

    emb = fasttsne.TSNE(neighbors=Unlisted(), perplexity=5, early_exaggeration_iter=2, n_iter=2,
                        negative_gradient_method="exact", random_state=0).fit(digits[0][:100])
    with pytest.raises(TypeError, match=r"cannot save .*registry.register\('neighbors', name, cls\)"):
        emb.save(tmp_path / "m")
    assert not os.path.exists(tmp_path / "m")


def test_an_alias_cannot_take_over_another_class_name(restored):
    class Other(ExactGradient):
        pass

    with pytest.raises(InvalidParameterError, match="'bh' already names another"):
        gradients.register("other", Other, aliases=("bh",))
    assert registry.lookup("gradients", "bh") is BarnesHut
