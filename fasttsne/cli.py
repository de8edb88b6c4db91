"""Command-line interface: ``fasttsne <command>`` or ``python -m fasttsne <command>``.

Commands: ``embed`` (data file -> positions, optionally a plot and a reference map),
``transform`` (place new points into a saved map; on a Dask cluster with ``--scheduler``),
``score`` (the quality report of a saved map) and ``demo``. Mistakes a user can make
(a missing file, a wrong column, a bad value) end with one line on standard error,
``fasttsne: error: ...``, and exit status 2; never a traceback.
"""
import argparse
import contextlib
import csv
import os
import sys
import time
import warnings

import numpy as np

from ._params import TRANSFORM_PARAMS, check
from ._validation import handed_over

__all__ = ["main", "build_parser", "read_data", "write_positions"]

#: Exit status for user mistakes (argparse uses the same for bad arguments).
EXIT_USAGE = 2
#: Exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Readers by file extension; a table's delimiter is fixed by its extension.
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
DATA_FORMATS = (".npy", ".npz", ".h5ad") + tuple(TABLE_DELIMITERS)
OUTPUT_FORMATS = (".npy", ".csv", ".tsv")
#: Significant digits of positions written to text files.
_TEXT_DIGITS = 9


class UserError(Exception):
    """A mistake in the command line or the input files; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at ``--help``."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


# ------------------------------------------------------------------------------ reading
def _extension(path):
    return os.path.splitext(str(path))[1].lower()


def _check_readable(path, what="input file"):
    if not os.path.exists(path):
        raise UserError(f"{what} {path!r} does not exist.")
    if os.path.isdir(path):
        raise UserError(f"{what} {path!r} is a directory, not a file.")


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_data(path, *, labels=None, key=None, use_rep=None, drop=()):
    """Read a data matrix (and optionally labels) from ``path``.

    Parameters
    ----------
    path : str
        ``.npy`` (2-D array), ``.npz`` (one array chosen by ``key``), ``.csv``/``.tsv``
        (numbers; a first row that is not all numbers is a header) or ``.h5ad`` (AnnData,
        needs anndata; ``use_rep`` picks ``obsm[use_rep]`` or "X").
    labels : str, optional
        A file with one label per row (``.npy`` or text, one per line), or the name of a
        column / array / ``obs`` column of the input. A label column of a table is not
        used as a feature.
    key : str, optional
        The array of an ``.npz`` file (default "X", or its only 2-D array).
    use_rep : str, optional
        ``.h5ad`` only (default "X_pca" when present, else "X").
    drop : sequence of str
        Table columns (names, or 0-based numbers) that are not features.

    Returns
    -------
    X : (N, D) float array or scipy sparse matrix
    y : (N,) array or None
    """
    _check_readable(path)
    ext = _extension(path)
    if key is not None and ext != ".npz":
        raise UserError("--key applies to .npz input only.")
    if use_rep is not None and ext != ".h5ad":
        raise UserError("--use-rep applies to .h5ad input only.")
    label_file = labels if labels is not None and os.path.isfile(labels) else None
    column = labels if labels is not None and label_file is None else None
    if ext in TABLE_DELIMITERS:
        X, y = _read_table(path, TABLE_DELIMITERS[ext], column, drop)
    elif drop:
        raise UserError("--drop applies to .csv/.tsv input only.")
    elif ext == ".npy":
        if column is not None:
            raise UserError(f"labels file {labels!r} does not exist (a .npy input has no named columns).")
        X, y = _load_array(path), None
    elif ext == ".npz":
        X, y = _read_npz(path, key, column)
    elif ext == ".h5ad":
        X, y = _read_h5ad(path, use_rep, column)
    else:
        raise UserError(f"cannot read {path!r}: unknown extension {ext or '(none)'!r}; "
                        f"use one of {', '.join(DATA_FORMATS)}.")
    if X is None:
        raise UserError(f"{path!r} holds no data matrix (its X is empty); choose one with --use-rep.")
    if getattr(X, "ndim", None) != 2:
        raise UserError(f"{path!r} holds a {getattr(X, 'ndim', '?')}-D array of shape "
                        f"{getattr(X, 'shape', '?')}; the data must be 2-D (points x features).")
    if label_file is not None:
        y = _read_labels_file(label_file, X.shape[0])
    return X, y


def _load_array(path):
    try:
        X = np.load(path, allow_pickle=False)
    except ValueError as e:  # object arrays need pickle, which untrusted files must not use
        raise UserError(f"cannot read {path!r} as a numeric .npy array ({e}).") from None
    if not isinstance(X, np.ndarray):
        raise UserError(f"{path!r} is an .npz archive; give it the .npz extension.")
    return X


def _read_npz(path, key, column):
    try:
        archive = np.load(path, allow_pickle=False)
    except ValueError as e:
        raise UserError(f"cannot read {path!r} as an .npz archive ({e}).") from None
    with archive:
        names = archive.files
        if key is None:
            two_d = [n for n in names if archive[n].ndim == 2]
            key = "X" if "X" in names else (two_d[0] if len(two_d) == 1 else None)
            if key is None:
                raise UserError(f"{path!r} holds arrays {names}; choose the data with --key.")
        if key not in names:
            raise UserError(f"{path!r} has no array {key!r}; it has {names}.")
        if column is not None and column not in names:
            raise UserError(f"--labels {column!r} is neither a file nor an array of {path!r} (arrays: {names}).")
        try:
            return archive[key], (archive[column] if column is not None else None)
        except ValueError as e:
            raise UserError(f"cannot read array from {path!r} ({e}).") from None


def _read_h5ad(path, use_rep, column):
    try:
        import anndata
    except ImportError:
        raise UserError("reading .h5ad files needs anndata: pip install anndata "
                        "(or pip install 'fasttsne[anndata]').") from None
    try:
        adata = anndata.read_h5ad(path)
    except Exception as e:  # h5py and anndata raise many kinds for a damaged file
        raise UserError(f"cannot read {path!r} as an .h5ad file ({type(e).__name__}: {e}).") from None
    if use_rep is None:
        use_rep = "X_pca" if "X_pca" in adata.obsm else "X"
    if use_rep == "X":
        X = adata.X
    elif use_rep in adata.obsm:
        X = np.asarray(adata.obsm[use_rep])
    else:
        raise UserError(f"{path!r} has no obsm[{use_rep!r}]; it has {list(adata.obsm.keys())} (or use --use-rep X).")
    y = None
    if column is not None:
        if column not in adata.obs:
            raise UserError(f"--labels {column!r} is neither a file nor an obs column of {path!r} "
                            f"(columns: {list(adata.obs.columns)}).")
        y = np.asarray(adata.obs[column])
    return X, y


def _read_table(path, delimiter, label_column, drop):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            lines = [(n, row) for n, row in enumerate(csv.reader(f, delimiter=delimiter), start=1)
                     if any(cell.strip() for cell in row)]
    except (UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"cannot read {path!r} as a text table ({e}).") from None
    if not lines:
        raise UserError(f"{path!r} is empty.")
    first = [cell.strip() for cell in lines[0][1]]
    header = first if not all(_is_number(c) for c in first) else None
    if header is not None:
        lines = lines[1:]
        if not lines:
            raise UserError(f"{path!r} has a header but no data rows.")
    width = len(lines[0][1]) if header is None else len(header)
    for n, row in lines:
        if len(row) != width:
            raise UserError(f"{path!r} line {n} has {len(row)} fields, expected {width}.")
    names = header if header is not None else [str(i) for i in range(width)]

    def column_index(spec, option):
        if header is not None and spec in header:
            return header.index(spec)
        if spec.lstrip("-").isdigit() and -width <= int(spec) < width:
            return int(spec) % width
        known = f"columns: {', '.join(header)}" if header is not None else f"{width} columns, numbered from 0"
        if option == "--labels":
            raise UserError(f"--labels {spec!r} is neither a file nor a column of {path!r} ({known}).")
        raise UserError(f"{option} {spec!r} is not a column of {path!r} ({known}).")

    label_index = column_index(label_column, "--labels") if label_column is not None else None
    dropped = {column_index(spec, "--drop") for spec in drop}
    features = [i for i in range(width) if i != label_index and i not in dropped]
    if not features:
        raise UserError(f"{path!r} has no feature columns left after --labels/--drop.")
    cells = np.array([row for _, row in lines], dtype=object)
    X = np.empty((len(lines), len(features)))
    for j, i in enumerate(features):
        try:
            X[:, j] = cells[:, i].astype(np.float64)
        except ValueError:
            r = next(r for r in range(len(lines)) if not _is_number(cells[r, i]))
            value = cells[r, i].strip()
            problem = "an empty (missing) value" if not value else f"the non-numeric value {value!r}"
            raise UserError(f"{path!r} column {names[i]!r} has {problem} on line {lines[r][0]}; "
                            + ("impute or remove missing values first." if not value else
                               f"use --labels {names[i]} for a label column or --drop {names[i]} to ignore it."))
    y = None
    if label_index is not None:
        raw = [cell.strip() for cell in cells[:, label_index]]
        y = np.array(raw if not all(_is_number(v) for v in raw) else [_as_number(v) for v in raw])
    return X, y


def _as_number(text):
    value = float(text)
    return int(value) if value.is_integer() else value


def _read_labels_file(path, n):
    if _extension(path) == ".npy":
        y = _load_array(path)
        if y.ndim != 1:
            raise UserError(f"labels file {path!r} holds an array of shape {y.shape}; expected ({n},).")
    else:
        with open(path, encoding="utf-8-sig") as f:
            values = [line.strip() for line in f if line.strip()]
        if len(values) == n + 1:  # a header line
            values = values[1:]
        y = np.array([_as_number(v) for v in values] if all(_is_number(v) for v in values) else values)
    if len(y) != n:
        raise UserError(f"labels file {path!r} has {len(y)} labels for {n} data rows.")
    return y


# ------------------------------------------------------------------------------ writing
def _check_writable(path, formats, what):
    ext = _extension(path)
    if formats is not None and ext not in formats:
        raise UserError(f"{what} {path!r} must end in one of {', '.join(formats)}.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UserError(f"cannot write {what} {path!r}: folder {folder!r} does not exist.")


def write_positions(path, Y):
    """Write (N, d) positions to ``.npy`` or to a ``.csv``/``.tsv`` table with a header."""
    ext = _extension(path)
    if ext == ".npy":
        with open(path, "wb") as f:  # np.save(path) would append ".npy" to other names
            np.save(f, Y)
        return
    delimiter = TABLE_DELIMITERS[ext]
    header = delimiter.join(f"tsne_{i + 1}" for i in range(Y.shape[1]))
    np.savetxt(path, Y, delimiter=delimiter, header=header, comments="", fmt=f"%.{_TEXT_DIGITS}g")


def _save_plot(path, draw):
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


def _require_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError("--plot needs matplotlib: pip install matplotlib (or pip install 'fasttsne[plot]').") from None


# ------------------------------------------------------------------------------ commands
def _verbose(args):
    """--verbose / --quiet, else on when someone watches a terminal."""
    return sys.stderr.isatty() if args.verbose is None else args.verbose


def _say(args, message):
    if _verbose(args):
        print(f"fasttsne: {message}", flush=True)


@contextlib.contextmanager
def _timed(args, label):
    from .progress import phase
    with phase(label, _verbose(args)):
        yield


def cmd_embed(args):
    """Embed a data file; write the positions (and optionally a plot and a reference map)."""
    from .tsne import TSNE
    _check_writable(args.output, OUTPUT_FORMATS, "output")
    if args.save:
        _check_writable(args.save, None, "map")
    if args.plot:
        _check_writable(args.plot, None, "plot")
        _require_matplotlib()
    tsne = TSNE(n_components=args.n_components, perplexity=args.perplexity, n_iter=args.n_iter,
                early_exaggeration_iter=args.early_exaggeration_iter, exaggeration=args.exaggeration,
                dof=args.dof, initialization=args.initialization, metric=args.metric,
                neighbors=args.neighbors, negative_gradient_method=args.method, n_jobs=args.n_jobs,
                random_state=args.seed, verbose=_verbose(args))
    tsne.check_params()  # a bad option fails before the input is read
    with _timed(args, "reading input"):
        X, y = read_data(args.input, labels=args.labels, key=args.key, use_rep=args.use_rep,
                         drop=_split(args.drop))
    _say(args, f"{X.shape[0]} points x {X.shape[1]} features from {args.input}")
    # the array read from the file is this process's alone: the map may keep it without a copy
    with handed_over(X):
        embedding = tsne.fit(X)
    write_positions(args.output, np.asarray(embedding))
    print(f"wrote {embedding.shape[0]} x {embedding.shape[1]} positions to {args.output} "
          f"(KL {embedding.kl_divergence:.4f})")
    if args.save:
        embedding.save(args.save)
        print(f"wrote the reference map to {args.save} (use: fasttsne transform {args.save} NEW_DATA -o OUT)")
    if args.plot:
        from .plotting import plot
        _check_2d(embedding.shape[1])
        _save_plot(args.plot, lambda ax: plot(embedding, y, ax=ax, title=os.path.basename(args.input)))
        print(f"wrote the plot to {args.plot}")
    return 0


def cmd_transform(args):
    """Place the points of a data file into a saved map; write their positions."""
    from .persist import load
    _check_readable(args.map, "map file")
    if args.scheduler or ".zarr" in (_extension(args.input), _extension(args.output)):
        return _transform_in_chunks(args)
    if args.chunk_rows is not None:
        raise UserError("--chunk-rows applies with --scheduler or .zarr files only.")
    _check_writable(args.output, OUTPUT_FORMATS, "output")
    if args.plot:
        _check_writable(args.plot, None, "plot")
        _require_matplotlib()
    options = dict(perplexity=args.perplexity, n_iter=args.n_iter, n_jobs=args.n_jobs, random_state=args.seed)
    check(TRANSFORM_PARAMS, options)  # a bad option fails before the map and the input are read
    with _timed(args, "loading the map"):
        reference = load(args.map)
    with _timed(args, "reading input"):
        X, y = read_data(args.input, labels=args.labels, key=args.key, use_rep=args.use_rep,
                         drop=_split(args.drop))
    with _timed(args, f"placing {X.shape[0]} points into the map of {len(reference)}"):
        Y = reference.transform(X, **options)
    write_positions(args.output, Y)
    print(f"wrote {Y.shape[0]} x {Y.shape[1]} positions to {args.output}")
    if args.plot:
        from .plotting import plot
        _check_2d(Y.shape[1])

        def draw(ax):
            plot(reference, ax=ax, color="#d0d0d0", legend=False)
            plot(Y, y, ax=ax, s=max(4.0, 2 * _size(len(reference))), alpha=1.0,
                 title=f"{os.path.basename(args.input)} in {os.path.basename(args.map)}")
        _save_plot(args.plot, draw)
        print(f"wrote the plot to {args.plot}")
    return 0


def _transform_in_chunks(args):
    """``transform`` with Dask: INPUT read lazily, placed chunk by chunk, OUT written chunk by chunk."""
    for option in ("labels", "plot", "use_rep", "drop"):
        if getattr(args, option):
            raise UserError(f"--{option.replace('_', '-')} is not available with --scheduler or .zarr files "
                            "(draw the positions afterwards with fasttsne.plot).")
    try:
        from . import dask as chunked
    except ImportError:
        raise UserError("--scheduler and .zarr files need dask: pip install 'fasttsne[dask]'.") from None
    if _extension(args.input) not in chunked.ON_DISK_FORMATS:
        raise UserError(f"with --scheduler INPUT must be {' or '.join(chunked.ON_DISK_FORMATS)} (read lazily, "
                        f"chunk by chunk), got {args.input!r}.")
    if not os.path.exists(args.input):
        raise UserError(f"input file {args.input!r} does not exist.")
    _check_writable(args.output, OUTPUT_FORMATS + (".zarr",), "output")
    if args.key is not None and _extension(args.input) != ".zarr":
        raise UserError("--key applies to .npz and .zarr input only.")
    if args.chunk_rows is not None and args.chunk_rows < 1:
        raise UserError(f"--chunk-rows must be a positive integer, got {args.chunk_rows}.")
    client = _connect(args.scheduler) if args.scheduler else None
    try:
        X = chunked.read_array(args.input, chunk_rows=args.chunk_rows, component=args.key)
        # the workers load the map from its path (each once), so it must be on storage they read
        Y = chunked.transform(os.path.abspath(args.map), X, perplexity=args.perplexity, n_iter=args.n_iter,
                              n_jobs=args.n_jobs, random_state=args.seed, client=client)
        where = f" on {args.scheduler}" if args.scheduler else ""
        with _timed(args, f"placing {Y.shape[0]} points in {Y.numblocks[0]} chunks{where}"):
            if _extension(args.output) in chunked.ON_DISK_FORMATS:
                chunked.write_array(Y, args.output, client=client)
            else:
                write_positions(args.output, Y.compute() if client is None else client.compute(Y).result())
    finally:
        if client is not None:
            client.close()
    print(f"wrote {Y.shape[0]} x {Y.shape[1]} positions to {args.output}")
    return 0


def _connect(address):
    try:
        from distributed import Client
    except ImportError:
        raise UserError("--scheduler needs distributed: pip install distributed (or pip install "
                        "'fasttsne[dask]').") from None
    try:
        return Client(address, timeout=30, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise UserError(f"cannot reach the Dask scheduler at {address!r} ({e}).") from None


def cmd_score(args):
    """Print the quality report of a saved map against the data it was made from."""
    from . import load
    from .quality import report
    _check_readable(args.map, "map file")
    with _timed(args, "loading the map"):
        embedding = load(args.map)
    with _timed(args, "reading input"):
        X, y = read_data(args.input, labels=args.labels, key=args.key, use_rep=args.use_rep,
                         drop=_split(args.drop))
    if X.shape[0] != len(embedding):
        raise UserError(f"{args.input!r} has {X.shape[0]} rows but the map {args.map!r} places "
                        f"{len(embedding)} points; give the data the map was made from.")
    if embedding.n_features is not None and X.shape[1] != embedding.n_features:
        raise UserError(f"{args.input!r} has {X.shape[1]} features but the map {args.map!r} was made "
                        f"from data with {embedding.n_features}.")
    with _timed(args, "scoring the map"):
        result = report(X, embedding, labels=y, k=args.k, sample_size=args.sample_size,
                        rank_sample_size=args.sample_size, random_state=args.seed, n_jobs=args.n_jobs)
    print(result)
    return 0


def _sample_size(text):
    """--sample-size: 'auto' or a positive integer."""
    if text == "auto":
        return text
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a positive integer, got {text!r}")
    return int(text)


def _size(n):
    from .plotting import point_size
    return point_size(n)


def _check_2d(d):
    if d != 2:
        raise UserError(f"--plot draws 2-D embeddings; this one has {d} dimensions.")


def _split(text):
    return [part.strip() for part in text.split(",") if part.strip()] if text else []


def _knn_accuracy(Y, y, k=10):
    """Leave-one-out k-NN label accuracy of the embedding (majority vote)."""
    from scipy.spatial import cKDTree
    idx = cKDTree(Y).query(Y, k + 1)[1][:, 1:]
    votes = y[idx]
    pred = np.array([np.bincount(v).argmax() for v in votes])
    return float((pred == y).mean())


def cmd_demo(args):
    """Embed the bundled digits dataset; print time, KL and 10-NN accuracy; optionally plot."""
    import fasttsne
    from fasttsne.datasets import load_digits
    X, y = load_digits()
    print(f"fasttsne {fasttsne.__version__}: embedding the bundled digits ({X.shape[0]} x {X.shape[1]}) "
          f"with n_jobs={args.n_jobs}", flush=True)
    t0 = time.perf_counter()
    emb = fasttsne.TSNE(n_jobs=args.n_jobs, random_state=args.seed, verbose=args.verbose).fit(X)
    elapsed = time.perf_counter() - t0
    Y = np.asarray(emb)
    print(f"time {elapsed:.2f} s   KL {emb.kl_divergence:.4f}   10-NN accuracy {_knn_accuracy(Y, y):.4f}")
    if args.plot != "none":
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print("picture skipped: matplotlib is not installed (python -m pip install matplotlib, then run "
                  "the demo again)")
            return 0
        _check_writable(args.plot, None, "plot")
        _save_plot(args.plot, lambda ax: fasttsne.plot(Y, y, ax=ax, legend_title="digit", title="fasttsne: digits"))
        print(f"picture written to {os.path.abspath(args.plot)}")
    return 0


# ------------------------------------------------------------------------------ parser
def _add_input_options(p):
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
    loud = p.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true", default=None,
                      help="timing per phase and a progress bar (default when standard error is a terminal)")
    loud.add_argument("-q", "--quiet", action="store_false", dest="verbose", help="no timings or progress bar")


def build_parser():
    """The ``fasttsne`` argument parser."""
    from . import __version__
    parser = _Parser(prog="fasttsne", description="Fast t-SNE embeddings.",
                     epilog="Run 'fasttsne COMMAND --help' for the options of a command.")
    parser.add_argument("--version", action="version", version=f"fasttsne {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    embed = sub.add_parser(
        "embed", help="embed a data file and write the positions",
        description="Embed the rows of INPUT with t-SNE and write their positions to OUT.",
        epilog="INPUT: .npy, .npz, .csv/.tsv (a non-numeric first row is a header) or .h5ad (needs anndata). "
               "OUT: .npy, or .csv/.tsv with a header row. Example: fasttsne embed cells.csv --labels "
               "cell_type -o tsne.csv --plot tsne.png --save cells.map")
    embed.add_argument("input", metavar="INPUT", help="data file, one row per point")
    embed.add_argument("-o", "--output", required=True, metavar="OUT", help="positions file (.npy, .csv or .tsv)")
    embed.add_argument("--save", metavar="MAP", help="also save the reference map, for 'fasttsne transform'")
    embed.add_argument("--perplexity", type=float, default=30.0, help="effective number of neighbours (default 30)")
    embed.add_argument("--metric", default="euclidean", help="input distance (default euclidean)")
    embed.add_argument("--neighbors", default="auto", metavar="NAME",
                       help="nearest-neighbour backend: auto, exact, annoy, pynndescent, ... (default auto)")
    embed.add_argument("--method", default="auto", metavar="NAME",
                       help="repulsion (negative gradient) method: auto, exact, bh, fft (default auto)")
    embed.add_argument("--n-components", type=int, default=2, metavar="D", help="embedding dimension (default 2)")
    embed.add_argument("--n-iter", type=int, default=500, metavar="N",
                       help="iterations after early exaggeration (default 500)")
    embed.add_argument("--early-exaggeration-iter", type=int, default=250, metavar="N",
                       help="early-exaggeration iterations (default 250)")
    embed.add_argument("--exaggeration", type=float, metavar="X",
                       help="exaggeration of the main phase (default none; 2-4 shows coarser structure)")
    embed.add_argument("--dof", type=float, default=1.0,
                       help="degrees of freedom of the output kernel; < 1 gives finer clusters (default 1)")
    embed.add_argument("--initialization", default="pca", choices=("pca", "random"),
                       help="initial positions (default pca)")
    _add_input_options(embed)
    embed.set_defaults(func=cmd_embed)

    transform = sub.add_parser(
        "transform", help="place new points into a saved map",
        description="Place the rows of INPUT into the map saved by 'fasttsne embed --save MAP' (the map does "
                    "not move) and write their positions to OUT.",
        epilog="INPUT must have the same features as the data the map was made from. With --scheduler, or "
               "a .zarr INPUT or OUT, INPUT is read and OUT (.npy or .zarr) written chunk by chunk with Dask: "
               "fasttsne transform cells.map atlas.zarr -o atlas_tsne.zarr --scheduler tcp://host:8786")
    transform.add_argument("map", metavar="MAP", help="map file written by 'fasttsne embed --save'")
    transform.add_argument("input", metavar="INPUT", help="data file, one row per point (formats as for embed)")
    transform.add_argument("-o", "--output", required=True, metavar="OUT", help="positions file (.npy, .csv or .tsv)")
    transform.add_argument("--perplexity", type=float, default=None,
                           help="perplexity of the new points' affinities to the map (default: the "
                                "map's affinity model's, 5 for the perplexity model)")
    transform.add_argument("--n-iter", type=int, default=250, metavar="N", help="iterations (default 250)")
    transform.add_argument("--scheduler", metavar="ADDRESS",
                           help="place the points on this Dask cluster (e.g. tcp://host:8786), chunk by chunk; "
                                "INPUT (.npy or .zarr) is read lazily by the workers, which also load MAP, so "
                                "both must be on storage they read (needs fasttsne[dask])")
    transform.add_argument("--chunk-rows", type=int, metavar="N",
                           help="with --scheduler or .zarr: rows per chunk (default: the .zarr array's own, "
                                "50000 for .npy); --n-jobs is then the threads of each chunk")
    _add_input_options(transform)
    transform.set_defaults(func=cmd_transform)

    score = sub.add_parser(
        "score", help="print the quality report of a saved map",
        description="Compare the map saved by 'fasttsne embed --save MAP' with the data INPUT it was made "
                    "from: kNN preservation, trustworthiness, continuity, CPD, KL divergence, and with "
                    "labels kNN accuracy and KNC (see docs/quality.md).",
        epilog="INPUT (formats as for embed) must hold the map's points, in the same order. Example: "
               "fasttsne score cells.map cells.csv --labels cell_type")
    score.add_argument("map", metavar="MAP", help="map file written by 'fasttsne embed --save'")
    score.add_argument("input", metavar="INPUT", help="the data the map was made from, one row per point")
    score.add_argument("-k", type=int, default=10, help="neighbours per point (default 10)")
    score.add_argument("--sample-size", type=_sample_size, default="auto", metavar="N",
                       help="query points of the neighbour measures: 'auto' (exact on small data, sampled "
                            "on large) or a number (default auto)")
    score.add_argument("--labels", metavar="LABELS",
                       help="class labels, for kNN accuracy and KNC: a file or a column of INPUT, as for embed")
    score.add_argument("--key", metavar="NAME", help=".npz input: the array to use")
    score.add_argument("--use-rep", metavar="NAME", help=".h5ad input: obsm key to use, or 'X'")
    score.add_argument("--drop", metavar="COLS", help=".csv/.tsv input: comma-separated columns that are not features")
    score.add_argument("--n-jobs", type=int, default=1, metavar="N", help="threads; -1 for all cores (default 1)")
    score.add_argument("--seed", type=int, default=0, help="seed of the sampled points and pairs (default 0)")
    loud = score.add_mutually_exclusive_group()
    loud.add_argument("-v", "--verbose", action="store_true", default=None, help="timing per phase")
    loud.add_argument("-q", "--quiet", action="store_false", dest="verbose", help="no timings")
    score.set_defaults(func=cmd_score)

    demo = sub.add_parser("demo", help="embed the bundled digits dataset and report time, KL, accuracy",
                          description="Embed the bundled digits (1,797 x 64) and print the time, the KL "
                                      "divergence and the 10-NN label accuracy.")
    demo.add_argument("--n-jobs", type=int, default=-1, help="threads (default: all cores)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument("--plot", default="fasttsne-demo.png",
                      help="PNG to write when matplotlib is installed ('none' to skip)")
    demo.add_argument("--verbose", action="store_true", help="print per-phase timings and a progress bar")
    demo.set_defaults(func=cmd_demo)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"fasttsne: warning: {message}", file=sys.stderr if file is None else file, flush=True)


def main(argv=None):
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning  # one line per warning, no source line
        try:
            return args.func(args)
        except KeyboardInterrupt:
            print("fasttsne: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except (UserError, ValueError, TypeError, OSError, ImportError) as e:
            if not _is_user_error(e):
                raise  # a bug: the traceback is what a report needs
            print(f"fasttsne: error: {e}", file=sys.stderr)
            return EXIT_USAGE


#: fasttsne's own Python sources: a ValueError or TypeError raised there is a checked,
#: worded refusal of the input; raised anywhere else (numpy, a compiled kernel) it is a bug.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _is_user_error(e):
    """Whether ``e`` reports a problem with the user's input or files (one line, status 2)
    rather than a bug (traceback): fasttsne's own errors, files and missing packages, and the
    ValueError/TypeError messages fasttsne's Python code raises itself."""
    if isinstance(e, (UserError, OSError, ImportError)):
        return True
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = os.path.abspath(tb.tb_frame.f_code.co_filename) if tb is not None else ""
    return where.endswith(".py") and os.path.dirname(where).startswith(_PACKAGE_DIR)
