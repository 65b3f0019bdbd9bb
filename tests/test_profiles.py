"""Per-data-set profiles: one for every label map shipped, and every consumer reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import alnumzoo
from alnumzoo import labels as label_module
from alnumzoo.data import AUGMENT_PRESETS, PROFILES, InMemoryImageDataset, profile_for, profile_of
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


def test_a_new_head_keeps_the_preprocessing_of_the_weights(tmp_path: Path) -> None:
    # The digits-subset bug: a digits head on alnum52 weights got natural-image preprocessing
    # (crop, no background, never invert), no character augmentation and no TTA.
    digits = list("0123456789")
    with pytest.warns(UserWarning, match="re-initialised"):
        model = alnumzoo.from_pretrained("lite_resnet.alnum52", labels=digits)
    cfg = model.pretrained_cfg
    assert (cfg["fit"], cfg["background"], cfg["invert"], cfg["fill"]) == (
        "pad",
        "light",
        "auto",
        1.0,
    )
    assert cfg["label_names"] == digits
    assert model.data_profile == "alnum52"
    folder = alnumzoo.save_pretrained(model, tmp_path / "digits")
    again = alnumzoo.from_pretrained(folder)
    assert again.data_profile == "alnum52"
    assert again.pretrained_cfg == cfg
    images = torch.randint(0, 256, (20, 1, 90, 90), dtype=torch.uint8)
    data = InMemoryImageDataset(
        images, torch.arange(20) % 10, alnumzoo.LabelMap("mine", tuple(digits))
    )
    assert alnumzoo.evaluate(again, data, tta="auto").tta == "shift"
    # fit and evaluate read the same profile: character augmentation, never a mirror.
    assert profile_of(again, data.labels).augment == "alnum52"
    assert (
        profile_of(alnumzoo.create_model("lite_resnet", labels=digits), data.labels).augment is None
    )
    # A fresh model still takes its profile from its labels.
    fresh = alnumzoo.create_model("lite_resnet", labels=digits)
    assert fresh.data_profile is None
    assert fresh.pretrained_cfg["fit"] == "crop"
