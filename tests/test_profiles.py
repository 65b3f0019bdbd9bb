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


def test_profiles_name_their_label_maps_and_data_kinds() -> None:
    """One table: a profile's label map carries its key, and open_data's kinds are exactly the
    profiles' kinds."""
    from alnumzoo.data import DATA_KINDS

    for key, profile in PROFILES.items():
        assert profile.name == key
        if profile.labels is not None:
            assert profile.labels.name == key
            assert profile_for(profile.labels) is profile
    assert set(DATA_KINDS) == {p.kind for p in PROFILES.values() if p.kind}
    assert {"alnum52", "fashion-mnist", "cifar10", "dogs"} == set(DATA_KINDS)
