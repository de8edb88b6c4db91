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


def colour_bar_label(ax):
    (bar_axes,) = [other for other in ax.figure.axes if other is not ax]
    return bar_axes.get_ylabel()


def test_the_colour_bar_carries_the_legend_title(ax, small_embedding):
    fasttsne.plot(small_embedding[0], np.linspace(0.0, 1.0, 200), ax=ax, legend_title="pseudotime")
    assert colour_bar_label(ax) == "pseudotime"


def test_a_named_series_labels_its_colour_bar_and_its_legend(ax):
    pd = pytest.importorskip("pandas")
    fasttsne.plot(np.arange(200.0).reshape(100, 2), pd.Series(np.linspace(0, 1, 100), name="depth"), ax=ax)
    assert colour_bar_label(ax) == "depth"
    fig, other = plt.subplots()
    try:
        fasttsne.plot(np.arange(8.0).reshape(4, 2), pd.Series(["a", "b", "a", "b"], name="batch"), ax=other)
        assert other.get_legend().get_title().get_text() == "batch"
    finally:
        plt.close(fig)


def oklab_distances(rgba):
    from fasttsne.palette import oklab
    lab = oklab(np.asarray(rgba)[:, :3])
    d = np.linalg.norm(lab[:, None, :] - lab[None, :, :], axis=2)
    return d[np.triu_indices(len(lab), 1)]


def test_many_categories_get_colours_far_apart_in_a_perceptual_space(ax):
    labels = np.repeat([f"cluster {i:02d}" for i in range(40)], 2)
    fasttsne.plot(np.arange(160.0).reshape(80, 2), labels, ax=ax)
    colours = np.unique(ax.collections[0].get_facecolors()[:, :3], axis=0)
    assert len(colours) == 40
    # a just-noticeable difference is about 0.02 in OKLab
    assert oklab_distances(colours).min() > 0.08


def test_colors_dict_sets_each_category_colour(ax):
    fasttsne.plot(np.arange(6.0).reshape(3, 2), ["a", "b", "a"], ax=ax, colors={"a": "red", "b": "blue"})
    colours = ax.collections[0].get_facecolors()
    assert tuple(colours[0][:3]) == (1.0, 0.0, 0.0) and tuple(colours[1][:3]) == (0.0, 0.0, 1.0)


def test_labels_of_the_wrong_length_are_rejected(ax, small_embedding):
    with pytest.raises(ValueError, match="labels has 3 entries but the embedding has 200 points"):
        fasttsne.plot(small_embedding[0], [1, 2, 3], ax=ax)


def test_three_dimensional_embeddings_are_rejected_with_a_hint(ax):
    with pytest.raises(ValueError, match=r"2-D and 1-D embeddings.*Y\[:, :2\]"):
        fasttsne.plot(np.zeros((5, 3)), ax=ax)


def test_missing_matplotlib_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)  # import fails as if not installed
    with pytest.raises(ImportError, match="pip install matplotlib"):
        fasttsne.plot(np.zeros((5, 2)))


# ---------------------------------------------------------------------------- 1-D maps
@pytest.mark.parametrize("shape", [(50,), (50, 1)])
def test_a_one_dimensional_map_is_drawn_as_a_strip_along_x(ax, shape):
    positions = np.linspace(-3.0, 3.0, 50)
    fasttsne.plot(positions.reshape(shape), ax=ax)
    drawn = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(drawn[:, 0], positions)
    assert np.all(np.abs(drawn[:, 1]) <= plotting.STRIP_JITTER) and len(ax.get_yticks()) == 0


def test_a_strip_is_the_same_picture_every_time():
    offsets = []
    for _ in range(2):
        ax = fasttsne.plot(np.linspace(0.0, 1.0, 30))
        offsets.append(np.array(ax.collections[0].get_offsets()))
        plt.close(ax.figure)
    np.testing.assert_array_equal(*offsets)


def test_heatmap_columns_follow_the_one_dimensional_map(ax):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    positions = rng.permutation(30).astype(float)
    plotting.heatmap(positions, X, ax=ax, feature_names=["a", "b", "c", "d"])
    drawn = ax.images[0].get_array()
    np.testing.assert_array_equal(drawn, X[np.argsort(positions)].T)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c", "d"]


def test_heatmap_label_strip_is_in_map_order_with_a_legend(ax):
    positions = np.array([3.0, 0.0, 2.0, 1.0])
    plotting.heatmap(positions, np.zeros((4, 2)), ["x", "y", "x", "y"], ax=ax, legend_title="kind")
    (strip,) = ax.child_axes
    cells = strip.images[0].get_array()[0]
    x, y = (matplotlib.colors.to_rgba(c) for c in plotting.categorical_colors(2))
    np.testing.assert_allclose(cells, [y, y, x, x])  # labels of points 1, 3, 2, 0
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["x", "y"]
    assert ax.get_legend().get_title().get_text() == "kind"


def test_heatmap_needs_a_one_dimensional_map(ax):
    with pytest.raises(ValueError, match=r"1-D embedding.*got shape \(5, 2\)"):
        plotting.heatmap(np.zeros((5, 2)), np.zeros((5, 3)), ax=ax)


def test_heatmap_data_must_have_one_row_per_point(ax):
    with pytest.raises(ValueError, match=r"N = 5 points.*got shape \(4, 3\)"):
        plotting.heatmap(np.zeros(5), np.zeros((4, 3)), ax=ax)


# ---------------------------------------------------------------------------- palette
def test_the_stored_palette_is_what_the_greedy_selection_gives():
    from fasttsne import palette
    assert list(palette.PALETTE) == palette.glasbey(palette.PALETTE_SIZE)


def test_the_palette_starts_with_tab10():
    from fasttsne import palette
    tab10 = [matplotlib.colors.to_hex(matplotlib.colormaps["tab10"](i)) for i in range(10)]
    assert list(palette.PALETTE[:10]) == tab10


def test_palette_colours_keep_away_from_the_background_and_the_missing_grey():
    from fasttsne import palette
    lab = palette.oklab(np.array([matplotlib.colors.to_rgb(c) for c in palette.PALETTE]))
    for avoided in ("#ffffff", plotting.MISSING_COLOR):
        reference = palette.oklab(np.array([matplotlib.colors.to_rgb(avoided)]))
        assert np.linalg.norm(lab[10:] - reference, axis=1).min() > 0.08


def test_more_colours_than_stored_extend_the_stored_palette():
    from fasttsne import palette
    colours = palette.categorical_colors(palette.PALETTE_SIZE + 5)
    assert colours[:palette.PALETTE_SIZE] == list(palette.PALETTE) and len(set(colours)) == len(colours)


def test_oklab_of_white_and_black():
    from fasttsne.palette import oklab
    np.testing.assert_allclose(oklab(np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])), [[1, 0, 0], [0, 0, 0]],
                               atol=1e-6)


# ---------------------------------------------------------------------------- the demo
def test_demo_writes_its_picture_and_prints_its_full_path(monkeypatch, digits, tmp_path, capsys):
    import fasttsne.datasets
    from fasttsne import cli
    X, y = digits
    monkeypatch.setattr(fasttsne.datasets, "load_digits", lambda: (X[:150], y[:150]))
    monkeypatch.chdir(tmp_path)
    assert cli.main(["demo", "--n-jobs", "1"]) == 0
    picture = tmp_path / "fasttsne-demo.png"
    assert picture.stat().st_size > 0
    assert capsys.readouterr().out.splitlines()[-1] == f"picture written to {picture}"
