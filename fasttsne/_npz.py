"""Reading the members of an ``.npz`` archive without trusting the archive.

``numpy.load`` believes every ``.npy`` header it reads: a header may announce an array of
10¹² elements, and a highly compressed member inflates to whatever it holds. Here each
member is read only when asked for, and only after its header is checked against the
zip directory: the announced shape and dtype must account exactly for the member's
uncompressed size, that size must be in proportion to the bytes stored, and only plain
numeric dtypes are accepted. JSON is read with a bounded size and nesting depth. Every
failure is an :class:`ArchiveError` (a ``ValueError``) saying what is wrong (without the file's name, which
the caller adds).
"""
import ast
import hashlib
import json
import re
import zipfile
import zlib

import numpy as np

__all__ = ["Archive", "ArchiveError", "checksum", "MAX_JSON_BYTES", "MAX_JSON_DEPTH"]

#: Largest JSON member read (bytes).
MAX_JSON_BYTES = 16 << 20
#: Deepest nesting of JSON arrays and objects accepted.
MAX_JSON_DEPTH = 64
#: Largest ``.npy`` header accepted (bytes); numpy writes a few hundred.
MAX_NPY_HEADER = 1 << 16
#: A compressed member may inflate to at most this many times its stored size, unless it
#: is smaller than ``SMALL_MEMBER`` bytes. fasttsne writes uncompressed members.
MAX_COMPRESSION_RATIO = 32
SMALL_MEMBER = 1 << 16
#: dtype kinds a member may hold: booleans, integers, floats.
NUMERIC_KINDS = "biuf"

NPY_MAGIC = b"\x93NUMPY"
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class ArchiveError(ValueError):
    """The archive or one of its members is damaged or not what it claims to be."""


def checksum(data):
    """SHA-256 hex digest of ``data`` (bytes, or an array's bytes in C order)."""
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).data
    return hashlib.sha256(data).hexdigest()


def json_depth(raw):
    """Deepest nesting of arrays and objects in the JSON text ``raw`` (bytes)."""
    skeleton = np.frombuffer(_JSON_STRING.sub(b'""', raw), dtype=np.uint8)
    opens = (skeleton == ord("{")) | (skeleton == ord("["))
    closes = (skeleton == ord("}")) | (skeleton == ord("]"))
    steps = opens.astype(np.int64) - closes
    return int(np.cumsum(steps).max()) if steps.size else 0


class Archive:
    """An ``.npz`` file opened for checked, on-demand reading of its members.

    Parameters
    ----------
    file : str, os.PathLike or readable binary file

    Raises
    ------
    FileNotFoundError
    ValueError
        When the file is not a readable zip archive.
    """

    def __init__(self, file):
        try:
            self._zip = zipfile.ZipFile(file)
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError) as e:
            if _starts_with(file, NPY_MAGIC):
                raise ArchiveError("holds a single numpy array, not an archive.") from None
            raise ArchiveError(f"is not a readable zip archive ({e}).") from None
        self._infos = {}
        for info in self._zip.infolist():
            self._infos.setdefault(info.filename, info)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._zip.close()
        return False

    @property
    def names(self):
        """Member names without numpy's ``.npy`` suffix."""
        return [n[:-4] if n.endswith(".npy") else n for n in self._infos]

    def _info(self, name):
        info = self._infos.get(f"{name}.npy", self._infos.get(name))
        if info is None:
            raise ArchiveError(f"has no member {name!r}.")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {name!r} is encrypted.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"member {name!r} uses an unsupported compression.")
        if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
            raise ArchiveError(f"member {name!r} declares inconsistent sizes in the zip directory.")
        if (info.file_size > SMALL_MEMBER
                and info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            raise ArchiveError(f"member {name!r} would inflate from {info.compress_size} to "
                             f"{info.file_size} bytes, out of proportion to what is stored.")
        return info

    def _read(self, info, n=-1):
        try:
            with self._zip.open(info) as f:
                return f.read(n)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error, RuntimeError, ValueError,
                NotImplementedError) as e:
            raise ArchiveError(f"member {info.filename!r} is damaged ({e}).") from None

    def read_array(self, name, digest=None):
        """Member ``name`` as a numeric array (native byte order), checked before it is read.

        Parameters
        ----------
        name : str
        digest : str, optional
            Expected :func:`checksum` of the member's data bytes.
        """
        info = self._info(name)
        head = self._read(info, min(info.file_size, MAX_NPY_HEADER + 16))
        dtype, shape, fortran, offset = _npy_header(head, name)
        count = 1
        for s in shape:
            count *= s
        if offset + count * dtype.itemsize != info.file_size:
            raise ArchiveError(f"member {name!r} announces shape {shape} of {dtype} "
                             f"({count * dtype.itemsize} bytes) but holds {info.file_size - offset}.")
        raw = bytearray(self._read(info))  # the whole member: zipfile checks its CRC-32
        if len(raw) != info.file_size:
            raise ArchiveError(f"member {name!r} is truncated.")
        data = memoryview(raw)[offset:]
        if digest is not None and checksum(data) != digest:
            raise ArchiveError(f"member {name!r} does not match the checksum written with it.")
        array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
        if not dtype.isnative:
            array = array.astype(dtype.newbyteorder("="))
        return array

    def read_json(self, name):
        """Member ``name`` (a uint8 ``.npy`` array of UTF-8 JSON) parsed, within the bounds."""
        info = self._info(name)
        if info.file_size > MAX_JSON_BYTES + MAX_NPY_HEADER:
            raise ArchiveError(f"member {name!r} is larger than {MAX_JSON_BYTES} bytes.")
        array = self.read_array(name)
        if array.dtype != np.uint8 or array.ndim != 1:
            raise ArchiveError(f"member {name!r} is not UTF-8 text.")
        raw = array.tobytes()
        if json_depth(raw) > MAX_JSON_DEPTH:
            raise ArchiveError(f"member {name!r} nests deeper than {MAX_JSON_DEPTH} levels.")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            raise ArchiveError(f"member {name!r} is not valid JSON ({e}).") from None


def _starts_with(file, magic):
    """Whether the file (a path or a seekable binary file) begins with ``magic``."""
    try:
        if hasattr(file, "read"):
            where = file.tell()
            try:
                file.seek(0)
                return file.read(len(magic)) == magic
            finally:
                file.seek(where)
        with open(file, "rb") as f:
            return f.read(len(magic)) == magic
    except (OSError, ValueError, TypeError):
        return False


def _npy_header(head, name):
    """(dtype, shape, fortran_order, data offset) of the ``.npy`` bytes starting ``head``."""
    if len(head) < 10 or not head.startswith(NPY_MAGIC):
        raise ArchiveError(f"member {name!r} is not a .npy array.")
    major = head[6]
    if major == 1:
        length, start = int.from_bytes(head[8:10], "little"), 10
    elif major in (2, 3):
        length, start = int.from_bytes(head[8:12], "little"), 12
    else:
        raise ArchiveError(f"member {name!r} has an unknown .npy version {major}.")
    if length > MAX_NPY_HEADER or start + length > len(head):
        raise ArchiveError(f"member {name!r} has a truncated or oversized .npy header.")
    try:
        text = head[start:start + length].decode("utf-8" if major == 3 else "latin1")
        header = ast.literal_eval(text)
    except (UnicodeDecodeError, SyntaxError, ValueError, MemoryError, RecursionError):
        raise ArchiveError(f"member {name!r} has an unreadable .npy header.") from None
    if not isinstance(header, dict) or set(header) != {"descr", "fortran_order", "shape"}:
        raise ArchiveError(f"member {name!r} has a malformed .npy header.")
    shape, fortran, descr = header["shape"], header["fortran_order"], header["descr"]
    if (not isinstance(shape, tuple) or len(shape) > 8 or not isinstance(fortran, bool)
            or not all(type(s) is int and s >= 0 for s in shape)):
        raise ArchiveError(f"member {name!r} has a malformed .npy header.")
    if not isinstance(descr, str) or len(descr) > 8:
        raise ArchiveError(f"member {name!r} holds a dtype this format does not use ({descr!r:.40}).")
    try:
        dtype = np.dtype(descr)
    except (TypeError, ValueError):
        raise ArchiveError(f"member {name!r} has an unknown dtype {descr!r}.") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.itemsize == 0:
        raise ArchiveError(f"member {name!r} holds dtype {dtype}, not a plain numeric one.")
    return dtype, shape, fortran, start + length
