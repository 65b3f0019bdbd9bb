"""Read ``.npy``/``.npz`` image files without ever executing pickled code or trusting headers.

The course's alnum52 files were written as pickled ``{'image': array}`` objects, read with
``np.load(..., allow_pickle=True)``. Here every file is first read whole, as a regular file
under a size limit ([`read_regular_file`][alnumzoo.data.base.read_regular_file]), then decoded from
memory:

- plain arrays are rebuilt from their header only when the bytes that follow match the shape
  the header claims, so a header cannot make the reader allocate memory it has no data for;
- pickled ones go through an unpickler that can only rebuild numpy arrays, dicts, lists and
  scalars: every other callable is refused before it runs, and array constructions that would
  allocate without data (calling ``numpy.ndarray`` directly, a non-empty ``_reconstruct``)
  are refused too, so every array's bytes come from the file itself.
"""

from __future__ import annotations

import io
import math
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from alnumzoo.data.base import DatasetFormatError, read_regular_file

__all__ = ["MAX_IMAGE_FILE_BYTES", "UnsafeArrayError", "load_image_array"]

#: Largest image file (and largest array in it) read: far above a 100x100 course image, far
#: below what would hurt a machine.
MAX_IMAGE_FILE_BYTES = 64 * 2**20
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = b"PK\x03\x04"


class UnsafeArrayError(DatasetFormatError):
    """A data file asked to run code, to allocate memory it holds no data for, or held
    something other than numeric arrays."""


class _NdarrayStandIn:
    """Stands in for ``numpy.ndarray`` inside a pickle: accepted only as ``_reconstruct``'s
    subtype argument; calling it (which would allocate an uninitialised array of any shape)
    is refused."""

    def __init__(self, refuse: Callable[[str], UnsafeArrayError]) -> None:
        self._refuse = refuse

    def __call__(self, *args: Any) -> None:
        raise self._refuse(f"numpy.ndarray{args!r} (an array without data)")


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, source: Path) -> None:
        super().__init__(file)
        self._source = source
        self._ndarray = _NdarrayStandIn(self._refuse)

    def _refuse(self, what: str) -> UnsafeArrayError:
        return UnsafeArrayError(
            f"refusing to unpickle {what} from {self._source}: only numeric numpy arrays "
            "(optionally in a dict) are accepted in data files"
        )

    def find_class(self, module: str, name: str) -> Any:
        numpy_core = module in ("numpy.core.multiarray", "numpy._core.multiarray")
        if (module, name) == ("numpy", "ndarray"):
            return self._ndarray
        if (module, name) == ("numpy", "dtype"):
            # Object dtypes are allowed: the course pickles a 0-d object array holding the
            # dict. Its items are rebuilt by this same unpickler, and numpy sizes the array
            # from the list of items the pickle carries.
            return super().find_class(module, name)
        if numpy_core and name == "_reconstruct":
            return self._reconstruct(super().find_class(module, name))
        if numpy_core and name == "scalar":
            return super().find_class(module, name)
        if module in ("numpy.core.numeric", "numpy._core.numeric") and name == "_frombuffer":
            return self._frombuffer
        if (module, name) == ("_codecs", "encode"):
            return super().find_class(module, name)
        raise self._refuse(f"{module}.{name}")

    def _reconstruct(self, real: Any) -> Any:
        def reconstruct(subtype: Any, shape: Any, dtype: Any) -> Any:
            # numpy pickles an array as an empty one whose __setstate__ then brings the
            # shape together with exactly that many bytes of data (numpy checks the size).
            if subtype is not self._ndarray or tuple(shape) != (0,):
                raise self._refuse(f"an array constructed without its data (shape {shape})")
            return real(np.ndarray, (0,), dtype)

        return reconstruct

    def _frombuffer(self, buffer: Any, dtype: Any, shape: Any, order: Any) -> np.ndarray:
        dtype = np.dtype(dtype)
        if dtype.hasobject or math.prod(shape) * dtype.itemsize != len(buffer):
            raise self._refuse(f"a buffer of {len(buffer)} bytes as {shape} {dtype}")
        array: np.ndarray = np.frombuffer(buffer, dtype=dtype).reshape(tuple(shape), order=order)
        return array


def _read_npy(data: bytes, path: Path, *, allow_object: bool) -> Any:
    f = io.BytesIO(data)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise DatasetFormatError(f"{path}: unsupported .npy format version {version}")
    if dtype.hasobject:
        if not allow_object or shape != ():
            raise UnsafeArrayError(f"{path} holds an object array of shape {shape}, not images")
        return _ArrayOnlyUnpickler(f, path).load()
    count = math.prod(shape)
    body = memoryview(data)[f.tell() :]
    if count * dtype.itemsize != len(body):
        raise DatasetFormatError(
            f"{path}: the header declares {shape} {dtype} ({count * dtype.itemsize:,} bytes) "
            f"but {len(body):,} bytes of data follow (truncated or forged)"
        )
    array = np.frombuffer(body, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def _read_npz(data: bytes, path: Path, key: str) -> np.ndarray:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n.removesuffix(".npy") for n in archive.namelist()]
        if key not in names:
            raise UnsafeArrayError(f"{path} holds keys {sorted(names)}, expected an {key!r} array")
        info = archive.getinfo(f"{key}.npy")
        if info.file_size > MAX_IMAGE_FILE_BYTES:
            raise DatasetFormatError(
                f"{path}: member {key}.npy unpacks to {info.file_size:,} bytes, over the limit"
            )
        with archive.open(info) as member:
            raw = member.read(MAX_IMAGE_FILE_BYTES + 1)
    if len(raw) > MAX_IMAGE_FILE_BYTES:
        raise DatasetFormatError(f"{path}: member {key}.npy unpacks past the size limit")
    array: np.ndarray = _read_npy(raw, path, allow_object=False)
    return array


def _pick_image(obj: Any, path: Path, key: str) -> np.ndarray:
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if isinstance(obj, dict):
        if key not in obj:
            raise UnsafeArrayError(
                f"{path} holds keys {sorted(map(str, obj))}, expected an {key!r} array"
            )
        obj = obj[key]
    if not isinstance(obj, np.ndarray) or obj.dtype.kind not in "biuf":
        raise UnsafeArrayError(f"{path} does not hold a numeric image array (got {type(obj)})")
    return obj


def load_image_array(path: str | Path, key: str = "image") -> np.ndarray:
    """Load an image array from ``.npy`` (plain or pickled dict) or ``.npz`` safely.

    Only regular files of at most `MAX_IMAGE_FILE_BYTES` are read.

    Args:
        path: The file.
        key: Entry holding the image when the file holds a dict or an archive.

    Raises:
        UnsafeArrayError: the file would need to run code or to allocate without data, or
            holds no numeric array.
        alnumzoo.data.DatasetFormatError: not a regular file, too large, or not a readable
            ``.npy``/``.npz`` file (truncated, corrupt, forged header); the message names it.
    """
    path = Path(path)
    data = read_regular_file(path, MAX_IMAGE_FILE_BYTES)
    try:
        if data.startswith(_ZIP_MAGIC):
            return _read_npz(data, path, key)
        if not data.startswith(_NPY_MAGIC):
            raise DatasetFormatError(
                f"{path} is not a readable .npy/.npz image file (starts with {data[:8]!r})"
            )
        obj = _read_npy(data, path, allow_object=True)
    except DatasetFormatError:
        raise
    except Exception as exc:  # decoding untrusted bytes in memory: any failure is a bad file
        raise DatasetFormatError(f"{path} is not a readable .npy/.npz image file: {exc!r}") from exc
    return _pick_image(obj, path, key)
