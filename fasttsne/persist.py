"""Saving and loading embeddings: one ``.npz`` file built only from safe parts.

Format (version 2)
------------------
A zip archive as written by ``numpy.savez`` holding

- ``metadata.json``: a uint8 array of UTF-8 JSON: ``{"format": "fasttsne-embedding",
  "version": 2, "fasttsne_version": ..., "embedding": <encoded state>,
  "checksums": {"a0": <SHA-256 of a0's data bytes>, ...}}``;
- one numeric array per array-valued piece of state, named ``a<number>``.

Version 1 is the same without ``"checksums"``; it is still read, with every check below
except the checksums.

The encoded state is JSON in which arrays, byte strings and sparse matrices are
references to the numeric members (``{"__array__": "a3"}``, ``{"__bytes__": "a4"}``,
``{"__csr__": {...}}``) and objects (the affinity model, the neighbour backend) are
``{"__object__": "<kind>:<name>", "state": {...}}``. Objects are rebuilt only from classes
found by name in :mod:`fasttsne.registry` (affinity models, neighbour backends, gradient
methods, and the embedding class itself) by restoring their attribute dictionary: loading
never unpickles and never runs code named by the file. Files are read with
``allow_pickle=False``.

A file is not trusted: :func:`load` reads only the members the metadata refers to, each
after checking its header against the zip directory (:mod:`fasttsne._npz`), verifies the
checksums, restores only data attributes (a file cannot shadow a method), checks every
restored object's state (P's structure and values, the neighbour index's graphs and native
blobs, thread counts) before a compiled library sees it, and reports any problem as one
``ValueError`` naming the file.

This module sits below the embedding it stores: it names every class, the embedding's
included, through the registry, so ``Embedding.save`` can call it without an import cycle.
"""
import inspect
import json
import numbers
import os
import secrets

import numpy as np
import scipy.sparse as sp

from . import registry
from ._npz import Archive, ArchiveError, checksum
from ._params import TSNE_PARAMS, check
from ._sparse import check_csr
from ._threads import check_n_jobs
from ._version import __version__
from .optim import OptimizerState, Phase

__all__ = ["save", "load", "FORMAT", "VERSION", "MODEL_KIND", "MODEL_NAME"]

FORMAT = "fasttsne-embedding"
VERSION = 2
#: Format versions this fasttsne reads.
READABLE_VERSIONS = (1, 2)
_METADATA = "metadata.json"
#: Registry kind and name of the class a file of this format holds (``fasttsne.Embedding``).
MODEL_KIND = "model"
MODEL_NAME = "Embedding"
#: The kinds a file's ``"__object__"`` entries name ("<kind>:<name>"), and their registry kinds.
_FILE_KINDS = {"affinity": "affinity", "neighbors": "neighbors", "gradient": "gradients"}


class _Encoder:
    """Turns an object graph into JSON plus a dict of numeric arrays."""

    def __init__(self):
        self.arrays = {}

    def _add(self, array):
        key = f"a{len(self.arrays)}"
        # C order, so the checksum of the bytes numpy writes is the checksum of the array
        self.arrays[key] = np.ascontiguousarray(array)
        return key

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, int, float, str)):
            if isinstance(value, float) and not np.isfinite(value):
                return {"__float__": repr(value)}
            return value
        if isinstance(value, np.generic):
            return self.encode(value.item(), where)
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in "biuf":
                raise TypeError(f"cannot save {where}: array of dtype {value.dtype}.")
            return {"__array__": self._add(value)}
        if isinstance(value, (bytes, bytearray, memoryview)):
            return {"__bytes__": self._add(np.frombuffer(bytes(value), dtype=np.uint8))}
        if sp.issparse(value):
            m = sp.csr_matrix(value)
            return {"__csr__": {"data": self._add(m.data), "indices": self._add(m.indices),
                                "indptr": self._add(m.indptr), "shape": list(m.shape)}}
        if isinstance(value, (list, tuple)):
            return {"__list__": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(value)],
                    "tuple": isinstance(value, tuple)}
        if isinstance(value, dict):
            if not all(isinstance(k, str) for k in value):
                raise TypeError(f"cannot save {where}: a dict with non-string keys.")
            return {"__dict__": {k: self.encode(v, f"{where}.{k}") for k, v in value.items()}}
        if isinstance(value, OptimizerState):
            return {"__optimizer__": {"update": self.encode(value.update, where), "gains": self.encode(value.gains, where),
                                      "n_iter": int(value.n_iter)}}
        if isinstance(value, (np.random.Generator, np.random.RandomState)):
            return None  # a consumed generator cannot be restored; the result is already computed
        for kind, registry_kind in _FILE_KINDS.items():
            if isinstance(value, registry.base(registry_kind)):
                try:
                    name = registry.name_of(registry_kind, type(value))
                except LookupError as e:
                    raise TypeError(f"cannot save {where}: {e}") from None
                state = value.__getstate__() if hasattr(value, "__getstate__") else value.__dict__
                if state is None:
                    state = {}
                return {"__object__": f"{kind}:{name}", "state": self.encode(dict(state), f"{where}<{name}>")}
        raise TypeError(f"cannot save {where}: values of type {type(value).__name__} have no safe encoding.")


class _Decoder:
    """Rebuilds the object graph, reading each referenced member once, on demand."""

    def __init__(self, archive, checksums):
        self.archive = archive
        self.checksums = checksums
        self.arrays = {}

    def _get(self, key):
        if not isinstance(key, str) or key == _METADATA:
            raise ValueError(f"the metadata refers to an invalid member {key!r:.40}.")
        if key not in self.arrays:
            digest = None
            if self.checksums is not None:
                digest = self.checksums.get(key)
                if not isinstance(digest, str):
                    raise ValueError(f"member {key!r} has no checksum in the metadata.")
            self.arrays[key] = self.archive.read_array(key, digest)
        return self.arrays[key]

    def decode(self, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            raise ValueError("malformed state: bare list.")
        if not isinstance(value, dict) or len(value) == 0:
            raise ValueError(f"malformed state entry {value!r:.80}.")
        if "__float__" in value:
            return float(str(value["__float__"]))
        if "__array__" in value:
            return self._get(value["__array__"])
        if "__bytes__" in value:
            return self._get(value["__bytes__"]).tobytes()
        if "__csr__" in value:
            c = _expect(value["__csr__"], dict, "a sparse matrix")
            shape = c["shape"]
            if (not isinstance(shape, list) or len(shape) != 2
                    or not all(type(s) is int and 0 <= s < 2 ** 62 for s in shape)):
                raise ValueError(f"a sparse matrix has an invalid shape {shape!r:.40}.")
            m = sp.csr_matrix(tuple(shape), dtype=np.float64)
            # assembled field by field: the constructor would index the arrays before the check
            m.data, m.indices, m.indptr = self._get(c["data"]), self._get(c["indices"]), self._get(c["indptr"])
            check_csr(m, shape, "a sparse matrix")
            return m
        if "__list__" in value:
            items = [self.decode(v) for v in _expect(value["__list__"], list, "a list")]
            return tuple(items) if value.get("tuple") else items
        if "__dict__" in value:
            return {k: self.decode(v) for k, v in _expect(value["__dict__"], dict, "a dict").items()}
        if "__optimizer__" in value:
            o = _expect(value["__optimizer__"], dict, "the optimizer state")
            n_iter = o["n_iter"]
            if type(n_iter) is not int or n_iter < 0:
                raise ValueError(f"the optimizer state has an invalid n_iter {n_iter!r:.40}.")
            update, gains = self.decode(o["update"]), self.decode(o["gains"])
            for field, a in (("update", update), ("gains", gains)):
                if not isinstance(a, np.ndarray) or a.dtype != np.float64 or not np.all(np.isfinite(a)):
                    raise ValueError(f"the optimizer state's {field} is not a finite float64 array.")
            return OptimizerState(update, gains, n_iter)
        if "__object__" in value:
            kind, _, name = str(value["__object__"]).partition(":")
            cls = _known_class(kind, name)
            state = self.decode(value["state"])
            if not isinstance(state, dict):
                raise ValueError(f"the state of {kind} {name!r} is not a dict.")
            check_attributes(cls, state, f"{kind} {name!r}")
            check = getattr(cls, "check_saved_state", None) or getattr(cls, "check_state", None)
            if check is not None:
                check(state)
            obj = cls.__new__(cls)
            if callable(getattr(type(obj), "__setstate__", None)):
                obj.__setstate__(state)
            else:
                obj.__dict__.update(state)
            return obj
        raise ValueError(f"malformed state entry with keys {sorted(value)[:5]}.")


def _expect(value, kind, what):
    if not isinstance(value, kind):
        raise ValueError(f"{what} is stored as {type(value).__name__}, not {kind.__name__}.")
    return value


#: Values a class-level data attribute may have for a saved instance to restore it.
_PLAIN = (bool, int, float, str, type(None))


def check_attributes(cls, state, what):
    """Refuse a saved state that would set anything but data attributes of ``cls``.

    A name must be an identifier that is not private to Python (``__x__``); where ``cls``
    defines the name itself, only a plain value of the same type may replace it, so a file
    cannot shadow a method, a property or any other descriptor (``transform``, ``save``,
    ``sum_p_log_p``, ...); a class-level ``None`` is a default any value may replace.
    ``n_jobs`` must be a valid thread request.
    """
    for key, value in state.items():
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("__"):
            raise ValueError(f"the state of {what} has an invalid attribute name {key!r:.40}.")
        attr = inspect.getattr_static(cls, key, _MISSING)
        if attr is not _MISSING and attr is not None and not (isinstance(attr, _PLAIN)
                                                              and type(value) is type(attr)):
            raise ValueError(f"the state of {what} would replace {cls.__name__}.{key}, which is not "
                             "a data attribute.")
    if "n_jobs" in state:
        check_n_jobs(state["n_jobs"])


_MISSING = object()


def _known_class(kind, name):
    """The registered class a file's ``"<kind>:<name>"`` stands for.

    Only names are looked up: the file can select a class registered here or an installed
    plugin's entry point, never a module or attribute of its own choosing.
    """
    if kind in _FILE_KINDS and isinstance(name, str):
        try:
            return registry.lookup(_FILE_KINDS[kind], name)
        except registry.UnknownNameError:
            pass
    raise ValueError(f"the file names an unknown {kind} class {name!r}: it was written with a backend "
                     "that is not installed or registered here.")


def check_affinity_state(model, n_samples):
    """Check a restored affinity model against the positions it belongs to (``n_samples``)."""
    if not isinstance(model, registry.base("affinity")):
        raise ValueError("the affinities are not an affinity model.")
    check_csr(getattr(model, "P", None), (n_samples, n_samples), "P", nonnegative=True)
    if getattr(model, "n_samples", n_samples) != n_samples:
        raise ValueError(f"the affinity model says {model.n_samples!r:.40} points, the positions {n_samples}.")
    s = model.__dict__.get("_sum_p_log_p")
    if s is not None and not (isinstance(s, numbers.Real) and np.isfinite(s)):
        raise ValueError("the affinity model's sum of p log p is not a finite number.")
    index = model.__dict__.get("index")
    if index is not None:
        if not isinstance(index, registry.base("neighbors")):
            raise ValueError("the affinity model's neighbour index is not a neighbour backend.")
        if index.n_samples_ != n_samples:
            raise ValueError(f"the neighbour index holds {index.n_samples_!r:.40} points, the "
                             f"positions {n_samples}.")


def check_embedding_state(state):
    """Check an Embedding's decoded state before it is restored; raises ValueError."""
    model = registry.lookup(MODEL_KIND, MODEL_NAME)
    check_attributes(model, state, "the embedding")
    positions = state.get("_positions")
    if (not isinstance(positions, np.ndarray) or positions.dtype != np.float64 or positions.ndim != 2
            or positions.shape[0] < 1 or positions.shape[1] < 1):
        raise ValueError("no positions (a 2-D float64 array) in the file.")
    check_affinity_state(state.get("affinities"), positions.shape[0])
    check(TSNE_PARAMS, {"dof": state.get("dof", 1.0), "n_jobs": state.get("n_jobs", 1)})
    kl = state.get("kl_divergence")
    if kl is not None and not (isinstance(kl, numbers.Real) and np.isfinite(kl)):
        raise ValueError(f"kl_divergence {kl!r:.40} is not a finite number.")
    n_features = state.get("n_features")
    index = getattr(state["affinities"], "index", None)
    if n_features is not None:
        if type(n_features) is not int or n_features < 1:
            raise ValueError(f"n_features {n_features!r:.40} is not a positive integer.")
        if getattr(index, "n_features_", n_features) != n_features:
            raise ValueError(f"n_features is {n_features} but the neighbour index holds "
                             f"{index.n_features_!r:.40} features.")
    method = state.get("negative_gradient_method", "auto")
    if not isinstance(method, (str, registry.base("gradients"))):
        raise ValueError("negative_gradient_method is neither a name nor a gradient backend.")
    params = state.get("gradient_params", {})
    if not isinstance(params, dict) or not all(isinstance(v, _PLAIN) for v in params.values()):
        raise ValueError("gradient_params is not a dict of plain values.")
    phases = state.get("phases_", ())
    if not isinstance(phases, (list, tuple)):
        raise ValueError("phases_ is not a list.")
    fields = set(Phase.__dataclass_fields__)
    for p in phases:
        if not isinstance(p, dict) or not set(p) <= fields or not all(isinstance(v, _PLAIN) for v in p.values()):
            raise ValueError(f"a phase is stored as {p!r:.60}, not a dict of {sorted(fields)}.")


def save(embedding, path):
    """Write ``embedding`` to ``path`` (one file; see the module docstring for the format).

    A path is written through a new, uniquely named file in the same folder that then
    replaces ``path`` in one step: a reader sees the old file or the new one, never a
    partial file, also when several processes save to one path at once (the last wins).

    Parameters
    ----------
    embedding : Embedding
    path : str or os.PathLike or writable binary file
        Written exactly at this path (no extension is added).
    """
    model = registry.lookup(MODEL_KIND, MODEL_NAME)
    if not isinstance(embedding, model):
        raise TypeError(f"save expects a fasttsne.Embedding, got {type(embedding).__name__}.")
    enc = _Encoder()
    state = embedding.__getstate__()
    body = enc.encode(state, "Embedding")
    meta = {"format": FORMAT, "version": VERSION, "fasttsne_version": __version__, "embedding": body,
            "checksums": {key: checksum(a) for key, a in enc.arrays.items()}}
    members = dict(enc.arrays)
    members[_METADATA] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **members)
        return
    path = os.fspath(path)
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.{secrets.token_hex(8)}.partial")
    try:
        # O_EXCL: the name is this call's alone; 0o666 lets the umask set the permissions
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **members)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


#: Errors that a malformed state can raise while being rebuilt, reported as ValueError.
_MALFORMED = (KeyError, IndexError, TypeError, AttributeError, RecursionError, OverflowError)


def load(path):
    """Read an Embedding written by :func:`save` (or ``Embedding.save``).

    The file is checked before anything in it is used (see the module docstring); a damaged
    or crafted file raises ``ValueError``, it does not crash the process.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is truncated or corrupt, is not a fasttsne embedding, was written
        by a newer format version than this fasttsne reads, or holds a state that does not
        hold together; the message names the file and what is wrong.
    """
    name = getattr(path, "name", path)
    try:
        with Archive(path) as archive:
            if _METADATA not in archive.names:
                raise ValueError(f"is not a fasttsne embedding file (no {_METADATA} member).")
            meta = archive.read_json(_METADATA)
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("is not a fasttsne embedding file (format "
                                 f"{meta.get('format') if isinstance(meta, dict) else None!r:.40}).")
            version = meta.get("version")
            if type(version) is not int or version not in READABLE_VERSIONS:
                raise ValueError(f"was written in format version {version!r:.20} by fasttsne "
                                 f"{meta.get('fasttsne_version')!r:.20}; this fasttsne reads up to "
                                 f"version {VERSION}: upgrade fasttsne to read it.")
            checksums = None
            if version >= 2:
                checksums = _expect(meta.get("checksums"), dict, "the checksums")
            state = _Decoder(archive, checksums).decode(meta.get("embedding"))
        if not isinstance(state, dict):
            raise ValueError("is not a fasttsne embedding file (no embedding state).")
        check_embedding_state(state)
        model = registry.lookup(MODEL_KIND, MODEL_NAME)
        embedding = object.__new__(model)
        embedding.__setstate__(state)
    except FileNotFoundError:
        raise
    except ArchiveError as e:
        raise ValueError(f"{name} is truncated, corrupt or not a fasttsne embedding file: {e}") from None
    except ValueError as e:
        joint = " " if str(e).startswith(("is ", "was ")) else ": "
        raise ValueError(f"{name}{joint}{e}") from None
    except _MALFORMED as e:
        raise ValueError(f"{name}: malformed embedding state ({type(e).__name__}: {e}).") from None
    return embedding
