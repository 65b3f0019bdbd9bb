"""Render one alnum52 character the way the course data looks: black glyph on white, sized and
placed by the font's own metrics, with realistic variation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from alnumzoo.data.fonts import FontInfo, load_font

__all__ = ["RenderStyle", "render_glyph"]


@dataclass(frozen=True)
class RenderStyle:
    """Ranges each rendered image draws its variation from (uniformly, per image).

    Sizes and shifts are fractions of the frame so one style serves 100x100 and 90x90 alike.

    Attributes:
        cap_height: Height of a capital as a share of the frame (SPEC: about 60–70%). Chosen
            once per image for the whole font, never per glyph, so lowercase stays smaller.
        shift: Largest translation in each direction.
        scale: Extra isotropic scale applied after rendering.
        slant: Horizontal shear (synthetic italic), ``x += slant · y``.
        rotate: Rotation in degrees.
        stroke_prob: Probability of thickening strokes by one pixel (synthetic bold).
        blur: Gaussian blur radius in pixels.
        noise: Standard deviation of additive Gaussian noise, in [0, 1] intensity units.
        ink: Darkest and lightest ink grey level (0 = black).
        paper: Darkest and lightest background grey level (255 = white).
    """

    cap_height: tuple[float, float] = (0.60, 0.70)
    shift: float = 0.05
    scale: tuple[float, float] = (0.92, 1.06)
    slant: tuple[float, float] = (-0.15, 0.15)
    rotate: tuple[float, float] = (-4.0, 4.0)
    stroke_prob: float = 0.15
    blur: tuple[float, float] = (0.0, 0.8)
    noise: tuple[float, float] = (0.0, 0.03)
    ink: tuple[int, int] = (0, 40)
    paper: tuple[int, int] = (225, 255)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the dataset manifest)."""
        return asdict(self)

    @classmethod
    def plain(cls) -> RenderStyle:
        """No variation: black ink on white, upright, centred, at mid cap height (for
        rendering text to read back, as in the demo)."""
        return cls(
            cap_height=(0.65, 0.65), shift=0.0, scale=(1.0, 1.0), slant=(0.0, 0.0),
            rotate=(0.0, 0.0), stroke_prob=0.0, blur=(0.0, 0.0), noise=(0.0, 0.0),
            ink=(0, 0), paper=(255, 255),
        )  # fmt: skip


# Font sizes are quantised so each worker keeps a handful of FreeType objects per font.
_SIZE_STEP = 2


def render_glyph(
    font: FontInfo, char: str, size: int, rng: np.random.Generator, style: RenderStyle
) -> np.ndarray:
    """Render ``char`` in ``font`` into a ``(size, size)`` ``uint8`` image.

    Capitals are vertically centred on the frame and every other glyph keeps its place
    relative to the baseline (lowercase smaller and lower, descenders hanging); each glyph is
    centred horizontally on its ink. Variation is drawn from ``style`` with ``rng``.
    """
    cap_px = rng.uniform(*style.cap_height) * size
    font_px = max(_SIZE_STEP, round(cap_px / font.cap_ratio / _SIZE_STEP) * _SIZE_STEP)
    face = load_font(font.path, font_px)
    cap_px = font.cap_ratio * font_px
    stroke = int(rng.random() < style.stroke_prob)
    left, _, right, _ = face.getbbox(char, anchor="ls", stroke_width=stroke)
    baseline = size / 2 + cap_px / 2
    canvas = Image.new("L", (size, size), 255)
    ImageDraw.Draw(canvas).text(
        (size / 2 - (left + right) / 2, baseline),
        char,
        font=face,
        fill=0,
        anchor="ls",
        stroke_width=stroke,
        stroke_fill=0,
    )
    canvas = _affine(canvas, size, rng, style)
    radius = rng.uniform(*style.blur)
    if radius > 0.05:
        canvas = canvas.filter(ImageFilter.GaussianBlur(radius))
    ink = rng.uniform(*style.ink)
    paper = rng.uniform(*style.paper)
    image = np.asarray(canvas, dtype=np.float32) / 255.0 * (paper - ink) + ink
    sigma = rng.uniform(*style.noise) * 255.0
    if sigma > 0:
        image += rng.normal(0.0, sigma, image.shape).astype(np.float32)
    out: np.ndarray = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return out


def _affine(
    image: Image.Image, size: int, rng: np.random.Generator, style: RenderStyle
) -> Image.Image:
    scale = rng.uniform(*style.scale)
    slant = rng.uniform(*style.slant)
    angle = math.radians(rng.uniform(*style.rotate))
    dx, dy = rng.uniform(-style.shift, style.shift, 2) * size
    # Forward map about the centre: p' = R · Shear · scale · (p - c) + c + d. PIL wants the
    # inverse (output -> input) as a 2x3 matrix.
    cos, sin = math.cos(angle), math.sin(angle)
    forward = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1.0, -slant], [0.0, 1.0]]) * scale
    inverse = np.linalg.inv(forward)
    c = np.array([size / 2, size / 2])
    offset = c - inverse @ (c + np.array([dx, dy]))
    coeffs = (*inverse[0], offset[0], *inverse[1], offset[1])
    return image.transform(
        (size, size), Image.Transform.AFFINE, coeffs, Image.Resampling.BILINEAR, fillcolor=255
    )
