"""Fetch real font files from npm font packages (``@fontsource/*``, ``@expo-google-fonts/*``).

The Debian font packages give a few hundred Latin families; the npm registry carries the Google
Fonts collection twice: as ``@fontsource/<family>`` (WOFF/WOFF2 per subset and weight, with a
``metadata.json`` naming Google's category) and as ``@expo-google-fonts/<family>`` (plain TTF).
[`fetch_npm_fonts`][alnumzoo.data.npm_fonts.fetch_npm_fonts] downloads a pinned list of them with
``npm pack`` and keeps the regular, bold and italic faces, one folder per package, ready for
[`build_alnum52`][alnumzoo.data.alnum52_build.build_alnum52]'s ``font_dirs``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from alnumzoo.data.fonts import FONT_SUFFIXES

__all__ = ["DEFAULT_STYLES", "NpmFontError", "fetch_npm_fonts", "read_package_list"]

#: Faces kept from each package, by the style folder name the expo packages use. The course
#: data has regular, bold and italic faces; a family without any of these keeps its first face.
DEFAULT_STYLES: tuple[str, ...] = ("400Regular", "400Regular_Italic", "700Bold", "700Bold_Italic")
# fontsource names each file <id>-<subset>-<weight>-<style>.woff2; the latin subset holds A-Z,
# a-z and 0-9, and the same weights and styles as DEFAULT_STYLES are kept.
_FONTSOURCE_FACE = re.compile(r"-latin-(?P<weight>[0-9]+)-(?P<style>normal|italic)\.woff2$")
_FONTSOURCE_KEEP = (("400", "normal"), ("400", "italic"), ("700", "normal"), ("700", "italic"))
_PACKAGE = re.compile(r"^(@[a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*(@[0-9A-Za-z.+-]+)?$")
_DONE = ".package.json"
# A font package is a few MB; anything far larger is not what the list promised.
_MAX_TARBALL_BYTES = 200 * 2**20


class NpmFontError(RuntimeError):
    """``npm pack`` failed, or a package holds no font file."""


def read_package_list(path: str | Path) -> list[str]:
    """Package specs (``name@version``) from a text file: one per line, ``#`` comments.

    Raises:
        ValueError: a line is not an npm package spec.
    """
    specs: list[str] = []
    for number, raw in enumerate(Path(path).read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _PACKAGE.match(line):
            raise ValueError(f"{path}:{number}: {line!r} is not an npm package spec (name@version)")
        specs.append(line)
    return specs


def _folder_name(spec: str) -> str:
    name = spec.rsplit("@", 1)[0] if spec.count("@") > (1 if spec.startswith("@") else 0) else spec
    return name.lstrip("@").replace("/", "__")


def _pick_faces(members: Sequence[tarfile.TarInfo], styles: Sequence[str]) -> list[tarfile.TarInfo]:
    fonts = sorted(
        (
            m
            for m in members
            if m.isfile() and PurePosixPath(m.name).suffix.lower() in FONT_SUFFIXES
        ),
        key=lambda m: m.name,
    )
    chosen = [m for m in fonts if PurePosixPath(m.name).parent.name in styles]
    if chosen:
        return chosen
    fontsource = {
        m: (match["weight"], match["style"])
        for m in fonts
        if (match := _FONTSOURCE_FACE.search(PurePosixPath(m.name).name))
    }
    if fontsource:
        kept = [m for m, face in fontsource.items() if face in _FONTSOURCE_KEEP]
        # A family without a 400 or 700 weight keeps the upright face nearest to 400.
        nearest = min(
            fontsource,
            key=lambda m: (fontsource[m][1] != "normal", abs(int(fontsource[m][0]) - 400)),
        )
        return kept or [nearest]
    return fonts[:1]


def _category(archive: tarfile.TarFile) -> str | None:
    """Google's category (``display``, ``handwriting``, ...) from a fontsource metadata.json."""
    try:
        member = archive.getmember("package/metadata.json")
    except KeyError:
        return None
    stream = archive.extractfile(member)
    if stream is None or member.size > 2**20:
        return None
    try:
        category = json.loads(stream.read()).get("category")
    except (ValueError, AttributeError):
        return None
    return category if isinstance(category, str) else None


def _unpack(tarball: Path, dest: Path, spec: str, styles: Sequence[str]) -> Path:
    target = dest / _folder_name(spec)
    if tarball.stat().st_size > _MAX_TARBALL_BYTES:
        raise NpmFontError(
            f"{spec}: {tarball.name} is {tarball.stat().st_size} bytes, over the limit"
        )
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=dest))
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            faces = _pick_faces(archive.getmembers(), styles)
            if not faces:
                raise NpmFontError(f"{spec} holds no font file ({', '.join(FONT_SUFFIXES)})")
            licenses = [
                m
                for m in archive.getmembers()
                if m.isfile() and m.name.startswith("package/LICENSE")
            ]
            for member in [*faces, *licenses]:
                # Flatten to the file name; the "data" filter refuses links and odd modes.
                member.name = PurePosixPath(member.name).name
                archive.extract(member, staging, filter="data")
            category = _category(archive)
        record = {
            "spec": spec,
            "faces": sorted(PurePosixPath(f.name).name for f in faces),
            "category": category,
        }
        (staging / _DONE).write_text(json.dumps(record))
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def fetch_npm_fonts(
    packages: Iterable[str],
    dest: str | Path,
    *,
    styles: Sequence[str] = DEFAULT_STYLES,
    npm: str = "npm",
    batch: int = 16,
    progress: bool = True,
) -> list[Path]:
    """Download font packages with ``npm pack`` and keep their chosen faces.

    Each package lands in its own folder under ``dest`` (with its licence files and a
    ``.package.json`` naming the exact spec and faces). A folder already fetched for the same
    spec is reused, so the call is cheap to repeat; a folder appears only once complete.

    Args:
        packages: npm specs, best pinned (``@expo-google-fonts/lato@0.4.1``).
        dest: Folder to fill (created if needed).
        styles: Style folder names to keep (see `DEFAULT_STYLES`).
        npm: The ``npm`` executable.
        batch: Packages per ``npm pack`` call.
        progress: Show a progress bar.

    Returns:
        The package folders, in the order of ``packages``.

    Raises:
        NpmFontError: ``npm`` is missing or failed, or a package holds no font.
    """
    root = Path(dest)
    root.mkdir(parents=True, exist_ok=True)
    specs = list(dict.fromkeys(packages))

    def fetched(spec: str) -> bool:
        marker = root / _folder_name(spec) / _DONE
        return marker.is_file() and json.loads(marker.read_text()).get("spec") == spec

    todo = [s for s in specs if not fetched(s)]
    if todo and shutil.which(npm) is None:
        raise NpmFontError(
            f"{npm!r} not found; install Node.js and npm (Debian: apt-get install npm)"
        )
    with tqdm(total=len(todo), desc="fetch fonts", unit="pkg", disable=not progress) as bar:
        for start in range(0, len(todo), batch):
            chunk = todo[start : start + batch]
            with tempfile.TemporaryDirectory(dir=root) as tmp:
                run = subprocess.run(
                    [npm, "pack", "--silent", "--json", "--pack-destination", tmp, *chunk],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if run.returncode != 0:
                    raise NpmFontError(
                        f"npm pack failed for {', '.join(chunk)}: {run.stderr.strip()[-500:]}"
                    )
                packed = json.loads(run.stdout)
                if len(packed) != len(chunk):
                    raise NpmFontError(f"npm pack returned {len(packed)} of {len(chunk)} packages")
                for spec, info in zip(chunk, packed, strict=True):
                    _unpack(Path(tmp) / info["filename"], root, spec, styles)
                    bar.update(1)
    return [root / _folder_name(s) for s in specs]
