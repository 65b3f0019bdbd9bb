"""What each data set is like, keyed by label map: one place for the facts that preprocessing,
augmentation and test-time augmentation need.

A model trained on one of these data sets expects images that look like its training data:
Fashion-MNIST items are light on a black background and fill the frame; alnum52 characters
are dark on white at their typographic size; CIFAR-10 and dog photos are natural scenes. The
profile says so, and [`alnumzoo.create_transform`][alnumzoo.data.transforms.create_transform] turns
it into a preprocessing pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from alnumzoo.labels import LabelMap

__all__ = ["PROFILES", "DataProfile", "profile_for"]

Background = Literal["dark", "light"] | None
Fit = Literal["pad", "crop"]


@dataclass(frozen=True)
class DataProfile:
    """How a data set's images are framed.

    Attributes:
        name: The label map's name.
        background: ``"dark"`` (light subject on black), ``"light"`` (dark subject on white) or
            ``None`` (natural images: no polarity to match).
        fit: ``"pad"`` keeps the whole image and pads it to the input's aspect with the
            background; ``"crop"`` centre-crops it to that aspect (natural images).
        content_crop: Crop to the subject's bounding box first, because the data set's images
            were made that way (Fashion-MNIST items fill the frame); never for characters,
            whose size in the frame tells ``o`` from ``0``.
        augment: The training augmentation preset (a key of
            `alnumzoo.data.AUGMENT_PRESETS`) that ``recipe.augment="auto"`` picks, or ``None``.
        tta: The test-time augmentation that suits the data (``tta="auto"``): never a mirror
            for characters; ``None`` when none is known to be safe.
    """

    name: str
    background: Background = None
    fit: Fit = "crop"
    content_crop: bool = False
    augment: str | None = None
    tta: str | None = None


#: Profiles by label-map name; anything else is treated as natural images.
PROFILES: dict[str, DataProfile] = {
    "alnum52": DataProfile("alnum52", "light", "pad", augment="alnum52", tta="shift"),
    "fashion_mnist": DataProfile(
        "fashion_mnist", "dark", "pad", content_crop=True, augment="fashion_mnist", tta="flip"
    ),
    "cifar10": DataProfile("cifar10", augment="cifar10", tta="flip"),
    # Dog photos are decoded per item, so their augmentation is the data set's own transform.
    "stanford_dogs_report": DataProfile("stanford_dogs_report", tta="crops"),
    "dogs": DataProfile("dogs", tta="crops"),
}


def profile_for(labels: LabelMap | None) -> DataProfile:
    """The profile of the data set a label map belongs to (natural images when unknown)."""
    if labels is not None and labels.name in PROFILES:
        return PROFILES[labels.name]
    return DataProfile(labels.name if labels is not None else "unknown")
