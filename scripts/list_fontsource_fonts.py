"""Write the pinned list of ``@fontsource/*`` packages the alnum52 recipe renders from.

    python scripts/list_fontsource_fonts.py scripts/fontsource_fonts.txt

The family list comes from fontsource's own ``google-font-metadata`` package (pinned below):
every Google Fonts family with the ``latin`` subset, except icon sets. Each family is pinned to
the ``latest`` version the npm registry reports for ``@fontsource/<id>``; families without a
package are left out and counted. Run it again only to move the pins forward (it asks the
registry; ``scripts/make_alnum52.sh`` only reads the written file).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tarfile
import tempfile
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

METADATA_PACKAGE = "google-font-metadata@6.0.8"
REGISTRY = "https://registry.npmjs.org"
# Icon and emoji families map letters to pictures; they would only be screened out later.
_SKIP_WORDS = ("icons", "symbols", "emoji")


def google_families() -> list[dict[str, object]]:
    """The Google Fonts families (``id``, ``family``, ``category``) from the pinned metadata."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["npm", "pack", "--silent", "--pack-destination", tmp, METADATA_PACKAGE],
            check=True,
            capture_output=True,
        )
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.extractfile("package/data/google-fonts-v1.json")
            assert member is not None
            fonts = json.load(member)
    return [
        {"id": key, "family": f["family"], "category": f["category"]}
        for key, f in sorted(fonts.items())
        if "latin" in f["subsets"] and not any(w in key for w in _SKIP_WORDS)
    ]


def latest_version(font_id: str) -> str | None:
    """``dist-tags.latest`` of ``@fontsource/<font_id>``, or ``None`` when it is not published."""
    request = urllib.request.Request(
        f"{REGISTRY}/@fontsource%2f{font_id}",
        headers={"Accept": "application/vnd.npm.install-v1+json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return str(json.load(response)["dist-tags"]["latest"])
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    families = google_families()
    with ThreadPoolExecutor(16) as pool:
        versions = list(pool.map(latest_version, [str(f["id"]) for f in families]))
    pinned = [(f, v) for f, v in zip(families, versions, strict=True) if v is not None]
    lines = [
        "# The @fontsource packages the alnum52 recipe renders from (pinned; SIL OFL / Apache /",
        f"# UFL). Every Google Fonts family with the latin subset listed by {METADATA_PACKAGE},",
        f"# less icon sets; {len(families) - len(pinned)} of {len(families)} have no package.",
        "# Written by scripts/list_fontsource_fonts.py; the category (Google's) follows the spec.",
        *(f"@fontsource/{f['id']}@{v}  # {f['category']}" for f, v in pinned),
    ]
    args.out.write_text("\n".join(lines) + "\n")
    print(f"{len(pinned)} packages written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
