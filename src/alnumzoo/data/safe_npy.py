"""Read ``.npy``/``.npz`` image files without ever executing pickled code.

The course's alnum52 files were written as pickled ``{'image': array}`` objects, read with
``np.load(..., allow_pickle=True)``. Plain arrays are read with ``allow_pickle=False``; pickled
ones go through an unpickler that can only rebuild numpy arrays, dicts, lists and scalars and
refuses every other callable before it runs.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["UnsafeArrayError", "load_image_array"]

# The only globals a pickled numpy array (and a dict holding it) needs to be rebuilt.
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


class UnsafeArrayError(ValueError):
    """A data file asked to run code or held something other than numeric arrays."""


class _ArrayOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: Path) -> None:
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafeArrayError(
            f"refusing to unpickle {module}.{name} from {self._source}: only numeric numpy "
            "arrays (optionally in a dict) are accepted in data files"
        )


def _unpickle_npy(path: Path) -> Any:
    with path.open("rb") as f:
        version = np.lib.format.read_magic(f)
        read_header = (
            np.lib.format.read_array_header_1_0
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0
        )
        shape, _, dtype = read_header(f)
        if dtype.hasobject and shape == ():
            return _ArrayOnlyUnpickler(f, path).load()
        if dtype.hasobject:
            raise UnsafeArrayError(f"{path} holds an object array of shape {shape}, not images")
    return np.load(path, allow_pickle=False)


def _pick_image(obj: Any, path: Path, key: str) -> np.ndarray:
    if isinstance(obj, np.ndarray) and obj.dtype == object and obj.shape == ():
        obj = obj.item()
    if isinstance(obj, dict | np.lib.npyio.NpzFile):
        if key not in obj:
            raise UnsafeArrayError(
                f"{path} holds keys {sorted(obj.keys())}, expected an {key!r} array"
            )
        obj = obj[key]
    if not isinstance(obj, np.ndarray) or obj.dtype.kind not in "biuf":
        raise UnsafeArrayError(f"{path} does not hold a numeric image array (got {type(obj)})")
    return obj


def load_image_array(path: str | Path, key: str = "image") -> np.ndarray:
    """Load an image array from ``.npy`` (plain or pickled dict) or ``.npz`` safely.

    Args:
        path: The file.
        key: Entry holding the image when the file holds a dict or an archive.

    Raises:
        UnsafeArrayError: the file would need to run code, or holds no numeric array.
        ValueError: the file is not a numpy file at all.
    """
    path = Path(path)
    try:
        if zipfile.is_zipfile(path):
            with np.load(path, allow_pickle=False) as archive:
                return _pick_image(archive, path, key)
        try:
            obj: Any = np.load(path, allow_pickle=False)
        except ValueError:  # numpy: "Object arrays cannot be loaded when allow_pickle=False"
            obj = _unpickle_npy(path)
    except UnsafeArrayError:
        raise
    except (pickle.UnpicklingError, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a readable .npy/.npz image file: {exc}") from exc
    return _pick_image(obj, path, key)
