"""Saving and loading embeddings: one ``.npz`` file built only from safe parts.

Format (version 1)
------------------
A zip archive as written by ``numpy.savez`` holding

- ``metadata.json``: a uint8 array of UTF-8 JSON: ``{"format": "fasttsne-embedding",
  "version": 1, "fasttsne_version": ..., "embedding": <encoded state>}``;
- one numeric array per array-valued piece of state, named ``a<number>``.

The encoded state is JSON in which arrays, byte strings and sparse matrices are
references to the numeric members (``{"__array__": "a3"}``, ``{"__bytes__": "a4"}``,
``{"__csr__": {...}}``) and objects (the affinity model, the neighbour backend) are
``{"__object__": "<kind>:<name>", "state": {...}}``. Objects are rebuilt only from classes
found by name in :mod:`fasttsne.registry` (affinity models, neighbour backends, gradient
methods, and the embedding class itself) by restoring their attribute dictionary: loading
never unpickles and never runs code named by the file. Files are read with
``allow_pickle=False``.

This module sits below the embedding it stores: it names every class, the embedding's
included, through the registry, so ``Embedding.save`` can call it without an import cycle.
"""
import json
import os
import zipfile

import numpy as np
import scipy.sparse as sp

from . import registry
from ._version import __version__
from .optim import OptimizerState

__all__ = ["save", "load", "FORMAT", "VERSION", "MODEL_KIND", "MODEL_NAME"]

FORMAT = "fasttsne-embedding"
VERSION = 1
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
        self.arrays[key] = array
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
        if isinstance(value, np.random.Generator):
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
    def __init__(self, arrays):
        self.arrays = arrays

    def _get(self, key):
        if not isinstance(key, str) or key not in self.arrays:
            raise ValueError(f"the file refers to a missing member {key!r}.")
        return self.arrays[key]

    def decode(self, value):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            raise ValueError("malformed state: bare list.")
        if not isinstance(value, dict) or len(value) == 0:
            raise ValueError(f"malformed state entry {value!r:.80}.")
        if "__float__" in value:
            return float(value["__float__"])
        if "__array__" in value:
            return self._get(value["__array__"])
        if "__bytes__" in value:
            return self._get(value["__bytes__"]).tobytes()
        if "__csr__" in value:
            c = value["__csr__"]
            return sp.csr_matrix((self._get(c["data"]), self._get(c["indices"]), self._get(c["indptr"])),
                                 shape=tuple(c["shape"]))
        if "__list__" in value:
            items = [self.decode(v) for v in value["__list__"]]
            return tuple(items) if value.get("tuple") else items
        if "__dict__" in value:
            return {k: self.decode(v) for k, v in value["__dict__"].items()}
        if "__optimizer__" in value:
            o = value["__optimizer__"]
            return OptimizerState(self.decode(o["update"]), self.decode(o["gains"]), int(o["n_iter"]))
        if "__object__" in value:
            kind, _, name = value["__object__"].partition(":")
            cls = _known_class(kind, name)
            obj = cls.__new__(cls)
            state = self.decode(value["state"])
            if callable(getattr(type(obj), "__setstate__", None)):
                obj.__setstate__(state)
            else:
                obj.__dict__.update(state)
            return obj
        raise ValueError(f"malformed state entry with keys {sorted(value)[:5]}.")


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


def save(embedding, path):
    """Write ``embedding`` to ``path`` (one file; see the module docstring for the format).

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
    meta = {"format": FORMAT, "version": VERSION, "fasttsne_version": __version__, "embedding": body}
    members = dict(enc.arrays)
    members[_METADATA] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    if hasattr(path, "write"):
        np.savez(path, **members)
        return
    tmp = f"{os.fspath(path)}.partial"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **members)
        os.replace(tmp, path)  # a crash mid-write never leaves a truncated file under the real name
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load(path):
    """Read an Embedding written by :func:`save` (or ``Embedding.save``).

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    ValueError
        When the file is truncated or corrupt, is not a fasttsne embedding, or was written
        by a newer format version than this fasttsne reads.
    """
    name = getattr(path, "name", path)
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"{name} holds a single numpy array, not a fasttsne embedding file.")
        with archive:
            if _METADATA not in archive.files:
                raise ValueError(f"{name} is not a fasttsne embedding file (no {_METADATA} member).")
            meta = json.loads(archive[_METADATA].tobytes().decode("utf-8"))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError(f"{name} is not a fasttsne embedding file (format "
                                 f"{meta.get('format') if isinstance(meta, dict) else None!r}).")
            version = meta.get("version")
            if not isinstance(version, int) or version > VERSION:
                raise ValueError(f"{name} was written in format version {version!r} by fasttsne "
                                 f"{meta.get('fasttsne_version')}; this fasttsne reads up to version "
                                 f"{VERSION}: upgrade fasttsne to read it.")
            arrays = {k: archive[k] for k in archive.files if k != _METADATA}
    except FileNotFoundError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, KeyError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{name} is truncated, corrupt or not a fasttsne embedding file ({e}).") from None
    except ValueError as e:
        if "fasttsne" in str(e):
            raise
        raise ValueError(f"{name} is truncated, corrupt or not a fasttsne embedding file ({e}).") from None
    state = _Decoder(arrays).decode(meta["embedding"])
    if not isinstance(state, dict) or "_positions" not in state:
        raise ValueError(f"{name} is not a fasttsne embedding file (no positions).")
    model = registry.lookup(MODEL_KIND, MODEL_NAME)
    embedding = object.__new__(model)
    embedding.__setstate__(state)
    return embedding
