"""Argument parsing shared by the commands: the parser class, the input options of ``embed``
and ``transform``, and option types checked against the parameter table."""
import argparse

from .._params import InvalidParameterError, check
from .errors import EXIT_USAGE

__all__ = ["Parser", "add_input_options", "add_verbosity", "table_value", "sample_size"]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at ``--help``."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _number_or_text(text):
    """``text`` as an int, else a float, else unchanged (a word such as 'auto')."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def table_value(table, name):
    """An argparse type for parameter ``name`` of ``table`` (a :mod:`fasttsne._params` table).

    The text becomes a number where it reads as one (else it stays a word, such as 'auto') and
    must then be a value the table accepts; otherwise argparse reports the table's message,
    e.g. ``n_iter must be a non-negative integer or 'auto', got 'many'.``
    """
    def convert(text):
        value = _number_or_text(text)
        try:
            check(table, {name: value})
        except InvalidParameterError as e:
            raise argparse.ArgumentTypeError(str(e).rstrip(".")) from None
        return value
    convert.__name__ = name  # argparse names the type in some messages
    return convert


def sample_size(text):
    """--sample-size: 'auto' or a positive integer."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive integer, got {text!r}")
    return int(text)


def add_verbosity(p, verbose_help, quiet_help):
    """-v/--verbose and -q/--quiet; neither leaves ``args.verbose`` None (see console.verbose)."""
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true", default=None, help=verbose_help)
    loud.add_argument("-q", "--quiet", action="store_false", dest="verbose", help=quiet_help)


def add_input_options(p):
    """The options of ``embed`` and ``transform`` about reading INPUT, threads, seed and output."""
    p.add_argument("--labels", metavar="LABELS",
                   help="labels for the plot: a file with one label per row (.npy or text), or a column of "
                        "INPUT (a .csv/.tsv column name or 0-based number, which is then not a feature; an "
                        ".npz array; an .h5ad obs column)")
    p.add_argument("--key", metavar="NAME", help=".npz input: the array to use (default 'X' or the only 2-D array); "
                                              "transform's .zarr input: the array in a zarr group")
    p.add_argument("--use-rep", metavar="NAME",
                   help=".h5ad input: obsm key to use, or 'X' (default 'X_pca' when present, else 'X')")
    p.add_argument("--drop", metavar="COLS", help=".csv/.tsv input: comma-separated columns that are not features")
    p.add_argument("--n-jobs", type=int, default=1, metavar="N",
                   help="threads; -1 for all cores (default 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0: runs are reproducible)")
    p.add_argument("--plot", metavar="PNG", help="also draw the embedding to this image (needs matplotlib)")
    add_verbosity(p, "timing per phase and a progress bar (default when standard error is a terminal)",
                  "no timings or progress bar")
