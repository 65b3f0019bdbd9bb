"""The typed record that travels with weights: written once into config.json, read back on
load (never recomputed from the labels), completed by fit with the exact recipe."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch

import alnumzoo
from alnumzoo.models.pretrained_cfg import PretrainedCfg
from alnumzoo.training import Recipe, get_recipe, list_recipes
from alnumzoo.training.recipes import recipe_values
from tests._tiny import tiny_cifar


def test_the_saved_record_is_read_back_not_recomputed(tmp_path: Path) -> None:
    model = alnumzoo.create_model("crnn")
    # A contract no data profile would give: if loading recomputed it, these would be lost.
    model.record = dataclasses.replace(model.record, fill=0.25, interpolation="bicubic")
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    loaded = alnumzoo.from_pretrained(folder)
    assert (loaded.record.fill, loaded.record.interpolation) == (0.25, "bicubic")
    assert loaded.record == model.record
    assert isinstance(loaded.record, PretrainedCfg)


def test_fit_records_the_exact_recipe_and_the_run(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = alnumzoo.create_model("cifar_cnn")
    history = alnumzoo.fit(
        model, tiny_cifar(64), tiny_cifar(32, 1), epochs=1, batch_size=32, lr=0.05,
        progress=False,
    )  # fmt: skip
    record = model.record
    assert record.recipe is not None
    recipe = get_recipe("default", "cifar_cnn")
    # Values, not the recipe's name: the rate and batch size this run used, and the rest.
    assert (record.recipe["lr"], record.recipe["batch_size"]) == (0.05, 32)
    assert record.recipe["optimizer"] == recipe.optimizer
    assert record.recipe["label_smoothing"] == recipe.label_smoothing
    assert record.provenance["steps"] == history.steps == 2
    assert record.provenance["trained_with"].endswith(" fit")
    assert history.selected_acc is not None
    assert record.metrics["val_top1"] == round(100 * history.selected_acc, 2)
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    loaded = alnumzoo.from_pretrained(folder)
    assert loaded.record.recipe == record.recipe
    assert loaded.record.provenance == record.provenance


def test_shipped_weights_carry_their_recipe_values_and_results() -> None:
    model = alnumzoo.from_pretrained("bottleneck_cnn.alnum52")
    entry = alnumzoo.get_model_entry("bottleneck_cnn.alnum52")
    # The release was trained with Adam 3e-4, whatever "default" means today.
    assert model.record.recipe is not None
    assert model.record.recipe == entry.training["recipe_detail"]
    assert model.record.metrics["top1"] == entry.metrics["top1"]
    # The values rebuild the recipe, so the release's run can be repeated with fit.
    recipe = Recipe.from_values(model.record.recipe)
    assert (recipe.optimizer, recipe.lr, recipe.batch_size) == ("adam", 3e-4, 50)
    assert recipe.summary().startswith("Adam lr 0.0003, batch 50, ")


def test_recorded_recipe_values_rebuild_the_recipe() -> None:
    for arch in ("crnn", "lite_resnet", "efficientnet_b2"):
        for name in list_recipes(arch):
            recipe = get_recipe(name, arch)
            rebuilt = Recipe.from_values(recipe_values(recipe), name=recipe.name)
            assert rebuilt == dataclasses.replace(recipe, description="")
    crnn = get_recipe("default", "crnn").summary()
    assert "AdamW lr 0.003, batch 128, weight decay 0.05, label smoothing 0.1" in crnn
    assert "gradient clip 1, warm-up 5%, linear decay to zero, EMA 0.998" in crnn
    assert "augmentation auto from epoch 1 in runs of 10 epochs or more, TTA auto" in crnn
    swa = get_recipe("report", "efficientnet_b2").summary()
    assert "4 cyclic phases, SWA from 75% of the run, augmentation dataset, TTA crops" in swa
    with pytest.raises(ValueError, match=r"not fields of a Recipe: \['learning_rate'\]"):
        Recipe.from_values({**recipe_values(get_recipe("default", "crnn")), "learning_rate": 1})
    with pytest.raises(ValueError, match=r"lack the required \['lr'\]"):
        Recipe.from_values({"optimizer": "adam", "batch_size": 8, "epochs": 1})


def test_a_config_of_the_first_layout_without_a_record_loads(tmp_path: Path) -> None:
    model = alnumzoo.create_model("crnn")
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    old = {  # what alnumzoo wrote before the record existed
        "architecture": "crnn",
        "init_args": {**config["model_args"], "num_classes": 10},
        "labels": alnumzoo.FASHION_MNIST.to_dict(),
    }
    (folder / "config.json").write_text(json.dumps(old))
    loaded = alnumzoo.from_pretrained(folder)
    assert loaded.record.background == "dark"  # seeded from the Fashion-MNIST labels
    assert loaded.data_profile == "fashion_mnist"
    assert loaded.labels == alnumzoo.FASHION_MNIST


RECORD_EDITS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "unknown fit": (lambda r: r.update(fit="stretch"), r"'fit' must be one of"),
    "fill out of range": (lambda r: r.update(fill=7), r"'fill' must be a number in \[0.0, 1.0\]"),
    "background not a polarity": (lambda r: r.update(background="purple"), "'background'"),
    "mean per channel": (lambda r: r.update(mean=[0.0, 0.0]), "one value per input channel"),
    "input size": (lambda r: r.update(input_size=[1, 28]), "'input_size' must be 3 positive"),
    "metrics": (lambda r: r.update(metrics={"top1": "high"}), "'metrics' must be an object of"),
    "recipe": (lambda r: r.update(recipe=[1, 2]), "'recipe' must be an object"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(RECORD_EDITS))
def test_a_record_of_the_wrong_types_is_refused_naming_the_key(case: str, tmp_path: Path) -> None:
    edit, message = RECORD_EDITS[case]
    folder = alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    edit(config["pretrained_cfg"])
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message) as caught:
        alnumzoo.from_pretrained(folder)
    assert "config.json: pretrained_cfg" in str(caught.value)


def test_a_fine_tune_names_the_weights_it_started_from() -> None:
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="re-initialised"):
        model = alnumzoo.from_pretrained("cifar_cnn.cifar10", labels=["cat", "dog"])
    data = tiny_cifar(64).select_classes(["cat", "dog"])
    history = alnumzoo.fit(model, data, data, epochs=1, batch_size=16, progress=False)
    assert history.fine_tuned
    assert model.record.provenance["fine_tuned_from"] == "cifar_cnn.cifar10"
    assert model.record.recipe is not None
    assert model.record.recipe["name"] == "default+fine-tune"

