"""fasttsne.plot: a readable scatter of a 2-D embedding, with matplotlib as an optional dependency."""
import sys

import numpy as np
import pytest

import fasttsne
from fasttsne import plotting

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


@pytest.fixture
def ax():
    fig, ax = plt.subplots()
    yield ax
    plt.close(fig)


@pytest.fixture(scope="module")
def small_embedding(digits):
    X, y = digits
    emb = fasttsne.TSNE(early_exaggeration_iter=20, n_iter=30, random_state=0).fit(X[:200])
    return emb, y[:200]


def test_plot_returns_the_axes_it_drew_on(ax, small_embedding):
    emb, _ = small_embedding
    assert fasttsne.plot(emb, ax=ax) is ax
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.asarray(emb))


def test_plot_makes_a_figure_when_no_axes_is_given(small_embedding):
    emb, _ = small_embedding
    ax = fasttsne.plot(emb)
    try:
        assert ax.figure is not None and len(ax.collections) == 1
    finally:
        plt.close(ax.figure)


def test_axes_have_equal_aspect_and_no_ticks(ax, small_embedding):
    fasttsne.plot(small_embedding[0], ax=ax)
    assert ax.get_aspect() == 1.0
    assert len(ax.get_xticks()) == 0 and len(ax.get_yticks()) == 0


def test_points_get_smaller_and_more_transparent_as_n_grows():
    sizes = [plotting.point_size(n) for n in (100, 10_000, 1_000_000)]
    alphas = [plotting.point_alpha(n) for n in (100, 10_000, 1_000_000)]
    assert sizes[0] > sizes[1] > sizes[2] >= plotting.MIN_SIZE
    assert alphas[0] > alphas[1] > alphas[2] >= plotting.MIN_ALPHA
    assert plotting.point_size(10) == plotting.MAX_SIZE and plotting.point_alpha(10) == 1.0


def test_default_marker_size_and_alpha_follow_n(ax, small_embedding):
    emb, _ = small_embedding
    fasttsne.plot(emb, ax=ax)
    sc = ax.collections[0]
    assert sc.get_sizes()[0] == pytest.approx(plotting.point_size(200))
    assert sc.get_alpha() == pytest.approx(plotting.point_alpha(200))


def test_categorical_labels_get_one_legend_entry_and_colour_each(ax, small_embedding):
    emb, y = small_embedding
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])[y]
    fasttsne.plot(emb, names, ax=ax, legend_title="digit")
    legend = ax.get_legend()
    assert sorted(t.get_text() for t in legend.get_texts()) == sorted(set(names))
    assert legend.get_title().get_text() == "digit"
    colours = ax.collections[0].get_facecolors()
    for name in set(names):
        assert len({tuple(c) for c in colours[names == name]}) == 1
    assert len({tuple(c) for c in colours}) == 10


def test_pandas_categorical_labels_keep_their_category_order(ax):
    pd = pytest.importorskip("pandas")
    labels = pd.Series(pd.Categorical(["b", "a", "c", "a"], categories=["c", "b", "a"]))
    fasttsne.plot(np.arange(8.0).reshape(4, 2), labels, ax=ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["c", "b", "a"]


def test_missing_labels_are_grey_and_not_in_the_legend(ax):
    fasttsne.plot(np.arange(8.0).reshape(4, 2), ["a", None, "b", np.nan], ax=ax)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    grey = matplotlib.colors.to_rgba(plotting.MISSING_COLOR)
    colours = ax.collections[0].get_facecolors()
    assert tuple(colours[1]) == pytest.approx(grey) and tuple(colours[3]) == pytest.approx(grey)


def test_continuous_labels_get_a_colour_bar_not_a_legend(ax, small_embedding):
    emb, _ = small_embedding
    fasttsne.plot(emb, np.linspace(0.0, 1.0, 200), ax=ax)
    assert ax.get_legend() is None
    assert len(ax.figure.axes) == 2  # the colour bar's


def test_colors_dict_sets_each_category_colour(ax):
    fasttsne.plot(np.arange(6.0).reshape(3, 2), ["a", "b", "a"], ax=ax, colors={"a": "red", "b": "blue"})
    colours = ax.collections[0].get_facecolors()
    assert tuple(colours[0][:3]) == (1.0, 0.0, 0.0) and tuple(colours[1][:3]) == (0.0, 0.0, 1.0)


def test_labels_of_the_wrong_length_are_rejected(ax, small_embedding):
    with pytest.raises(ValueError, match="labels has 3 entries but the embedding has 200 points"):
        fasttsne.plot(small_embedding[0], [1, 2, 3], ax=ax)


def test_three_dimensional_embeddings_are_rejected_with_a_hint(ax):
    with pytest.raises(ValueError, match=r"2-D embeddings.*Y\[:, :2\]"):
        fasttsne.plot(np.zeros((5, 3)), ax=ax)


def test_missing_matplotlib_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if not installed
    with pytest.raises(ImportError, match="pip install matplotlib"):
        fasttsne.plot(np.zeros((5, 2)))
