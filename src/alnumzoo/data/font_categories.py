"""Which kind of letterform a font draws: text, display, script or blackletter.

The category is read from metadata, never guessed from pixels:

1. A family name that says blackletter (Fraktur, Gotisch, Textura, ...) is ``"blackletter"``,
   whatever its source calls it: Google files its blackletter faces under *display*.
2. A font fetched from an npm package carries the package's category in its folder's
   ``.package.json`` (fontsource's ``metadata.json``, which is Google Fonts' own
   classification): *handwriting* is ``"script"``, *display* is ``"display"``, *serif*,
   *sans-serif* and *monospace* are ``"text"``.
3. A font installed by a Debian package takes the category written beside that package in the
   recipe's list (``scripts/debian_fonts.txt``: ``fonts-kristi  # script``).
4. Anything else is ``"text"``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal, get_args

from alnumzoo.data.fonts import FontInfo

__all__ = [
    "CATEGORIES",
    "Category",
    "count_categories",
    "debian_font_owners",
    "font_category",
    "font_classifier",
    "read_debian_categories",
]

Category = Literal["text", "display", "script", "blackletter"]
#: Every category, in the order reports list them.
CATEGORIES: tuple[Category, ...] = get_args(Category)

_GOOGLE = {
    "serif": "text",
    "sans-serif": "text",
    "monospace": "text",
    "display": "display",
    "handwriting": "script",
}
_BLACKLETTER = re.compile(
    r"fraktur|blackletter|gotisch|gotico|textura|bastarda|schwabacher|rotunda|blankenburg|"
    r"pirata|germania one|new rocker|fruktur|jacquard|old english|cloister|grenze gotisch",
    re.IGNORECASE,
)
_PACKAGE_RECORD = ".package.json"
_DPKG_INFO = Path("/var/lib/dpkg/info")


def read_debian_categories(path: str | Path) -> dict[str, Category]:
    """Debian package → category from a package list: ``name  # category`` per line.

    Lines without a category comment are ``"text"``; ``#`` lines are comments.

    Raises:
        ValueError: a category is not one of `CATEGORIES`.
    """
    out: dict[str, Category] = {}
    for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        name, _, comment = raw.partition("#")
        name = name.strip()
        if not name:
            continue
        category = comment.split()[0] if comment.split() else "text"
        if category not in CATEGORIES:
            raise ValueError(
                f"{path}:{number}: category {category!r} is not one of {', '.join(CATEGORIES)}"
            )
        out[name] = category
    return out


def debian_font_owners(info_dir: str | Path = _DPKG_INFO) -> dict[str, str]:
    """Resolved path of every file a Debian package installed → the package's name.

    Read from dpkg's ``*.list`` files (one read, instead of a ``dpkg -S`` per font).
    """
    owners: dict[str, str] = {}
    for listing in sorted(Path(info_dir).glob("*.list")):
        package = listing.stem.split(":", 1)[0]
        for line in listing.read_text(errors="replace").splitlines():
            if line.startswith("/usr/share/fonts/"):
                owners[str(Path(line).resolve())] = package
    return owners


def _npm_category(font_path: Path) -> str | None:
    record = font_path.parent / _PACKAGE_RECORD
    if not record.is_file():
        return None
    try:
        category = json.loads(record.read_text()).get("category")
    except (ValueError, OSError, AttributeError):
        return None
    return _GOOGLE.get(category) if isinstance(category, str) else None


def font_category(
    path: str | Path,
    family: str,
    *,
    debian: Mapping[str, Category] | None = None,
    owners: Mapping[str, str] | None = None,
) -> Category:
    """The category of the font at ``path`` named ``family`` (see the module's rules).

    Args:
        path: The font file.
        family: Its family name.
        debian: Package → category, from
            [`read_debian_categories`][alnumzoo.data.font_categories.read_debian_categories].
        owners: Font path → Debian package, from
            [`debian_font_owners`][alnumzoo.data.font_categories.debian_font_owners].
    """
    if _BLACKLETTER.search(family) or _BLACKLETTER.search(Path(path).stem):
        return "blackletter"
    npm = _npm_category(Path(path))
    if npm is not None:
        return npm  # type: ignore[return-value]  # values of _GOOGLE are categories
    package = (owners or {}).get(str(Path(path).resolve()))
    if package is not None and debian is not None and package in debian:
        return debian[package]
    return "text"


def font_classifier(debian_list: str | Path | None = None) -> Callable[[FontInfo], Category]:
    """[`font_category`][alnumzoo.data.font_categories.font_category] for screened fonts, with
    the Debian categories of ``debian_list`` (``scripts/debian_fonts.txt``) and this machine's
    dpkg records read once."""
    debian = read_debian_categories(debian_list) if debian_list is not None else {}
    owners = debian_font_owners() if debian else {}

    def classify(font: FontInfo) -> Category:
        return font_category(font.path, font.family, debian=debian, owners=owners)

    return classify


def count_categories(categories: Iterable[Category]) -> dict[str, int]:
    """How many of each category, every category listed (for manifests and reports)."""
    items = list(categories)
    return {c: items.count(c) for c in CATEGORIES}
