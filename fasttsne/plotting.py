"""A scatter plot of a 2-D embedding that looks right without tuning (needs matplotlib).

Point size and transparency follow the number of points so that a few hundred points are
visible and a hundred thousand do not merge into blobs; labels get a categorical colour
each and a legend (or a colour bar when they are continuous numbers); the axes have equal
aspect, because t-SNE distances mean the same in both directions, and no ticks, because
the coordinates themselves mean nothing.
"""
import numpy as np

__all__ = ["plot", "point_size", "point_alpha"]

#: Marker area (points^2) is SIZE_SCALE / sqrt(N), clipped to [MIN_SIZE, MAX_SIZE].
SIZE_SCALE = 200.0
MIN_SIZE = 0.5
MAX_SIZE = 20.0
#: Opacity is ALPHA_SCALE / sqrt(N), clipped to [MIN_ALPHA, 1].
ALPHA_SCALE = 60.0
MIN_ALPHA = 0.2
#: Categories up to this many get tab10 / tab20 colours; more get evenly spaced hues.
_TAB10, _TAB20 = 10, 20
#: Above this many categories the legend would be unreadable: none is drawn.
MAX_LEGEND_ENTRIES = 40
#: Float labels with more distinct values than this are drawn with a colour map.
MAX_CATEGORIES_FOR_FLOATS = 30
#: Legend marker size, points (independent of the scatter's tiny markers).
_LEGEND_MARKER_SIZE = 6.0
#: Colour of points without a label (NaN or None).
MISSING_COLOR = "#bbbbbb"


def point_size(n):
    """Marker area in points^2 for ``n`` points."""
    return float(np.clip(SIZE_SCALE / np.sqrt(max(n, 1)), MIN_SIZE, MAX_SIZE))


def point_alpha(n):
    """Marker opacity in (0, 1] for ``n`` points."""
    return float(np.clip(ALPHA_SCALE / np.sqrt(max(n, 1)), MIN_ALPHA, 1.0))


def _import_pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("fasttsne.plot needs matplotlib, which is not installed: "
                          "pip install matplotlib (or pip install 'fasttsne[plot]').") from None
    return plt


def _positions(embedding):
    Y = np.asarray(embedding, dtype=np.float64)
    if Y.ndim != 2 or Y.shape[1] != 2:
        raise ValueError(f"plot draws 2-D embeddings, of shape (N, 2); got shape {Y.shape}"
                         + (": pass two of its columns, e.g. Y[:, :2]." if Y.ndim == 2 and Y.shape[1] > 2 else "."))
    return Y


def _categories(labels):
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
    try:
        names, inverse = np.unique(present, return_inverse=True)
    except TypeError:  # mixed types that do not sort: keep the order of first appearance
        names = list(dict.fromkeys(present.tolist()))
        index = {v: i for i, v in enumerate(names)}
        inverse = np.array([index[v] for v in present], dtype=np.int64)
    codes = np.full(len(values), -1, dtype=np.int64)
    codes[~missing] = inverse
    return codes, [str(n) for n in names]


def _is_continuous(labels):
    arr = np.asarray(labels)
    if arr.dtype.kind != "f":
        return False
    finite = arr[np.isfinite(arr)]
    return (not np.all(finite == np.round(finite))
            or len(np.unique(finite)) > MAX_CATEGORIES_FOR_FLOATS)


def _palette(n):
    import matplotlib
    if n <= _TAB10:
        return [matplotlib.colormaps["tab10"](i) for i in range(n)]
    if n <= _TAB20:
        return [matplotlib.colormaps["tab20"](i) for i in range(n)]
    hsv = matplotlib.colormaps["hsv"]
    return [hsv(i / n) for i in range(n)]


def plot(embedding, labels=None, ax=None, *, s=None, alpha=None, colors=None, cmap="viridis",
         legend=True, legend_title=None, title=None, **scatter_kwargs):
    """Scatter plot of a 2-D embedding, coloured by ``labels``.

    Parameters
    ----------
    embedding : Embedding, PartialEmbedding or (N, 2) array-like
        Positions to draw.
    labels : (N,) array-like, optional
        One label per point. Strings, integers, booleans and pandas categoricals are
        categories (one colour each, legend in sorted or categorical order; None/NaN are
        drawn grey and left out of the legend); floats that are not whole numbers, or
        that take more than 30 values, are continuous (colour map and colour bar).
    ax : matplotlib Axes, optional
        Draw here; by default a new 6 x 6 inch figure is made.
    s : float, optional
        Marker area in points^2 (default :func:`point_size` of N: 200 / sqrt(N) in [0.5, 20]).
    alpha : float, optional
        Marker opacity (default :func:`point_alpha` of N: 60 / sqrt(N) in [0.2, 1]).
    colors : dict or sequence, optional
        Colour per category, as a {label: colour} dict or a list in category order.
    cmap : str, default "viridis"
        Colour map of continuous labels.
    legend : bool, default True
        Draw a legend of the categories (up to 40) or a colour bar.
    legend_title, title : str, optional
    **scatter_kwargs
        Passed to ``Axes.scatter`` (e.g. ``rasterized=True``, ``marker``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ImportError
        When matplotlib is not installed.
    ValueError
        When the embedding is not (N, 2) or ``labels`` has another length.
    """
    plt = _import_pyplot()
    Y = _positions(embedding)
    n = Y.shape[0]
    if labels is not None and len(labels) != n:
        raise ValueError(f"labels has {len(labels)} entries but the embedding has {n} points.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 6))
    style = dict(s=point_size(n) if s is None else s, alpha=point_alpha(n) if alpha is None else alpha,
                 linewidths=0)
    style.update(scatter_kwargs)

    if labels is None:
        ax.scatter(Y[:, 0], Y[:, 1], **style)
    elif _is_continuous(labels):
        values = np.asarray(labels, dtype=np.float64)
        sc = ax.scatter(Y[:, 0], Y[:, 1], c=values, cmap=cmap, **style)
        if legend:
            bar = ax.figure.colorbar(sc, ax=ax, shrink=0.7)
            if legend_title:
                bar.set_label(legend_title)
    else:
        codes, names = _categories(labels)
        palette = _category_colors(names, colors)
        rgba = np.array([palette[c] if c >= 0 else _to_rgba(MISSING_COLOR) for c in codes]).reshape(n, 4)
        ax.scatter(Y[:, 0], Y[:, 1], c=rgba, **style)
        if legend and 0 < len(names) <= MAX_LEGEND_ENTRIES:
            _categorical_legend(ax, names, palette, legend_title)

    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax


def _to_rgba(color):
    from matplotlib.colors import to_rgba
    return to_rgba(color)


def _category_colors(names, colors):
    if colors is None:
        return [_to_rgba(c) for c in _palette(len(names))]
    if isinstance(colors, dict):
        lookup = {str(k): v for k, v in colors.items()}
        missing = [name for name in names if name not in lookup]
        if missing:
            raise ValueError(f"colors has no entry for the label(s) {missing[:5]}.")
        return [_to_rgba(lookup[name]) for name in names]
    colors = list(colors)
    if len(colors) < len(names):
        raise ValueError(f"colors has {len(colors)} entries for {len(names)} categories.")
    return [_to_rgba(c) for c in colors[:len(names)]]


def _categorical_legend(ax, names, palette, title):
    from matplotlib.lines import Line2D
    handles = [Line2D([], [], linestyle="", marker="o", markersize=_LEGEND_MARKER_SIZE,
                      markerfacecolor=color, markeredgewidth=0, label=name)
               for name, color in zip(names, palette)]
    # outside the axes on the right: an embedding has no empty corner to put it in
    ax.legend(handles=handles, title=title, loc="center left", bbox_to_anchor=(1.0, 0.5),
              frameon=False, fontsize="small", ncol=1 if len(names) <= _TAB20 else 2)
