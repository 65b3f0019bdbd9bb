"""Per-data-set profiles: one for every label map shipped, and every consumer reads it."""

from __future__ import annotations

import alnumzoo
from alnumzoo import labels as label_module
from alnumzoo.data import AUGMENT_PRESETS, PROFILES, profile_for
from alnumzoo.data.loaders import resolve_augment
from alnumzoo.inference import default_tta


def _shipped_label_maps() -> list[alnumzoo.LabelMap]:
    maps = [v for v in vars(label_module).values() if isinstance(v, alnumzoo.LabelMap)]
    # The dogs reader names a breed subset "dogs".
    return [*maps, alnumzoo.LabelMap("dogs", ("a", "b"))]


def test_every_label_map_shipped_has_a_profile() -> None:
    for labels in _shipped_label_maps():
        assert labels.name in PROFILES, labels.name
        profile = profile_for(labels)
        assert profile.augment is None or profile.augment in AUGMENT_PRESETS


def test_dog_breeds_get_their_crop_tta() -> None:
    # The bug: the old table was keyed "dog_breeds", which no label map is called.
    assert default_tta(alnumzoo.DOG_BREEDS) == "crops"
    assert default_tta(alnumzoo.LabelMap("dogs", ("a", "b"))) == "crops"


def test_consumers_read_the_profile() -> None:
    assert default_tta(alnumzoo.ALNUM52) == "shift"
    assert resolve_augment("auto", alnumzoo.FASHION_MNIST) == "fashion_mnist"
    assert resolve_augment("auto", alnumzoo.LabelMap("mine", ("x", "y"))) is None
    assert alnumzoo.create_model("crnn").pretrained_cfg["background"] == "dark"
