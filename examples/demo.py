"""The library's main job in two minutes, offline: render → train → evaluate → save → reload →
predict. ``bash scripts/demo.sh`` sets everything up and runs this.

    python examples/demo.py [--budget 60s] [--out runs/demo]

1. Renders a small 52-class character set from the fonts on this machine (train and valid
   fonts come from different families, so validation measures unseen fonts).
2. Trains LiteResNet with ``alnumzoo.fit`` for a wall-clock budget (the schedule ends exactly
   at the budget).
3. Evaluates it, saves it as a Hub-ready folder, reloads it with ``from_pretrained``.
4. Reads a word written in an unseen font, with the demo model and with the shipped
   ``lite_resnet.alnum52`` weights (embedded in the package, sha256-verified, no download).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

import alnumzoo
from alnumzoo.data import Alnum52Rendered, RenderStyle, build_alnum52, render_glyph, screen_font

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--budget", default="60s", help="training budget (default 60s)")
parser.add_argument("--out", type=Path, default=Path("runs/demo"))
parser.add_argument("--word", default="Bandit42", help="characters to read back")
parser.add_argument("--train-per-class", type=int, default=40)
parser.add_argument("--font-dirs", nargs="*", help="font folders (default: the system's)")
args = parser.parse_args()
torch.manual_seed(0)

print(f"alnumzoo {alnumzoo.__version__} on {'CUDA' if torch.cuda.is_available() else 'CPU'}")
print("\n1. rendering a small alnum52 set (90x90) from this machine's fonts ...")
built = build_alnum52(
    args.out / "data",
    font_dirs=args.font_dirs,
    size=90,
    train_per_class=args.train_per_class,
    valid_per_class=max(2, args.train_per_class // 4),
    progress=True,
)
train, valid = Alnum52Rendered(built.root, "train"), Alnum52Rendered(built.root, "valid")
families = built.manifest["families"]
print(
    f"   {len(train):,} train images from {len(families['train'])} font families, "
    f"{len(valid):,} valid images from {len(families['valid'])} other families"
)

print(f"\n2. training lite_resnet for {args.budget} with the default recipe ...")
model = alnumzoo.create_model("lite_resnet")
history = alnumzoo.fit(model, train, valid, budget=args.budget, progress=True)
for r in history.records:
    print(
        f"   epoch {r.epoch}: loss {r.train_loss:.3f}, valid {100 * (r.val_acc or 0):.1f}%, "
        f"{r.images_per_s:,.0f} img/s"
    )
print(
    f"   stopped by the {history.stop_reason} after {history.total_s:.0f} s; kept the "
    f"{history.selected} weights"
)

print("\n3. evaluating on unseen fonts, saving, reloading ...")
result = alnumzoo.evaluate(model, valid, tta="auto", progress=True)
print(
    f"   valid top-1 {100 * result.accuracy:.2f}% (TTA: {result.tta}); most confused: "
    + ", ".join(f"{t}->{p} ({n})" for t, p, n in result.most_confused(3))
)
folder = alnumzoo.save_pretrained(model, args.out / "model")
reloaded = alnumzoo.from_pretrained(folder)
x = valid.images[:8].float() / 255
with torch.no_grad():
    same = torch.equal(model(x), reloaded(x))
print(
    f"   saved {sorted(p.name for p in folder.iterdir())} to {folder}; reloaded, "
    f"outputs identical: {same}"
)

print(f"\n4. reading {args.word!r} written in an unseen font ...")
font_path = built.manifest["fonts"]["valid"][0][0]
font = screen_font(Path(font_path))
assert not isinstance(font, str), font  # a font that rendered the set screens fine
glyphs = [
    torch.from_numpy(render_glyph(font, c, 90, np.random.default_rng(0), RenderStyle.plain()))
    for c in args.word
]
batch = torch.stack(glyphs).unsqueeze(1)
readers = {"demo model": reloaded}
if "lite_resnet.alnum52" in alnumzoo.list_models(pretrained=True):
    readers["shipped lite_resnet.alnum52"] = alnumzoo.from_pretrained("lite_resnet.alnum52")
for who, reader in readers.items():
    preds = alnumzoo.predict(reader, batch)
    text = "".join(p.label for p in preds)
    confidence = min(p.probability for p in preds)
    print(f"   {who:28s} reads {text!r} (lowest confidence {confidence:.0%})")
print(f"   font: {Path(font_path).name}")
