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

from alnumzoo.labels import ALNUM52, CIFAR10, DOG_BREEDS, FASHION_MNIST, LabelMap

__all__ = ["DATA_KINDS", "PROFILES", "DataProfile", "profile_for", "profile_of"]

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
        labels: The data set's label map as shipped (the default labels of the models built
            for it), or ``None`` when its classes vary (a chosen dog-breed subset).
        kind: The ``KIND`` of [`open_data`][alnumzoo.data.specs.open_data] that reads it.
        root: What ``KIND:ROOT`` must point at.
    """

    name: str
    background: Background = None
    fit: Fit = "crop"
    content_crop: bool = False
    augment: str | None = None
    tta: str | None = None
    labels: LabelMap | None = None
    kind: str | None = None
    root: str = ""


_DOGS_ROOT = "the Stanford Dogs layout (Images/, train_list.txt, test_list.txt)"

#: Profiles by label-map name; anything else is treated as natural images.
PROFILES: dict[str, DataProfile] = {
    "alnum52": DataProfile(
        "alnum52", "light", "pad", augment="alnum52", tta="shift", labels=ALNUM52,
        kind="alnum52",
        root="a rendered set (images.npy + manifest.json) or the course's train/ + valid/ tree",
    ),
    "fashion_mnist": DataProfile(
        "fashion_mnist", "dark", "pad", content_crop=True, augment="fashion_mnist", tta="flip",
        labels=FASHION_MNIST, kind="fashion-mnist",
        root="the idx files (default: Debian's /usr/share/datasets/fashion-mnist)",
    ),
    "cifar10": DataProfile(
        "cifar10", augment="cifar10", tta="flip", labels=CIFAR10, kind="cifar10",
        root="a train/<class>/*.jpg tree, its .tar, or torchvision's cifar-10-batches-py",
    ),
    # Dog photos are decoded per item, so their augmentation is the data set's own transform.
    "stanford_dogs_report": DataProfile(
        "stanford_dogs_report", tta="crops", labels=DOG_BREEDS, kind="dogs", root=_DOGS_ROOT
    ),
    "dogs": DataProfile("dogs", tta="crops", kind="dogs", root=_DOGS_ROOT),
}  # fmt: skip

#: Data set kinds ``open_data`` reads, with what ``:ROOT`` must point at (from the profiles).
DATA_KINDS: dict[str, str] = {p.kind: p.root for p in PROFILES.values() if p.kind is not None}


def profile_for(labels: LabelMap | None) -> DataProfile:
    """The profile of the data set a label map belongs to (natural images when unknown); a
    subset of a known set's classes (``LabelMap.subset``'s ``"<name>-subset"``) is that set's."""
    if labels is not None:
        name = labels.name.removesuffix("-subset")
        if name in PROFILES:
            return PROFILES[name]
    return DataProfile(labels.name if labels is not None else "unknown")


def profile_of(model: object, labels: LabelMap | None = None) -> DataProfile:
    """The profile of the data a model's weights were trained on, when it came from
    ``from_pretrained`` (its ``data_profile``, kept when its head is replaced: a digits-only
    head on alnum52 weights still reads dark characters on white, padded, never mirrored);
    otherwise the profile of ``labels`` (the data's), or of the model's own labels."""
    name = getattr(model, "data_profile", None)
    if isinstance(name, str) and name in PROFILES:
        return PROFILES[name]
    return profile_for(labels if labels is not None else getattr(model, "labels", None))
