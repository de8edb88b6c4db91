"""Pictures of embeddings that look right without tuning (matplotlib).

:func:`plot` draws a 2-D map as a scatter plot and a 1-D map as a strip; :func:`heatmap`
draws a data matrix with its points ordered by a 1-D map (the use of 1-D t-SNE).
Point size and transparency follow the number of points so that a few hundred points are
visible and a hundred thousand do not merge into blobs; categorical labels get a colour each
from :mod:`fasttsne.palette` (distinguishable past 20 categories) and a legend, numeric labels a
colour map and a labelled colour bar; a 2-D map has equal aspect, because t-SNE distances mean
the same in both directions, and no ticks, because the coordinates themselves mean nothing.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from .palette import categorical_colors

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot", "heatmap", "point_size", "point_alpha"]

#: Marker area (points^2) is SIZE_SCALE / sqrt(N), clipped to [MIN_SIZE, MAX_SIZE].
SIZE_SCALE = 200.0
MIN_SIZE = 0.5
MAX_SIZE = 20.0
#: Opacity is ALPHA_SCALE / sqrt(N), clipped to [MIN_ALPHA, 1].
ALPHA_SCALE = 60.0
MIN_ALPHA = 0.2
#: Above this many categories the legend would be unreadable: none is drawn.
MAX_LEGEND_ENTRIES = 40
#: Legends with more entries than this use two columns.
ONE_COLUMN_LEGEND_ENTRIES = 20
#: Entries per row of a legend below the axes.
LEGEND_ROW_ENTRIES = 8
#: Float labels with more distinct values than this are drawn with a colour map.
MAX_CATEGORIES_FOR_FLOATS = 30
#: Legend marker size, points (independent of the scatter's tiny markers).
_LEGEND_MARKER_SIZE = 6.0
#: Colour of points without a label (NaN or None).
MISSING_COLOR = "#bbbbbb"
#: A 1-D map's strip: points are spread vertically over +-STRIP_JITTER so that they do not hide each other.
STRIP_JITTER = 0.4
#: Height of the label strip above a heatmap, as a fraction of the heatmap's height.
LABEL_STRIP_HEIGHT = 0.05

RGBA = Tuple[float, float, float, float]
Colors = Union[Mapping[Any, Any], Sequence[Any]]


def point_size(n: int) -> float:
    """Marker area in points^2 for ``n`` points."""
    return float(np.clip(SIZE_SCALE / np.sqrt(max(n, 1)), MIN_SIZE, MAX_SIZE))


def point_alpha(n: int) -> float:
    """Marker opacity in (0, 1] for ``n`` points."""
    return float(np.clip(ALPHA_SCALE / np.sqrt(max(n, 1)), MIN_ALPHA, 1.0))


def _import_pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("fasttsne.plot needs matplotlib, which is not installed: "
                          "python -m pip install matplotlib") from None
    return plt


def _positions(embedding: Any) -> np.ndarray:
    """(N, 2) positions of a 2-D map or (N, 1) of a 1-D map (an (N,) array counts as 1-D)."""
    Y = np.asarray(embedding, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.ndim != 2 or Y.shape[1] not in (1, 2):
        hint = ": pass two of its columns, e.g. Y[:, :2]." if Y.ndim == 2 and Y.shape[1] > 2 else "."
        raise ValueError(f"plot draws 2-D and 1-D embeddings, of shape (N, 2), (N, 1) or (N,); "
                         f"got shape {Y.shape}{hint}")
    return Y


def _categories(labels: Any) -> Tuple[np.ndarray, List[str]]:
    """(codes, names) of categorical labels; code -1 marks a missing label.

    pandas Categoricals keep their own category order; anything else is sorted.
    """
    cats = getattr(getattr(labels, "cat", None), "categories", None)
    if cats is None:
        cats = getattr(labels, "categories", None)  # a bare pandas.Categorical
    if cats is not None:
        codes = np.asarray(getattr(labels, "cat", labels).codes, dtype=np.int64)
        return codes, [str(c) for c in cats]
    values = np.asarray(labels, dtype=object)
    missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in values], dtype=bool)
    present = values[~missing]
    names: Any
    try:
        names, inverse = np.unique(present, return_inverse=True)
    except TypeError:  # mixed types that do not sort: keep the order of first appearance
        names = list(dict.fromkeys(present.tolist()))
        index = {v: i for i, v in enumerate(names)}
        inverse = np.array([index[v] for v in present], dtype=np.int64)
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[~missing] = inverse
    return codes, [str(n) for n in names]


def _is_continuous(labels: Any) -> bool:
    arr = np.asarray(labels)
    if arr.dtype.kind != "f":
        return False
    finite = arr[np.isfinite(arr)]
    return bool(not np.all(finite == np.round(finite))
                or len(np.unique(finite)) > MAX_CATEGORIES_FOR_FLOATS)


def _title_of(labels: Any, given: Optional[str]) -> Optional[str]:
    """The legend / colour bar title: the one given, else the name of a pandas Series."""
    if given is not None:
        return given
    name = getattr(labels, "name", None)
    return str(name) if name is not None else None


def _check_labels(labels: Any, n: int) -> None:
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but the embedding has {n} points.")


def plot(embedding: Any, labels: Any = None, ax: Optional["Axes"] = None, *, s: Optional[float] = None,
         alpha: Optional[float] = None, colors: Optional[Colors] = None, cmap: str = "viridis",
         legend: bool = True, legend_title: Optional[str] = None, title: Optional[str] = None,
         **scatter_kwargs: Any) -> "Axes":
    """Scatter plot of a 2-D embedding, or a strip of a 1-D one, coloured by ``labels``.

    Parameters
    ----------
    embedding : Embedding, PartialEmbedding or array-like of shape (N, 2), (N, 1) or (N,)
        Positions to draw. A 1-D map is drawn as a horizontal strip: the position along x,
        the points spread at random (fixed seed) over a band in y so that they do not hide
        each other.
    labels : (N,) array-like, optional
        One label per point. Strings, integers, booleans and pandas categoricals are
        categories (one colour each from :func:`fasttsne.palette.categorical_colors`, legend
        in sorted or categorical order; None/NaN are drawn grey and left out of the legend);
        floats that are not whole numbers, or that take more than 30 values, are numeric
        (colour map and a colour bar).
    ax : matplotlib Axes, optional
        Draw here; by default a new figure is made (6 x 6 inches, 8 x 2 for a strip).
    s : float, optional
        Marker area in points^2 (default :func:`point_size` of N: 200 / sqrt(N) in [0.5, 20]).
    alpha : float, optional
        Marker opacity (default :func:`point_alpha` of N: 60 / sqrt(N) in [0.2, 1]).
    colors : dict or sequence, optional
        Colour per category, as a {label: colour} dict or a list in category order.
    cmap : str, default "viridis"
        Colour map of numeric labels.
    legend : bool, default True
        Draw a legend of the categories (up to 40) or a colour bar.
    legend_title : str, optional
        Title of the legend, or label of the colour bar (default: the name of ``labels``
        when it is a pandas Series).
    title : str, optional
        Title of the axes.
    **scatter_kwargs
        Passed to ``Axes.scatter`` (e.g. ``rasterized=True``, ``marker``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        When the embedding is not 1-D or 2-D, or ``labels`` has another length.
    """
    plt = _import_pyplot()
    Y = _positions(embedding)
    n = Y.shape[0]
    _check_labels(labels, n)
    strip = Y.shape[1] == 1
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2) if strip else (6, 6))
    if strip:  # a fixed seed: the same map gives the same picture
        jitter = np.random.default_rng(0).uniform(-STRIP_JITTER, STRIP_JITTER, n)
        Y = np.column_stack([Y[:, 0], jitter])
    style: Dict[str, Any] = dict(s=point_size(n) if s is None else s,
                                 alpha=point_alpha(n) if alpha is None else alpha, linewidths=0)
    style.update(scatter_kwargs)
    _colored_scatter(ax, Y, labels, style, colors=colors, cmap=cmap, legend=legend,
                     legend_title=_title_of(labels, legend_title))
    if strip:
        ax.set_ylim(-0.5, 0.5)
        ax.set_yticks([])
        ax.set_xlabel("position on the 1-D map")
    else:
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def _colored_scatter(ax: "Axes", Y: np.ndarray, labels: Any, style: Dict[str, Any], *,
                     colors: Optional[Colors], cmap: str, legend: bool, legend_title: Optional[str]) -> None:
    """Scatter ``Y`` coloured by ``labels``, with a legend or a colour bar."""
    if labels is None:
        ax.scatter(Y[:, 0], Y[:, 1], **style)
    elif _is_continuous(labels):
        sc = ax.scatter(Y[:, 0], Y[:, 1], c=np.asarray(labels, dtype=np.float64), cmap=cmap, **style)
        if legend:
            _colour_bar(ax, sc, legend_title)
    else:
        codes, names = _categories(labels)
        palette = _category_colors(names, colors)
        ax.scatter(Y[:, 0], Y[:, 1], c=_code_colors(codes, palette), **style)
        if legend and 0 < len(names) <= MAX_LEGEND_ENTRIES:
            _categorical_legend(ax, names, palette, legend_title)


def _colour_bar(ax: "Axes", mappable: Any, label: Optional[str]) -> Any:
    bar = ax.figure.colorbar(mappable, ax=ax, shrink=0.7)
    if label:
        bar.set_label(label)
    return bar


def _code_colors(codes: np.ndarray, palette: List[RGBA]) -> np.ndarray:
    """(N, 4) RGBA of category codes; code -1 (missing) is grey."""
    table = np.array(palette + [_to_rgba(MISSING_COLOR)], dtype=np.float64)
    return table[np.where(codes >= 0, codes, len(palette))]


def heatmap(embedding: Any, X: Any, labels: Any = None, ax: Optional["Axes"] = None, *,
            feature_names: Optional[Sequence[Any]] = None, cmap: str = "viridis",
            colors: Optional[Colors] = None, value_label: Optional[str] = None,
            legend: bool = True, legend_title: Optional[str] = None,
            title: Optional[str] = None) -> "Axes":
    """Heatmap of a data matrix with its points ordered along a 1-D map.

    1-D t-SNE puts similar points next to each other, so a heatmap whose columns follow the
    map shows blocks of similar profiles where an arbitrary order shows noise.

    Parameters
    ----------
    embedding : Embedding or array-like of shape (N, 1) or (N,)
        A 1-D map of the N points; the columns of the heatmap follow its positions, left to right.
    X : (N, F) array-like
        The values to draw: one row per point, one column per feature (drawn as heatmap rows).
    labels : (N,) array-like, optional
        Drawn as a strip of colours above the heatmap, with a legend (or a colour bar for
        numeric labels), as in :func:`plot`.
    ax : matplotlib Axes, optional
        Draw here; by default a new 8 x 4 inch figure is made.
    feature_names : sequence of F labels, optional
        Tick labels of the heatmap's rows.
    cmap : str, default "viridis"
        Colour map of the values.
    colors : dict or sequence, optional
        Colours of the label categories, as in :func:`plot`.
    value_label : str, optional
        Label of the values' colour bar.
    legend : bool, default True
        Draw the labels' legend.
    legend_title : str, optional
        Title of the labels' legend (default: the name of a pandas Series).
    title : str, optional
        Title of the axes.

    Returns
    -------
    matplotlib.axes.Axes
        The heatmap's axes (the label strip is an inset of it).

    Raises
    ------
    ValueError
        When the embedding is not 1-D, or ``X`` or ``labels`` has another number of points.
    """
    plt = _import_pyplot()
    Y = np.asarray(embedding, dtype=np.float64)
    if not (Y.ndim == 1 or (Y.ndim == 2 and Y.shape[1] == 1)):
        raise ValueError(f"heatmap orders points by a 1-D embedding, of shape (N, 1) or (N,); got shape {Y.shape}.")
    order = np.argsort(Y.reshape(-1), kind="stable")
    values = np.asarray(X, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != len(order):
        raise ValueError(f"X must be (N, F) with N = {len(order)} points of the embedding; got shape {values.shape}.")
    _check_labels(labels, len(order))
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    image = ax.imshow(values[order].T, aspect="auto", interpolation="nearest", cmap=cmap)
    _colour_bar(ax, image, value_label)
    ax.set_xticks([])
    ax.set_xlabel("points, in the order of the 1-D map")
    if feature_names is not None:
        ax.set_yticks(np.arange(values.shape[1]), [str(f) for f in feature_names])
    else:
        ax.set_yticks([])
    top = ax
    if labels is not None:
        top = _label_strip(ax, _reordered(labels, order), colors=colors, legend=legend,
                           legend_title=_title_of(labels, legend_title))
    if title:
        top.set_title(title)
    return ax


def _reordered(labels: Any, order: np.ndarray) -> Any:
    """``labels`` in ``order``, keeping a pandas Series' or Categorical's categories."""
    if hasattr(labels, "iloc"):
        return labels.iloc[order]
    if hasattr(labels, "categories"):
        return labels[order]
    return np.asarray(labels)[order]


def _label_strip(ax: "Axes", ordered_labels: Any, *, colors: Optional[Colors], legend: bool,
                 legend_title: Optional[str]) -> "Axes":
    """A row of label colours along the top of a heatmap, one cell per point."""
    strip = ax.inset_axes((0.0, 1.0 + LABEL_STRIP_HEIGHT / 2, 1.0, LABEL_STRIP_HEIGHT))
    n = len(ordered_labels)
    if _is_continuous(ordered_labels):
        image = strip.imshow(np.asarray(ordered_labels, dtype=np.float64)[None, :], aspect="auto",
                             interpolation="nearest", cmap="cividis")
        if legend:
            _colour_bar(strip, image, legend_title)
    else:
        codes, names = _categories(ordered_labels)
        palette = _category_colors(names, colors)
        strip.imshow(_code_colors(codes, palette).reshape(1, n, 4), aspect="auto", interpolation="nearest")
        if legend and 0 < len(names) <= MAX_LEGEND_ENTRIES:
            _categorical_legend(ax, names, palette, legend_title, below=True)
    strip.set_xticks([])
    strip.set_yticks([])
    return strip


def _to_rgba(color: Any) -> RGBA:
    from matplotlib.colors import to_rgba
    return to_rgba(color)


def _category_colors(names: List[str], colors: Optional[Colors]) -> List[RGBA]:
    if colors is None:
        return [_to_rgba(c) for c in categorical_colors(len(names))]
    if isinstance(colors, Mapping):
        lookup = {str(k): v for k, v in colors.items()}
        missing = [name for name in names if name not in lookup]
        if missing:
            raise ValueError(f"colors has no entry for the label(s) {missing[:5]}.")
        return [_to_rgba(lookup[name]) for name in names]
    listed = list(colors)
    if len(listed) < len(names):
        raise ValueError(f"colors has {len(listed)} entries for {len(names)} categories.")
    return [_to_rgba(c) for c in listed[:len(names)]]


def _categorical_legend(ax: "Axes", names: List[str], palette: List[RGBA], title: Optional[str],
                        below: bool = False) -> None:
    """A legend outside the axes: on the right (an embedding has no empty corner to put it in),
    or ``below`` them when a colour bar takes the right."""
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], linestyle="", marker="o", markersize=_LEGEND_MARKER_SIZE,
                      markerfacecolor=color, markeredgewidth=0, label=name)
               for name, color in zip(names, palette)]
    if below:
        ax.legend(handles=handles, title=title, frameon=False, fontsize="small", loc="upper center",
                  bbox_to_anchor=(0.5, -0.1), ncol=min(len(names), LEGEND_ROW_ENTRIES))
    else:
        ax.legend(handles=handles, title=title, frameon=False, fontsize="small", loc="center left",
                  bbox_to_anchor=(1.0, 0.5), ncol=1 if len(names) <= ONE_COLUMN_LEGEND_ENTRIES else 2)
