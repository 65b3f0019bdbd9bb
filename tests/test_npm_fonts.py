"""fetch_npm_fonts(): npm pack through a stand-in npm executable that writes real tarballs."""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
from pathlib import Path

import pytest

from alnumzoo.data.npm_fonts import NpmFontError, fetch_npm_fonts, read_package_list

# A stand-in for `npm pack --silent --json --pack-destination DIR SPEC...`: copies prepared
# tarballs from $FAKE_NPM_REGISTRY and prints npm's JSON. It logs every call.
FAKE_NPM = """#!{python}
import json, os, shutil, sys
args = sys.argv[1:]
dest = args[args.index("--pack-destination") + 1]
specs = [a for a in args if not a.startswith("--") and a != "pack" and a != dest]
registry = os.environ["FAKE_NPM_REGISTRY"]
with open(os.path.join(registry, "calls.log"), "a") as log:
    log.write(" ".join(specs) + "\\n")
out = []
for spec in specs:
    name = spec.lstrip("@").replace("/", "-").replace("@", "-") + ".tgz"
    src = os.path.join(registry, name)
    if not os.path.exists(src):
        print(f"npm error 404 Not Found - {{spec}}", file=sys.stderr)
        sys.exit(1)
    shutil.copy(src, os.path.join(dest, name))
    out.append({{"filename": name}})
print(json.dumps(out))
"""


def _tarball(path: Path, members: dict[str, bytes], symlink: str | None = None) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if symlink is not None:
            info = tarfile.TarInfo(symlink)
            info.type = tarfile.SYMTYPE
            info.linkname = "/etc/passwd"
            tar.addfile(info)


@pytest.fixture
def fake_npm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    registry = tmp_path / "registry"
    registry.mkdir()
    npm = tmp_path / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    monkeypatch.setenv("FAKE_NPM_REGISTRY", str(registry))
    _tarball(
        registry / "expo-google-fonts-lato-0.4.1.tgz",
        {
            "package/LICENSE_FONT": b"OFL",
            "package/400Regular/Lato_400Regular.ttf": b"regular",
            "package/700Bold/Lato_700Bold.ttf": b"bold",
            "package/100Thin/Lato_100Thin.ttf": b"thin",
            "package/400Regular/Lato_400Regular.ttf.png": b"preview",
        },
    )
    _tarball(
        registry / "expo-google-fonts-anton-0.4.1.tgz",
        {"package/500Medium/Anton_Odd.ttf": b"x", "package/300Light/Anton_300.ttf": b"y"},
    )
    _tarball(registry / "expo-google-fonts-empty-0.1.0.tgz", {"package/README.md": b"no fonts"})
    _tarball(
        registry / "expo-google-fonts-evil-0.1.0.tgz",
        {"package/400Regular/Evil.ttf": b"x"},
        symlink="package/400Regular/Link.ttf",
    )
    return npm


def test_keeps_the_chosen_faces_and_licences_and_reuses_them(
    fake_npm: Path, tmp_path: Path
) -> None:
    out = tmp_path / "fonts"
    specs = ["@expo-google-fonts/lato@0.4.1", "@expo-google-fonts/anton@0.4.1"]
    folders = fetch_npm_fonts(specs, out, npm=str(fake_npm), progress=False)
    assert [f.name for f in folders] == ["expo-google-fonts__lato", "expo-google-fonts__anton"]
    assert sorted(p.name for p in folders[0].iterdir()) == [
        ".package.json", "LICENSE_FONT", "Lato_400Regular.ttf", "Lato_700Bold.ttf",
    ]  # fmt: skip
    # A family without the default styles keeps its first face (by path) rather than none.
    assert sorted(p.name for p in folders[1].iterdir() if p.suffix == ".ttf") == ["Anton_300.ttf"]
    assert json.loads((folders[0] / ".package.json").read_text())["spec"] == specs[0]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    fetch_npm_fonts(specs, out, npm=str(fake_npm), progress=False)
    calls = (Path(os.environ["FAKE_NPM_REGISTRY"]) / "calls.log").read_text().splitlines()
    assert len(calls) == 1  # the second call found everything fetched


def test_errors_name_the_package(fake_npm: Path, tmp_path: Path) -> None:
    with pytest.raises(NpmFontError, match=r"empty@0\.1\.0 holds no font"):
        fetch_npm_fonts(["@expo-google-fonts/empty@0.1.0"], tmp_path / "a", npm=str(fake_npm))
    with pytest.raises(NpmFontError, match=r"npm pack failed .*missing@1\.0\.0"):
        fetch_npm_fonts(["@expo-google-fonts/missing@1.0.0"], tmp_path / "b", npm=str(fake_npm))
    with pytest.raises(NpmFontError, match="not found"):
        fetch_npm_fonts(["x@1.0.0"], tmp_path / "c", npm=str(tmp_path / "no-such-npm"))


def test_links_in_a_tarball_are_never_extracted(fake_npm: Path, tmp_path: Path) -> None:
    (folder,) = fetch_npm_fonts(
        ["@expo-google-fonts/evil@0.1.0"], tmp_path / "f", npm=str(fake_npm), progress=False
    )
    assert not any(p.is_symlink() for p in folder.iterdir())
    assert (folder / "Evil.ttf").read_bytes() == b"x"


def test_package_list_format(tmp_path: Path) -> None:
    good = tmp_path / "list.txt"
    good.write_text("# comment\n@expo-google-fonts/lato@0.4.1  # pinned\n\nplain-pkg@1.2.3\n")
    assert read_package_list(good) == ["@expo-google-fonts/lato@0.4.1", "plain-pkg@1.2.3"]
    bad = tmp_path / "bad.txt"
    bad.write_text("@expo-google-fonts/lato@0.4.1\nrm -rf /\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: 'rm -rf /' is not an npm package spec"):
        read_package_list(bad)


def test_shipped_package_list_is_valid() -> None:
    specs = read_package_list(Path(__file__).resolve().parents[1] / "scripts" / "npm_fonts.txt")
    assert len(specs) > 200
    assert all(s.startswith("@expo-google-fonts/") and s.count("@") == 2 for s in specs)


def test_fontsource_packages_keep_latin_faces_and_google_category(
    fake_npm: Path, tmp_path: Path
) -> None:
    registry = Path(os.environ["FAKE_NPM_REGISTRY"])
    files = {
        f"package/files/kristi-{subset}-{weight}-{style}.{ext}": b"font"
        for subset in ("latin", "latin-ext")
        for weight in (300, 400, 700)
        for style in ("normal", "italic")
        for ext in ("woff", "woff2")
    }
    _tarball(
        registry / "fontsource-kristi-5.3.0.tgz",
        {**files, "package/metadata.json": json.dumps({"category": "handwriting"}).encode()},
    )
    _tarball(
        registry / "fontsource-thin-5.3.0.tgz",
        {
            "package/files/thin-latin-100-normal.woff2": b"a",
            "package/files/thin-latin-300-normal.woff2": b"b",
            "package/files/thin-latin-300-italic.woff2": b"c",
            "package/files/thin-latin-ext-300-normal.woff2": b"d",
        },
    )
    kristi, thin = fetch_npm_fonts(
        ["@fontsource/kristi@5.3.0", "@fontsource/thin@5.3.0"],
        tmp_path / "fonts",
        npm=str(fake_npm),
        progress=False,
    )
    # The latin subset's WOFF2 at the weights and styles the course data has; nothing else.
    assert sorted(p.name for p in kristi.glob("*.woff*")) == [
        "kristi-latin-400-italic.woff2",
        "kristi-latin-400-normal.woff2",
        "kristi-latin-700-italic.woff2",
        "kristi-latin-700-normal.woff2",
    ]
    record = json.loads((kristi / ".package.json").read_text())
    assert record["category"] == "handwriting"
    # Without a 400 or 700 weight, the upright face nearest to 400 is kept.
    assert [p.name for p in thin.glob("*.woff*")] == ["thin-latin-300-normal.woff2"]
    assert json.loads((thin / ".package.json").read_text())["category"] is None


def test_fontsource_list_is_pinned_and_readable() -> None:
    path = Path(__file__).resolve().parents[1] / "scripts" / "fontsource_fonts.txt"
    specs = read_package_list(path)
    assert len(specs) > 1500
    assert all(s.startswith("@fontsource/") and s.count("@") == 2 for s in specs)
    assert len(set(specs)) == len(specs)
