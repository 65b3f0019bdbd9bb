"""Open untrusted image files safely and bring every pixel format to 8 bits correctly.

One reader for the data sets and for ``predict``: regular files only, a byte limit checked
before reading, Pillow's decompression-bomb guard turned into an error, empty images refused,
EXIF orientation applied, and 16-bit, 32-bit integer and float images scaled by what their
format means (a 16-bit mid-grey stays mid-grey) instead of being clipped.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from alnumzoo.data.base import DatasetFormatError, read_regular_file

__all__ = ["MAX_IMAGE_BYTES", "decode_image", "open_image", "to_8bit"]

#: Largest image file read (compressed bytes); Pillow's own pixel limit guards decoding.
MAX_IMAGE_BYTES = 64 * 2**20


def decode_image(data: bytes, where: str) -> Image.Image:
    """Decode image bytes fully (so truncation shows now), upright by its EXIF orientation.

    Raises:
        DatasetFormatError: not an image, truncated, a decompression bomb, or empty; the
            message names ``where``.
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns between 1x and 2x its pixel limit and raises above; both are refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                opened.load()
                image = ImageOps.exif_transpose(opened)
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DatasetFormatError(
            f"cannot read {where} as an image: refused as a decompression bomb ({exc})"
        ) from exc
    except UnidentifiedImageError as exc:
        raise DatasetFormatError(
            f"cannot read {where} as an image: not a readable image (unknown format)"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DatasetFormatError(
            f"cannot read {where} as an image: not a readable image ({exc})"
        ) from exc
    if image.width == 0 or image.height == 0:
        raise DatasetFormatError(
            f"cannot read {where} as an image: it is empty ({image.width}x{image.height})"
        )
    return image


def open_image(path: str | Path, max_bytes: int = MAX_IMAGE_BYTES) -> Image.Image:
    """Read and decode an image file (see [`decode_image`][alnumzoo.data.image_files.decode_image]);
    only regular files of at most ``max_bytes``.

    Raises:
        DatasetFormatError: as [`decode_image`][alnumzoo.data.image_files.decode_image], or not a
            regular file, or too large.
    """
    return decode_image(read_regular_file(path, max_bytes), str(path))


def to_8bit(image: Image.Image, where: str = "image") -> Image.Image:
    """The image with 8-bit channels: 16-bit (``I;16*``) and 32-bit integer (``I``) images are
    scaled from their full range (``I`` holding only 16-bit values, as Pillow opens 16-bit
    PNGs, counts as 16-bit), float (``F``) images from [0, 1] (or kept on [0, 255] when their
    values go past 1). 8-bit modes pass through.

    Raises:
        DatasetFormatError: a float image with NaN or infinite pixels.
    """
    if image.mode not in ("I", "F") and not image.mode.startswith("I;16"):
        return image
    array = np.asarray(image)
    if image.mode == "F":
        if not np.isfinite(array).all():
            raise DatasetFormatError(f"{where}: float image with NaN or infinite pixels")
        scale = 255.0 if float(array.max(initial=0.0)) <= 1.0 else 1.0
    elif image.mode.startswith("I;16") or int(array.max(initial=0)) <= 65535:
        scale = 255.0 / 65535.0
    else:
        scale = 255.0 / 4294967295.0
    scaled = np.clip(np.rint(array.astype(np.float64) * scale), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")
