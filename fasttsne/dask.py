"""Placing query sets larger than one process into a map, chunk by chunk, with Dask.

``Embedding.transform`` hands a ``dask.array.Array`` to :func:`transform`, which returns a lazy
Dask array of positions with the same row chunks. Each chunk is placed by the in-process
``Embedding.transform``; since new points do not interact, a chunk gives exactly the rows the
whole batch would give, whichever worker computes it and however often (a chunk lost with a
worker is recomputed identically).

The map reaches each worker once:

- an :class:`~fasttsne.Embedding` is broadcast to every worker of the current
  ``distributed.Client`` (or, with Dask's local schedulers, sits once in the graph); its
  reference repulsion is built on a worker's first chunk and reused by the next ones;
- a path to a map saved with ``Embedding.save`` (on storage every worker reads) is loaded by
  each worker process once and kept for later chunks and later transforms of the same file.

Every task uses one thread unless ``n_jobs`` asks for more: Dask's own threads (a worker's
``nthreads``, or the local scheduler's pool) run the chunks in parallel, so a task taking
more threads would oversubscribe the cores.

This module needs ``dask[array]`` (and ``distributed`` for clusters): ``pip install
'fasttsne[dask]'``. The rest of fasttsne never imports it.
"""
import collections
import os
import shutil
import threading
import uuid
import weakref

import numpy as np

from ._threads import check_n_jobs, effective_n_jobs
from ._validation import check_positions, check_random_state
from .embedding import Embedding
from .persist import load

__all__ = ["transform", "ChunkError", "maps_received", "read_array", "write_array"]

#: Maps loaded from files kept per worker process (the most recently used ones).
MAP_FILES_KEPT = 2
#: Normal draws skipped at once when a chunk's random initialisation skips the rows before it.
_SKIP_BLOCK = 1 << 20


class ChunkError(ValueError):
    """A chunk of new points could not be placed; the message names its rows.

    Attributes
    ----------
    rows : (int, int)
        First row and one past the last row of the chunk, in the whole query array.
    """

    def __init__(self, message, rows):
        super().__init__(message, rows)
        self.rows = rows

    def __str__(self):
        return self.args[0]


def _require_dask():
    try:
        import dask.array
    except ImportError:
        raise ImportError("placing a Dask array needs dask: pip install 'dask[array]' distributed "
                          "(or pip install 'fasttsne[dask]').") from None
    return dask.array


# ------------------------------------------------------------------------------ maps on workers
_LOCK = threading.Lock()
_RECEIVED = [0]
#: Embeddings that arrived in this process, by token, while anything still holds them.
_ARRIVED = weakref.WeakValueDictionary()
_FILES = collections.OrderedDict()


def maps_received():
    """How many maps this process has received: unpickled from the client or loaded from a file.

    Called on each worker (``client.run(fasttsne.dask.maps_received)``) it shows that a
    transform ships its map to a worker once, not once per chunk.
    """
    return _RECEIVED[0]


class _ShippedMap:
    """An Embedding on its way to the workers, named by a token fixed on the client."""

    def __init__(self, embedding):
        self.token = uuid.uuid4().hex
        self.embedding = embedding

    def __dask_tokenize__(self):
        return ("fasttsne-map", self.token)

    def __getstate__(self):
        return {"token": self.token, "embedding": self.embedding}

    def __setstate__(self, state):
        self.token = state["token"]
        with _LOCK:
            _RECEIVED[0] += 1
            # a second arrival in one process (Dask's process pool pickles every task) reuses
            # the first Embedding, and with it the reference repulsion built there
            self.embedding = _ARRIVED.setdefault(self.token, state["embedding"])

    def get(self):
        return self.embedding

    def identity(self):
        return self.token


class _MapFile:
    """A saved map on shared storage, loaded by each worker process once."""

    def __init__(self, path):
        self.path = os.path.realpath(os.fspath(path))
        self.stamp = _file_stamp(self.path)

    def __dask_tokenize__(self):
        return ("fasttsne-map-file", self.path, self.stamp)

    def get(self):
        key = (self.path, self.stamp)
        with _LOCK:
            if key in _FILES:
                _FILES.move_to_end(key)
                return _FILES[key]
            if _file_stamp(self.path) != self.stamp:
                raise ValueError(f"the map file {self.path!r} changed after the transform was set up "
                                 "(or this worker sees another file under that name).")
            embedding = load(self.path)
            _RECEIVED[0] += 1
            _FILES[key] = embedding
            while len(_FILES) > MAP_FILES_KEPT:
                _FILES.popitem(last=False)
            return embedding

    def identity(self):
        return self.path


def _file_stamp(path):
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"map file {path!r} does not exist (on this machine).") from None
    return st.st_size, st.st_mtime_ns


def _current_client():
    """The current ``distributed.Client``, or None (no distributed, or no client made)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


# ------------------------------------------------------------------------------ the task
def _place_chunk(block, init, source, *, params, n_jobs, random_state, block_info=None):
    """Positions of one chunk of new points (runs on a worker).

    Parameters
    ----------
    block : (m, D) array, rows ``start:stop`` of the query array
    init : (m, d) array or None
        This chunk's rows of an initialisation array.
    source : _ShippedMap or _MapFile
    params : dict
        Keyword arguments of ``Embedding.transform``.
    n_jobs : None or int
        Threads of this task (None: one).
    random_state : dict or None
        State of the bit generator of a "random" initialisation, before the first row.
    """
    start, stop = block_info[0]["array-location"][0]
    embedding = source.get()
    d = embedding.shape[1]
    if stop == start:
        return np.empty((0, d))
    try:
        if isinstance(block, np.ndarray) and block.dtype.kind in "fc" and not np.all(np.isfinite(block)):
            bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
            raise ValueError(f"{bad.size} row(s) hold NaN or infinite values, the first is row "
                             f"{start + int(bad[0])}; remove or impute them.")
        chunk_params = dict(params)
        if init is not None:
            chunk_params["initialization"] = init
        elif random_state is not None:
            chunk_params["random_state"] = _generator_at(random_state, start * d)
        return embedding.transform(block, n_jobs=effective_n_jobs(n_jobs), **chunk_params)
    except (ValueError, TypeError, FloatingPointError) as e:
        raise ChunkError(f"new points in rows {start} to {stop - 1} (one chunk) could not be placed "
                         f"into the map: {e}", (start, stop)) from None


def _generator_at(state, n_draws):
    """A Generator in ``state``, advanced by ``n_draws`` normal draws (those of earlier rows)."""
    bit_generator = getattr(np.random, state["bit_generator"])()
    bit_generator.state = state
    rng = np.random.Generator(bit_generator)
    while n_draws > 0:
        step = min(n_draws, _SKIP_BLOCK)
        rng.standard_normal(step)
        n_draws -= step
    return rng


# ------------------------------------------------------------------------------ the entry point
def transform(reference, X_new, *, n_jobs=None, client=None, initialization="median", random_state=None,
              callbacks=None, callbacks_every_iters=50, **params):
    """Place the rows of a Dask array into a map, lazily, one task per row chunk.

    Parameters
    ----------
    reference : Embedding, str or os.PathLike
        The map, or the path of a map saved with ``Embedding.save`` on storage that every
        worker reads (each worker process then loads it once).
    X_new : dask.array.Array, (M, D), M >= 1
        New points, any row chunking; column chunks are joined (a task needs whole rows).
        Chunk sizes must be known (``X_new.compute_chunk_sizes()`` after boolean indexing).
        A Dask DataFrame is turned into an array (computing its partitions' lengths).
    n_jobs : None or int
        Threads per task (None: one; Dask runs the tasks in parallel). Resolved on the
        worker, where a negative value counts back from that worker's usable cores.
    client : distributed.Client, optional
        Client whose workers receive an Embedding ``reference`` (default: the current
        client, if any; without one the map sits once in the graph, for Dask's local
        schedulers).
    initialization : "median", "weighted", "random" or (M, d) array (NumPy or Dask)
        As for ``Embedding.transform``; a "random" initialisation draws each row what the
        in-process transform draws for it, so chunks do not change the result.
    random_state : None, int, Generator or RandomState
        Used by a "random" initialisation only; a Generator's state is read here, not
        advanced.
    callbacks, callbacks_every_iters
        Not supported (the optimisation runs in the workers): ``callbacks`` must be None.
    **params
        The other keyword arguments of ``Embedding.transform`` (perplexity, n_iter, ...).

    Returns
    -------
    dask.array.Array, (M, d) float64
        Same row chunks as ``X_new``; computing it gives bitwise what
        ``reference.transform(X_new.compute(), ...)`` gives.

    Raises
    ------
    ValueError
        Here, for an input that is not 2-D, has no rows, unknown chunk sizes or a different
        number of features than the map; when computed, :class:`ChunkError` naming the rows
        of a chunk that cannot be placed (NaN or infinite values, bad parameters).
    """
    da = _require_dask()
    if hasattr(X_new, "to_dask_array"):  # a Dask DataFrame: its partitions' lengths are computed
        X_new = X_new.to_dask_array(lengths=True)
    if not isinstance(X_new, da.Array):
        raise TypeError(f"X_new must be a dask.array.Array here, got {type(X_new).__name__}.")
    if callbacks is not None:
        raise ValueError("callbacks are not supported when placing a Dask array: the optimisation runs "
                         "chunk by chunk in the workers.")
    check_n_jobs(n_jobs)
    if isinstance(reference, (str, os.PathLike)):
        source = _MapFile(reference)
        embedding = source.get()  # here too: to check the query, and for Dask's local schedulers
    else:
        if not isinstance(reference, Embedding):
            raise TypeError(f"reference must be a fasttsne.Embedding or the path of a saved map, "
                            f"got {type(reference).__name__}.")
        source, embedding = _ShippedMap(reference), reference
    X_new = _check_query(X_new, embedding)
    d = embedding.shape[1]
    row_chunks = X_new.chunks[0]
    init, state = None, None
    if isinstance(initialization, str):
        params["initialization"] = initialization
        if initialization == "random":
            state = check_random_state(random_state).bit_generator.state
    else:
        init = _initialization_chunks(da, initialization, X_new.shape[0], d, row_chunks)
    if isinstance(source, _ShippedMap):
        client = client if client is not None else _current_client()
        if client is not None:
            source = client.scatter(source, broadcast=True, hash=False)
        else:
            import dask
            source = dask.delayed(source, name=f"fasttsne-map-{source.token}")
    return da.map_blocks(
        _place_chunk, X_new, init, source, params=params, n_jobs=n_jobs, random_state=state,
        chunks=(row_chunks, (d,)), dtype=np.float64, meta=np.empty((0, d)),
        name=f"fasttsne-transform-{uuid.uuid4().hex}")


def _check_query(X_new, embedding):
    if X_new.ndim != 2:
        raise ValueError(f"X_new must be 2-D (n_samples, n_features), got a Dask array of shape {X_new.shape}.")
    if any(np.isnan(c) for c in X_new.chunks[0]):
        raise ValueError("X_new has unknown chunk sizes (e.g. after boolean indexing), so its chunks' rows "
                         "cannot be named; call X_new.compute_chunk_sizes() first.")
    if X_new.shape[0] == 0:
        raise ValueError("X_new has no rows; pass at least one point.")
    if X_new.dtype.kind not in "biuf":
        raise TypeError(f"X_new has dtype {X_new.dtype}; t-SNE needs real numbers.")
    if embedding.n_features is not None and X_new.shape[1] != embedding.n_features:
        raise ValueError(f"X_new has {X_new.shape[1]} features but the reference was fitted on "
                         f"{embedding.n_features}.")
    if len(X_new.chunks[1]) > 1:
        X_new = X_new.rechunk({1: -1})
    return X_new


def _initialization_chunks(da, initialization, m, d, row_chunks):
    """An (M, d) initialisation array as a Dask array with the query's row chunks."""
    if not isinstance(initialization, da.Array):
        initialization = da.from_array(check_positions(initialization, m, d), chunks=(row_chunks, (d,)))
    if initialization.shape != (m, d):
        raise ValueError(f"initialization must have shape ({m}, {d}), got {initialization.shape}.")
    return initialization.rechunk((row_chunks, (d,)))


# ------------------------------------------------------------------------------ arrays on disk
#: Rows per chunk of a ``.npy`` file read lazily, unless asked otherwise.
DEFAULT_CHUNK_ROWS = 50_000
ON_DISK_FORMATS = (".npy", ".zarr")


class _NpyRows:
    """A ``.npy`` file as an array Dask reads row ranges of; it travels as its path.

    Each read maps the file afresh, so a worker holds only the rows of the chunk it reads.
    """

    def __init__(self, path):
        self.path = os.path.realpath(os.fspath(path))
        try:
            mapped = np.load(self.path, mmap_mode="r", allow_pickle=False)
        except ValueError as e:  # object arrays, or not a .npy file
            raise ValueError(f"cannot read {path!r} as a numeric .npy array ({e}).") from None
        if not isinstance(mapped, np.ndarray):
            raise ValueError(f"{path!r} is an .npz archive, not a .npy array.")
        self.shape, self.dtype, self.ndim = mapped.shape, mapped.dtype, mapped.ndim
        self.stamp = _file_stamp(self.path)

    def __dask_tokenize__(self):
        return ("fasttsne-npy", self.path, self.stamp)

    def __getitem__(self, index):
        return np.array(np.load(self.path, mmap_mode="r", allow_pickle=False)[index])


def read_array(path, *, chunk_rows=None, component=None):
    """A lazy Dask array of the rows of a ``.npy`` file or a ``.zarr`` array.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npy`` (read through a memory map) or ``.zarr`` (needs zarr).
    chunk_rows : int, optional
        Rows per chunk (default: the zarr array's own row chunks; ``DEFAULT_CHUNK_ROWS`` for
        ``.npy``). Columns are always one chunk.
    component : str, optional
        ``.zarr`` only: the array's path inside a zarr group.

    Returns
    -------
    dask.array.Array
    """
    da = _require_dask()
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if chunk_rows is not None and (isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int)
                                   or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive integer, got {chunk_rows!r}.")
    if ext == ".npy":
        if component is not None:
            raise ValueError("component applies to .zarr input only.")
        rows = _NpyRows(path)
        X = da.from_array(rows, chunks=(chunk_rows or DEFAULT_CHUNK_ROWS,) + (-1,) * (rows.ndim - 1),
                          asarray=False, fancy=False)
    elif ext == ".zarr":
        try:
            import zarr  # noqa: F401 (da.from_zarr needs it)
        except ImportError:
            raise ImportError("reading .zarr needs zarr: pip install zarr (or pip install "
                              "'fasttsne[dask]').") from None
        try:
            X = da.from_zarr(os.fspath(path), component=component)
        except Exception as e:  # zarr raises many kinds for a group, a missing or a damaged array
            raise ValueError(f"cannot read {path!r} as a zarr array ({type(e).__name__}: {e}); "
                             "a zarr group needs the array's name (component).") from None
    else:
        raise ValueError(f"cannot read {path!r} lazily: use one of {', '.join(ON_DISK_FORMATS)}.")
    if X.ndim == 2:
        X = X.rechunk({0: chunk_rows, 1: -1} if chunk_rows else {1: -1})
    return X


def write_array(Y, path, *, client=None):
    """Compute a Dask array chunk by chunk and write it to a ``.npy`` file or a ``.zarr`` array.

    Each chunk is written by this process as soon as it is computed (the workers need no
    access to ``path``), so memory holds a few chunks, never the whole array. The file
    appears under its name only once complete: a failed run leaves no partial output.

    Parameters
    ----------
    Y : dask.array.Array, (M, d)
    path : str or os.PathLike
        ``.npy`` (replaced if it exists) or ``.zarr`` (must not exist yet).
    client : distributed.Client, optional
        Where to compute (default: the current client; without one, Dask's local scheduler).
    """
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext not in ON_DISK_FORMATS:
        raise ValueError(f"cannot write {path!r} in chunks: use one of {', '.join(ON_DISK_FORMATS)}.")
    if ext == ".zarr" and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists; remove it or choose another name.")
    partial = f"{path}.partial"
    try:
        if ext == ".npy":
            target = np.lib.format.open_memmap(partial, mode="w+", dtype=Y.dtype, shape=Y.shape)
        else:
            import zarr
            if os.path.exists(partial):  # left by a run that was killed
                shutil.rmtree(partial)
            target = zarr.open_array(partial, mode="w-", shape=Y.shape, dtype=Y.dtype,
                                     chunks=(max(Y.chunks[0]),) + Y.shape[1:])
        _store(Y, target, client if client is not None else _current_client())
        if ext == ".npy":
            target.flush()
            del target
        os.replace(partial, path)
    finally:
        if os.path.isdir(partial):
            shutil.rmtree(partial)
        elif os.path.exists(partial):
            os.remove(partial)


def _store(Y, target, client):
    """Write each row chunk of ``Y`` into ``target`` (in this process) as it is computed."""
    if client is None:
        Y.store(target, lock=True)  # Dask's local schedulers share this process's target
        return
    from distributed import as_completed
    starts = np.concatenate([[0], np.cumsum(Y.chunks[0])])
    blocks = Y.to_delayed().ravel()
    futures = client.compute(list(blocks))
    rows = {future.key: (starts[i], starts[i + 1]) for i, future in enumerate(futures)}
    try:
        for future, block in as_completed(futures, with_results=True):
            start, stop = rows[future.key]
            target[start:stop] = block
            future.release()
    finally:
        client.cancel(futures)
