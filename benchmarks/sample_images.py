"""Write the sample images in ``examples/images`` that the README and the quickstart use.

    python benchmarks/sample_images.py

- ``A.png``, ``g.png``, ``7.png``: characters rendered by alnumzoo's own renderer from DejaVu
  Sans (Debian ``fonts-dejavu-core``), as a 300x300 photo-like image would show them: black
  on white, a little off-centre.
- ``boot.png``, ``trouser.png``, ``bag.png``: Fashion-MNIST test items 0, 2 and 34 (MIT
  licence), as stored: 28x28, light on black.
- ``boot_photo.jpg``: the same ankle boot as a shop photo would show it: dark on a light
  background, 360x300 pixels, JPEG; ``predict`` inverts, crops and fits it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from alnumzoo.data import FashionMNIST, RenderStyle, render_glyph, screen_font

OUT = Path(__file__).resolve().parents[1] / "examples" / "images"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    font = screen_font(FONT)
    assert not isinstance(font, str), font
    for char in ("A", "g", "7"):
        glyph = render_glyph(font, char, 240, np.random.default_rng(0), RenderStyle.plain())
        page = Image.new("L", (300, 300), 255)
        page.paste(Image.fromarray(glyph), (40, 24))
        page.save(OUT / f"{char}.png", optimize=True)
    test = FashionMNIST(split="test")
    for index, name in ((0, "boot"), (2, "trouser"), (34, "bag")):
        Image.fromarray(test.images[index, 0].numpy()).save(OUT / f"{name}.png", optimize=True)
    boot = Image.fromarray(255 - test.images[0, 0].numpy()).resize((252, 252), Image.BICUBIC)
    photo = Image.new("RGB", (360, 300), (246, 245, 242))
    photo.paste(boot.convert("RGB"), (60, 30))
    photo.save(OUT / "boot_photo.jpg", quality=85)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
