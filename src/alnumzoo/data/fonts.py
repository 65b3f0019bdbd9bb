"""Find font files and keep only those that draw all 52 alnum52 characters as real glyphs."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

from alnumzoo.labels import ALNUM52

__all__ = ["DEFAULT_FONT_DIRS", "FontInfo", "find_font_files", "load_font", "screen_font"]

#: Where fonts are looked for when no directories are given (the usual Linux locations).
DEFAULT_FONT_DIRS: tuple[str, ...] = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
)
FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".pfb", ".woff", ".woff2")

# Families that map letters to pictures, math or other scripts: their "A" is not an A. Matched
# as whole words of the name (camel case split), so text faces whose names merely contain one
# ("Mathilde", "Silicon", "Kapi") are kept.
_SYMBOLIC = re.compile(
    r"\b(symbol|dingbat|icon|awesome|wingding|webding|math|braille|ornament|pi|barcode)s?\b"
    r"|emoji",
    re.IGNORECASE,
)
_CAMEL_HUMP = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _symbolic_name(name: str) -> bool:
    return _SYMBOLIC.search(_CAMEL_HUMP.sub(" ", name).replace("_", " ")) is not None
_PROBE_SIZE = 64


@dataclass(frozen=True)
class FontInfo:
    """A font face that passed [`screen_font`][alnumzoo.data.fonts.screen_font].

    Attributes:
        path: Font file.
        family: Family name as the font reports it (used to split train/valid by family).
        style: Style name (``"Regular"``, ``"Bold Italic"``, ...).
        cap_ratio: Height of ``H`` divided by the font size, used to size every glyph of the
            font so capitals fill the same share of the frame.
    """

    path: str
    family: str
    style: str
    cap_ratio: float


@lru_cache(maxsize=256)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """A cached FreeType font object for ``path`` at ``size`` pixels."""
    return ImageFont.truetype(path, size)


def find_font_files(dirs: Iterable[str | Path] | None = None) -> list[Path]:
    """Font files under ``dirs`` (default `DEFAULT_FONT_DIRS`), sorted, without duplicates."""
    found: set[Path] = set()
    for d in dirs if dirs is not None else DEFAULT_FONT_DIRS:
        root = Path(os.path.expanduser(str(d)))
        if root.is_file() and root.suffix.lower() in FONT_SUFFIXES:
            found.add(root.resolve())
        elif root.is_dir():
            found.update(
                p.resolve()
                for p in root.rglob("*")
                if p.suffix.lower() in FONT_SUFFIXES and p.is_file()
            )
    return sorted(found)


def _render_key(
    font: ImageFont.FreeTypeFont, text: str
) -> tuple[tuple[int, int, int, int] | None, str]:
    mask = font.getmask(text)
    return mask.getbbox(), hashlib.blake2b(bytes(mask), digest_size=8).hexdigest()


def _glyph_problem(font: ImageFont.FreeTypeFont, chars: Sequence[str]) -> str | None:
    notdef = {_render_key(font, c)[1] for c in ("\uffff", "\U0010fffd", "\ue000")}
    seen: dict[str, str] = {}
    for char in chars:
        bbox, key = _render_key(font, char)
        if bbox is None:
            return f"empty glyph for {char!r}"
        if key in notdef:
            return f"no glyph for {char!r} (draws .notdef)"
        if key in seen:
            return f"{char!r} draws the same as {seen[key]!r}"
        seen[key] = char
    return None


def screen_font(path: str | Path, chars: Sequence[str] = tuple(ALNUM52)) -> FontInfo | str:
    """Check that a font draws every character of ``chars`` as a distinct Latin glyph.

    Returns a [`FontInfo`][alnumzoo.data.fonts.FontInfo], or a string saying why the font was
    rejected: unreadable, a symbol/dingbat family, a missing glyph (drawn as the font's ``.notdef``
    box, or empty), two characters drawn identically (e.g. caps-only fonts), or a font without the
    case and descender shapes that tell ``0`` from ``o`` and ``y`` from ``Y``.
    """
    try:
        font = load_font(str(path), _PROBE_SIZE)
        family, style = font.getname()
    except (OSError, ValueError) as exc:
        return f"unreadable: {exc}"
    family, style = family or Path(path).stem, style or "Regular"
    if _symbolic_name(family) or _symbolic_name(Path(path).stem):
        return f"symbol font family {family!r}"
    try:
        problem = _glyph_problem(font, chars)
    except (OSError, ValueError) as exc:
        # FreeType refuses some fonts only when it draws them (e.g. a hinting program that
        # runs too long); such a font would fail again in the renderer.
        return f"FreeType cannot draw it: {exc}"
    if problem is not None:
        return problem
    cap = font.getbbox("H", anchor="ls")
    lower = font.getbbox("n", anchor="ls")
    descender = font.getbbox("y", anchor="ls")
    cap_height, x_height = -cap[1], -lower[1]
    if cap_height <= 0 or x_height >= 0.9 * cap_height:
        return "no distinct lowercase (x-height close to cap height)"
    if descender[3] <= 0.05 * cap_height:
        return "'y' has no descender"
    return FontInfo(str(path), family, style, cap_height / _PROBE_SIZE)
