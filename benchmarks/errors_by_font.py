"""Where an alnum52 model's errors are: accuracy per font face and per font source.

    python benchmarks/errors_by_font.py lite_resnet.alnum52_48 --data data/alnum52_48
    python benchmarks/errors_by_font.py RUN/pretrained --data DIR --json OUT.json

Every image of a rendered split is traced to the font that drew it
(``Alnum52Rendered.image_fonts``). Fonts are grouped by where they come from: the folder under
``/usr/share/fonts`` (one per Debian package, e.g. ``aenigma`` for ``fonts-aenigma``'s display
faces) or the npm scope they were fetched from.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path

import torch

import alnumzoo
from alnumzoo.data import Alnum52Rendered
from alnumzoo.inference.tta import predict_proba


def font_source(path: str) -> str:
    """``debian:<folder>`` for a system font, ``npm:<scope>`` for a fetched one."""
    parts = Path(path).parts
    if "fonts" in parts:
        at = parts.index("fonts")
        if at > 0 and parts[at - 1] == "share" and at + 2 < len(parts):
            folder = parts[at + 1]
            if folder in ("truetype", "opentype", "X11") and at + 3 < len(parts):
                return f"debian:{parts[at + 2]}"
            return f"debian:{folder}"
    package = Path(path).parent.name
    if "__" in package:
        return "npm:@" + package.split("__", 1)[0]
    return f"other:{Path(path).parent}"


def predictions(model: torch.nn.Module, data: Alnum52Rendered, batch_size: int) -> torch.Tensor:
    """Plain (no TTA) top-1 class of every image, in row order."""
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(data), batch_size):
            x = data.images[i : i + batch_size].float() / 255
            out.append(predict_proba(model, x).argmax(1))
    return torch.cat(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="registry name with weights, Hub repo id or saved folder")
    parser.add_argument("--data", type=Path, required=True, help="rendered alnum52 folder")
    parser.add_argument("--split", default="valid", choices=("train", "valid"))
    parser.add_argument("--worst", type=int, default=15, help="list this many worst faces")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    model = alnumzoo.from_pretrained(args.model)
    data = Alnum52Rendered(args.data, args.split)
    fonts = data.image_fonts()
    predicted = predictions(model, data, args.batch_size).tolist()
    truth = data.targets.tolist()
    labels = list(data.labels)

    per_face: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    confusions: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    for font, p, t in zip(fonts, predicted, truth, strict=True):
        per_face[font][1] += 1
        if p == t:
            per_face[font][0] += 1
        else:
            confusions[font][f"{labels[t]}>{labels[p]}"] += 1
    per_source: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (path, _, _), (right, seen) in per_face.items():
        row = per_source[font_source(path)]
        row[0] += right
        row[1] += seen
        row[2] += 1
    correct = sum(r for r, _ in per_face.values())

    print(
        f"{args.model} on {args.data} {args.split}: {correct}/{len(truth)} = "
        f"{100 * correct / len(truth):.2f}% (no TTA), {len(per_face)} faces"
    )
    print(f"\n{'source':34s} {'faces':>6s} {'images':>7s} {'top-1':>7s} {'errors':>7s}")
    sources = sorted(per_source.items(), key=lambda kv: kv[1][0] / kv[1][1])
    for name, (right, seen, faces) in sources:
        print(f"{name:34s} {faces:6d} {seen:7d} {100 * right / seen:6.2f}% {seen - right:7d}")
    print(f"\nworst {args.worst} faces:")
    worst = sorted(per_face.items(), key=lambda kv: kv[1][0] / kv[1][1])[: args.worst]
    for (path, family, style), (right, seen) in worst:
        common = " ".join(k for k, _ in confusions[(path, family, style)].most_common(6))
        print(f"{100 * right / seen:6.1f}% {right:3d}/{seen:<3d} {family} {style} [{common}]")

    if args.json:
        report = {
            "model": args.model,
            "data": str(args.data),
            "split": args.split,
            "images": len(truth),
            "top1": round(100 * correct / len(truth), 2),
            "by_source": {
                name: {"faces": faces, "images": seen, "top1": round(100 * right / seen, 2)}
                for name, (right, seen, faces) in sources
            },
            "worst_faces": [
                {
                    "family": family,
                    "style": style,
                    "source": font_source(path),
                    "images": seen,
                    "top1": round(100 * right / seen, 1),
                }
                for (path, family, style), (right, seen) in worst
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
