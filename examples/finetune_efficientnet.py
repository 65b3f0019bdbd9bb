"""Fine-tune efficientnet_b2 on your own image folder (one sub-folder per class).

    python examples/finetune_efficientnet.py --data /data/flowers --budget 10m
    python examples/finetune_efficientnet.py --quick

Starts from timm's ImageNet weights (``efficientnet_b2.ra_in1k``, downloaded on first use;
``--scratch`` skips them), replaces the head with one row per class folder, holds out 20% for
validation and trains with the fast default recipe for a wall-clock budget.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch
from torchvision.datasets import ImageFolder
from torchvision.transforms import v2

import alnumzoo

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", type=Path, help="folder with one sub-folder of images per class")
parser.add_argument("--size", type=int, default=256)
parser.add_argument("--budget", default="10m")
parser.add_argument("--scratch", action="store_true", help="no ImageNet weights")
parser.add_argument("--quick", action="store_true")
args = parser.parse_args()

if args.quick:
    from _quick import image_tree

    args.data = image_tree(Path(tempfile.mkdtemp()), ["daisy", "tulip", "rose"], per_class=5)
    args.size, args.budget, args.scratch = 64, "8s", True

to_tensor = v2.Compose(
    [
        v2.RGB(),
        v2.Resize((args.size, args.size)),
        v2.ToImage(),
        v2.ToDtype(torch.float32, scale=True),
    ]
)
folder = ImageFolder(str(args.data), transform=to_tensor)
folder.labels = alnumzoo.LabelMap("custom", tuple(folder.classes))  # type: ignore[attr-defined]
generator = torch.Generator().manual_seed(0)
n_val = max(1, len(folder) // 5)
train, val = torch.utils.data.random_split(folder, [len(folder) - n_val, n_val], generator)
train.labels = val.labels = folder.labels  # type: ignore[attr-defined]

name = "efficientnet_b2" if args.scratch else "efficientnet_b2.ra_in1k"
model = alnumzoo.create_model(
    name, num_classes=len(folder.classes), labels=folder.classes, pretrained=not args.scratch
)
history = alnumzoo.fit(
    model,
    train,
    val,
    budget=args.budget,
    batch_size=8 if args.quick else None,
    progress=not args.quick,
)
print(
    f"{len(folder.classes)} classes ({', '.join(folder.classes)}); "
    f"validation top-1 {100 * (history.selected_acc or 0):.1f}% after {history.total_s:.0f} s"
)
out = alnumzoo.save_pretrained(model, Path(tempfile.mkdtemp()) / "finetuned")
print(f"saved to {out}; reload with alnumzoo.from_pretrained({str(out)!r})")
