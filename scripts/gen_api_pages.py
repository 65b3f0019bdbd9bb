"""Write docs/api/<module>.md for every public module under src/alnumzoo and the API nav of
mkdocs.yml, so the reference follows the package tree.

    python scripts/gen_api_pages.py
"""

from pathlib import Path

R = Path(__file__).resolve().parents[1]
order = ["labels", "factory", "models", "data", "hub", "inference", "training", "deploy"]
PUBLIC_AS = {"inference", "training"}  # packages whose _name.py modules hold public functions
mods = []
for pkg in order:
    p = R / "src/alnumzoo" / pkg
    if p.is_dir():
        files = sorted(p.glob("*.py"))
        for f in files:
            # A private module named after the one function it holds (_fit.py) is that
            # function's page: alnumzoo.fit, not a module a user imports.
            if f.name.startswith("__") or (f.name.startswith("_") and pkg not in PUBLIC_AS):
                continue
            mods.append(f"{pkg}.{f.stem}")
    else:
        mods.append(pkg)
api = R / "docs/api"
for old in api.glob("*.md"):
    if old.name != "alnumzoo.md":
        old.unlink()
titles = {}
for m in mods:
    pkg, _, stem = m.partition(".")
    page = m.replace("._", ".")
    if stem.startswith("_"):
        title = f"alnumzoo.{stem[1:]}"
        heading = f"# {title} (module `alnumzoo.{m}`)"
    else:
        title = heading = f"alnumzoo.{m}"
        heading = f"# {heading}"
    titles[m] = (title, page)
    (api / f"{page}.md").write_text(f"{heading}\n\n::: alnumzoo.{m}\n")
y = (R / "mkdocs.yml").read_text()
start = y.index("  - API reference:\n")
end = y.index("  - Changelog:")
entries = "".join(f"      - {titles[m][0]}: api/{titles[m][1]}.md\n" for m in mods)
nav = "  - API reference:\n      - alnumzoo: api/alnumzoo.md\n" + entries
y = y[:start] + nav + y[end:]
(R / "mkdocs.yml").write_text(y)
print(f"{len(mods)} module pages")
