"""Quickstart: build every model in the zoo and classify a rendered character.

Run with ``bash scripts/demo.sh`` (sets everything up) or ``python examples/quickstart.py``.
The models here are freshly initialised, so their guesses are chance-level; the point is the
API: registry, label maps, input contracts and prediction as characters.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

import alnumzoo
from alnumzoo.data import FontInfo, RenderStyle, find_font_files, render_glyph, screen_font


def render_character(char: str, size: int) -> torch.Tensor:
    """``char`` in the first usable system font, as the data set renders it: ``(1, 1, S, S)``."""
    font = next(f for f in map(screen_font, find_font_files()) if isinstance(f, FontInfo))
    image = render_glyph(font, char, size, np.random.default_rng(0), RenderStyle.plain())
    return torch.from_numpy(image).float().div(255).view(1, 1, size, size)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--char", default="R", help="character to render (one of ALNUM52)")
    args = parser.parse_args()
    torch.manual_seed(0)

    print(f"alnumzoo {alnumzoo.__version__}: {len(alnumzoo.list_models())} registry entries")
    for name in alnumzoo.list_models():
        entry = alnumzoo.get_model_entry(name)
        print(f"  {name:32s} {entry.num_params:>10,} params  input {entry.input_size}")

    print(
        f"\nclassifying a rendered {args.char!r} (label index {alnumzoo.ALNUM52.index(args.char)})"
    )
    for name in ("bottleneck_cnn", "lite_resnet"):
        model = alnumzoo.create_model(name).eval()
        assert isinstance(model, alnumzoo.ZooModel)
        assert model.input_size is not None
        assert model.labels is not None
        x = render_character(args.char, model.input_size[0])
        with torch.no_grad():
            probs = model(x).softmax(dim=1)[0]
        top = probs.topk(3)
        guesses = ", ".join(
            f"{model.labels[int(i)]!r} {p:.1%}"
            for p, i in zip(top.values, top.indices, strict=True)
        )
        print(f"  {name:16s} (untrained) top-3: {guesses}")

    for name, shape in (("crnn", (1, 1, 28, 28)), ("cifar_cnn", (1, 3, 32, 32))):
        model = alnumzoo.create_model(name).eval()
        with torch.no_grad():
            out = model(torch.rand(shape))
        print(f"  {name:16s} logits for a random {shape} batch: {tuple(out.shape)}")
    model = alnumzoo.efficientnet_b2(num_classes=25).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 256, 256))
    print(f"  efficientnet_b2  (timm, built offline) logits {tuple(out.shape)}")


if __name__ == "__main__":
    main()
