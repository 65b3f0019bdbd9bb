"""Render one alnum52 character the way the course data looks: black glyph on white, sized and
placed by the font's own metrics, with realistic variation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from alnumzoo.data.fonts import FontInfo, load_font
from alnumzoo.data.transforms import fill_frame

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
        oversample: Draw at this multiple of the output size and scale down at the end, so
            that stroke, outline and shadow changes of a fraction of an output pixel exist.
        fill: Probability that the glyph is cropped to its ink and scaled to fill the frame
            (aspect kept), as a character cut tightly from a scan or photo is.
        fill_margin: Border left around a filled glyph, as a share of the frame.
        weight: Probability of changing the stroke weight (beyond ``stroke_prob``).
        weight_px: Range of that change in output pixels across a stroke: negative thins
            (a thinning that would erase most of the ink is skipped), positive thickens.
        outline: Probability of drawing the glyph hollow (an outline face).
        shadow: Probability of a drop shadow in a lighter grey behind the glyph.
        distress: Probability of worn ink: blotches of the glyph missing.
        lowres: Probability of scaling the image down to a side drawn from ``lowres_px`` and
            back up, as a small character in a photo is.
        lowres_px: Side range for ``lowres``.
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
    oversample: int = 1
    fill: float = 0.0
    fill_margin: tuple[float, float] = (0.03, 0.12)
    weight: float = 0.0
    weight_px: tuple[float, float] = (-1.0, 1.5)
    outline: float = 0.0
    shadow: float = 0.0
    distress: float = 0.0
    lowres: float = 0.0
    lowres_px: tuple[int, int] = (14, 28)

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

    @classmethod
    def real_world(cls) -> RenderStyle:
        """Characters as they come from scans and photos as well as from type: a third fill
        the frame, strokes thinner and thicker, wider slant, some outline, shadowed or worn
        faces, blur, noise and low resolution (the alnum52 recipe since format 2)."""
        return cls(
            slant=(-0.25, 0.25), rotate=(-5.0, 5.0), blur=(0.0, 1.0), noise=(0.0, 0.05),
            ink=(0, 70), paper=(190, 255), oversample=2, fill=0.33, weight=0.35,
            outline=0.05, shadow=0.05, distress=0.04, lowres=0.15,
        )  # fmt: skip


# Font sizes are quantised so each worker keeps a handful of FreeType objects per font.
_SIZE_STEP = 2


def render_glyph(
    font: FontInfo, char: str, size: int, rng: np.random.Generator, style: RenderStyle
) -> np.ndarray:
    """Render ``char`` in ``font`` into a ``(size, size)`` ``uint8`` image.

    Capitals are vertically centred on the frame and every other glyph keeps its place
    relative to the baseline (lowercase smaller and lower, descenders hanging); each glyph is
    centred horizontally on its ink. Variation is drawn from ``style`` with ``rng``; an effect
    whose probability is 0 draws nothing, so older styles render exactly as they did.
    """
    k = max(1, int(style.oversample))
    frame = size * k
    cap_px = rng.uniform(*style.cap_height) * frame
    font_px = max(_SIZE_STEP, round(cap_px / font.cap_ratio / _SIZE_STEP) * _SIZE_STEP)
    face = load_font(font.path, font_px)
    cap_px = font.cap_ratio * font_px
    stroke = int(rng.random() < style.stroke_prob) * k
    change = rng.uniform(*style.weight_px) * k / 2 if _chance(rng, style.weight) else 0.0
    if change > 0:
        stroke += round(change)
    left, _, right, _ = face.getbbox(char, anchor="ls", stroke_width=stroke)
    origin = (frame / 2 - (left + right) / 2, frame / 2 + cap_px / 2)
    canvas = Image.new("L", (frame, frame), 255)
    draw = ImageDraw.Draw(canvas)
    if _chance(rng, style.shadow):
        dx, dy = rng.uniform(0.025, 0.06, 2) * frame * rng.choice([-1, 1], 2)
        grey = int(rng.integers(90, 180))
        shadow_at = (origin[0] + dx, origin[1] + dy)
        draw.text(shadow_at, char, font=face, fill=grey, anchor="ls", stroke_width=stroke,
                  stroke_fill=grey)  # fmt: skip
    if _chance(rng, style.outline):
        line = max(1, round(rng.uniform(0.6, 1.4) * k))
        draw.text(origin, char, font=face, fill=255, anchor="ls", stroke_width=stroke + line,
                  stroke_fill=0)  # fmt: skip
    else:
        draw.text(origin, char, font=face, fill=0, anchor="ls", stroke_width=stroke,
                  stroke_fill=0)  # fmt: skip
    if change < 0:
        canvas = _thinned(canvas, round(-change))
    if _chance(rng, style.distress):
        canvas = _worn(canvas, rng)
    filled = _chance(rng, style.fill)
    if filled:
        margin = rng.uniform(*style.fill_margin)
        canvas = Image.fromarray(fill_frame(np.asarray(canvas), margin))
    canvas = _affine(canvas, frame, rng, style, max_scale=1.0 if filled else None)
    if k > 1:
        canvas = canvas.resize((size, size), Image.Resampling.BOX)
    if _chance(rng, style.lowres):
        side = int(rng.integers(style.lowres_px[0], style.lowres_px[1] + 1))
        small = canvas.resize((side, side), Image.Resampling.BILINEAR, reducing_gap=2.0)
        canvas = small.resize((size, size), Image.Resampling.BILINEAR)
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


def _chance(rng: np.random.Generator, probability: float) -> bool:
    # No draw at probability 0 keeps the random stream, and so the images, of older styles.
    return probability > 0 and bool(rng.random() < probability)


def _thinned(canvas: Image.Image, radius: int) -> Image.Image:
    if radius < 1:
        return canvas
    thin = canvas.filter(ImageFilter.MaxFilter(2 * radius + 1))
    ink_before = np.count_nonzero(np.asarray(canvas) < 128)
    ink_after = np.count_nonzero(np.asarray(thin) < 128)
    # A hairline face would lose its strokes; keep it as drawn.
    return thin if ink_after >= 0.5 * ink_before else canvas


def _worn(canvas: Image.Image, rng: np.random.Generator) -> Image.Image:
    side = canvas.size[0]
    cells = max(4, side // 10)
    blotches = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
    mask = np.asarray(blotches.resize((side, side), Image.Resampling.BICUBIC)) > rng.uniform(
        200, 235
    )
    pixels = np.array(canvas)
    pixels[mask] = 255
    return Image.fromarray(pixels)


def _affine(
    image: Image.Image,
    size: int,
    rng: np.random.Generator,
    style: RenderStyle,
    max_scale: float | None = None,
) -> Image.Image:
    scale = rng.uniform(*style.scale)
    if max_scale is not None:
        scale = min(scale, max_scale)
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
