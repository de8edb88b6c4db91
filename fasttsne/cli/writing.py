"""Writing the results: positions (.npy or a text table) and pictures, each destination checked
before any work so that a typo in an output path costs nothing."""
import os

import numpy as np

from .errors import UserError
from .reading import TABLE_DELIMITERS, extension

__all__ = ["write_positions", "check_writable", "save_plot", "require_matplotlib", "check_2d", "OUTPUT_FORMATS"]

OUTPUT_FORMATS = (".npy", ".csv", ".tsv")
#: Significant digits of positions written to text files.
_TEXT_DIGITS = 9


def check_writable(path, formats, what):
    """Raise UserError unless ``path`` ends in one of ``formats`` (None: any) and its folder exists."""
    ext = extension(path)
    if formats is not None and ext not in formats:
        raise UserError(f"{what} {path!r} must end in one of {', '.join(formats)}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot write {what} {path!r}: folder {folder!r} does not exist.")


def write_positions(path, Y):
    """Write (N, d) positions to ``.npy`` or to a ``.csv``/``.tsv`` table with a header."""
    ext = extension(path)
    if ext == ".npy":
        with open(path, "wb") as f:  # np.save(path) would append ".npy" to other names
            np.save(f, Y)
        return
    delimiter = TABLE_DELIMITERS[ext]
    header = delimiter.join(f"tsne_{i + 1}" for i in range(Y.shape[1]))
    np.savetxt(path, Y, delimiter=delimiter, header=header, comments="", fmt=f"%.{_TEXT_DIGITS}g")


def save_plot(path, draw):
    """Draw with ``draw(ax)`` on a fresh figure and write it to ``path`` (PNG, PDF, SVG ...)."""
    import matplotlib
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 6))
    try:
        draw(ax)
        fig.savefig(path, dpi=150, bbox_inches="tight")
    finally:
        plt.close(fig)


def has_matplotlib():
    """Whether matplotlib (an optional dependency) can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def require_matplotlib():
    """Raise UserError, with the command that installs it, when matplotlib is missing."""
    if not has_matplotlib():
        raise UserError("--plot needs matplotlib: pip install matplotlib (or pip install 'fasttsne[plot]').")


def check_2d(d):
    """Raise UserError unless the embedding has 2 dimensions (the only ones ``--plot`` draws)."""
    if d != 2:
        raise UserError(f"--plot draws 2-D embeddings; this one has {d} dimensions.")
