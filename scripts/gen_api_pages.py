"""Write docs/api/<module>.md for every public module under src/alnumzoo and the API nav of
mkdocs.yml, so the reference follows the package tree.

    python scripts/gen_api_pages.py
"""

from pathlib import Path

R = Path(__file__).resolve().parents[1]
order = ["labels", "factory", "models", "data", "hub", "inference", "training", "deploy"]
mods = []
for pkg in order:
    p = R / "src/alnumzoo" / pkg
    if p.is_dir():
        files = sorted(p.glob("*.py"))
        for f in files:
            if f.name.startswith("_"):
                continue
            mods.append(f"{pkg}.{f.stem}")
    else:
        mods.append(pkg)
api = R / "docs/api"
for old in api.glob("*.md"):
    if old.name != "alnumzoo.md":
        old.unlink()
for m in mods:
    (api / f"{m}.md").write_text(f"# alnumzoo.{m}\n\n::: alnumzoo.{m}\n")
y = (R / "mkdocs.yml").read_text()
start = y.index("  - API reference:\n")
end = y.index("  - Changelog:")
entries = "".join(f"      - alnumzoo.{m}: api/{m}.md\n" for m in mods)
nav = "  - API reference:\n      - alnumzoo: api/alnumzoo.md\n" + entries
y = y[:start] + nav + y[end:]
(R / "mkdocs.yml").write_text(y)
print(f"{len(mods)} module pages")
