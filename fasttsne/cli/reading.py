"""Reading the input files: a data matrix and its labels from .npy, .npz, .csv/.tsv or .h5ad.

Every problem with a file (missing, unreadable, the wrong shape, a non-numeric cell) is a
:class:`~fasttsne.cli.errors.UserError` that names the file and, where it helps, the line and
column.
"""
import csv
import os

import numpy as np

from .errors import UserError

__all__ = ["read_data", "check_readable", "extension", "split_list", "TABLE_DELIMITERS", "DATA_FORMATS"]

#: Readers by file extension; a table's delimiter is fixed by its extension.
TABLE_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
DATA_FORMATS = (".npy", ".npz", ".h5ad") + tuple(TABLE_DELIMITERS)


def extension(path):
    """The lower-case extension of ``path`` (``".csv"``), or ""."""
    return os.path.splitext(str(path))[1].lower()


def check_readable(path, what="input file"):
    """Raise UserError unless ``path`` is an existing file."""
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
    check_readable(path)
    ext = extension(path)
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
    if extension(path) == ".npy":
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


def split_list(text):
    """The items of a comma-separated option (``"a, b,"`` -> ``["a", "b"]``); none for None."""
    return [part.strip() for part in text.split(",") if part.strip()] if text else []
