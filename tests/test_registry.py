"""Registry: names, metadata that matches the built models, and create_model round trips."""

from __future__ import annotations

import pytest

import alnumzoo
from alnumzoo import ZooModel


def test_lists_every_architecture_and_variant() -> None:
    names = alnumzoo.list_models()
    for expected in (
        "bottleneck_cnn",
        "bottleneck_cnn.alnum52",
        "lite_resnet",
        "lite_resnet.alnum52",
        "crnn",
        "crnn.fashion_mnist",
        "cifar_cnn",
        "cifar_cnn.cifar10",
        "efficientnet_b2",
    ):
        assert expected in names
    assert names == sorted(names)
    assert alnumzoo.list_models("*CNN*") == [n for n in names if "cnn" in n]
    crnn = ["crnn.columns_gru_fashion_mnist", "crnn.fashion_mnist"]
    assert alnumzoo.list_models("crnn.*") == crnn


@pytest.mark.parametrize("name", alnumzoo.list_models())
def test_entry_metadata_matches_built_model(name: str) -> None:
    entry = alnumzoo.get_model_entry(name)
    model = alnumzoo.create_model(name)
    assert isinstance(model, ZooModel)
    assert model.arch == entry.arch
    assert alnumzoo.count_parameters(model) == entry.num_params
    assert model.num_classes == entry.num_classes
    assert model.in_chans == entry.input_size[0]
    if model.input_size is not None:
        assert tuple(model.input_size) == entry.input_size[1:]
    assert model.labels == entry.labels
    if entry.source.startswith("alnumzoo's own"):
        # Not from a report, but within the reports' parameter limit.
        assert entry.num_params <= alnumzoo.COURSE_PARAM_CAP
    else:
        assert entry.source.startswith("report 00")
    meta = entry.to_dict()
    assert meta["name"] == name
    assert meta["num_params"] == entry.num_params


def test_create_model_round_trip_through_init_args() -> None:
    model = alnumzoo.create_model("crnn", cell="lstm", layout="columns", num_layers=2)
    assert isinstance(model, ZooModel)
    rebuilt = alnumzoo.create_model("crnn", **model.init_args)
    assert isinstance(rebuilt, ZooModel)
    assert rebuilt.init_args == model.init_args
    assert [(k, v.shape) for k, v in rebuilt.state_dict().items()] == [
        (k, v.shape) for k, v in model.state_dict().items()
    ]


def test_variant_kwargs_apply() -> None:
    plain = alnumzoo.create_model("bottleneck_cnn.plain_alnum52")
    assert alnumzoo.count_parameters(plain) == 582_824
    assert alnumzoo.get_model_entry("bottleneck_cnn.alnum52").tag == "alnum52"
    assert alnumzoo.get_model_entry("bottleneck_cnn").tag is None


def test_unknown_name_suggests() -> None:
    with pytest.raises(KeyError, match="did you mean bottleneck_cnn"):
        alnumzoo.create_model("botleneck_cnn")


def test_duplicate_and_malformed_registration() -> None:
    entry = alnumzoo.get_model_entry("crnn")
    with pytest.raises(ValueError, match="already registered"):
        alnumzoo.register_model(entry)
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"'arch' or 'arch\.tag'"):
        alnumzoo.register_model(replace(entry, name="a.b.c"))
