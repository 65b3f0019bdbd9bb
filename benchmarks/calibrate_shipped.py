"""Fit the calibration of shipped weights again and write it beside them, weights untouched.

    python benchmarks/calibrate_shipped.py crnn.fashion_mnist cifar_cnn.cifar10
    python benchmarks/calibrate_shipped.py lite_resnet.alnum52 --alnum52 ~/.cache/alnumzoo/data

Only the calibration changes: ``temperature`` and ``undo_smoothing`` in the embedded
``config.json``, the model card's *Calibration* section, and the variant's ``calibration``
record and ``config_sha256`` in ``zoo.json``. ``model.safetensors`` is never rewritten.

The split that fits and the split that measures (the expected calibration error, 15 bins):

* Fashion-MNIST variants: the validation split, then the 10,000 test images;
* ``cifar_cnn.cifar10`` (it trained on all 50,000 training images): the even-numbered test
  images, then the odd-numbered ones;
* alnum52 variants: the wide corpus's ``train`` and ``select`` splits, then its ``heldout``
  split, at the model's input size (``--alnum52 ROOT`` holds ``alnum52w_<size>`` folders
  written by ``make_alnum52.sh --wide``), keeping only the font families the weights never
  trained on: the older variants trained on other fonts, which a set rendered today may deal
  to any split. Every unseen family outside the measured split fits: the fitting split's
  families differ from the measured ones, so more of them make a steadier temperature.

How the calibration is chosen is ``train_pretrained.calibrate``'s rule: plain temperature
scaling, or undoing the training's label smoothing first, whichever has the lower negative
log-likelihood on the fitting split.

``--sweep-floor`` writes nothing: it prints, for each variant, the held-out ECE and negative
log-likelihood with the smoothing undone at several values of
``alnumzoo.inference.calibration.PROBABILITY_FLOOR`` (how that constant was chosen).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from publish_weights import WEIGHTS, calibration_text
from train_pretrained import CIFAR_TAR, calibrate

import alnumzoo
from alnumzoo.data import Alnum52Rendered, Cifar10, FashionMNIST, InMemoryImageDataset
from alnumzoo.hub.files import sha256_file
from alnumzoo.inference import (
    calibrated_probabilities,
    collect_logits,
    expected_calibration_error,
    fit_temperature,
)
from alnumzoo.inference import calibration as calibration_module

Split = tuple[torch.Tensor, torch.Tensor]


#: Shipped weights whose config predates the font lists, and the variant trained on the same
#: course-style font set at another size (train_pretrained.py: ``alnum52_90`` and
#: ``alnum52_48``) whose config has them.
SAME_FONTS_AS = {"lite_resnet.alnum52": "lite_resnet.alnum52_48"}


def trained_families(name: str) -> set[str]:
    """The font families the shipped weights of ``name`` trained on (their config's list).

    For weights whose config has no list, every family of the set they were rendered from
    (train and valid alike): more than they trained on, never less.
    """
    config = json.loads((WEIGHTS / name / "config.json").read_text())
    fonts = config.get("training_data", {}).get("alnum52_fonts", {})
    if fonts:
        return set(fonts["train_families"])
    if name in SAME_FONTS_AS:
        other = json.loads((WEIGHTS / SAME_FONTS_AS[name] / "config.json").read_text())
        listed = other["training_data"]["alnum52_fonts"]
        return set(listed["train_families"]) | set(listed["valid_families"])
    raise SystemExit(f"{name}: its config lists no training fonts; add it to SAME_FONTS_AS")


def unseen(data: Alnum52Rendered, seen: set[str]) -> InMemoryImageDataset:
    """The images of ``data`` drawn by font families not in ``seen``."""
    rows = [i for i, font in enumerate(data.image_fonts()) if font[1] not in seen]
    return data.subset(torch.tensor(rows, dtype=torch.long))


def splits(
    name: str, model: alnumzoo.ZooModel, alnum52_root: Path | None
) -> tuple[Split, Split, str]:
    """(logits and targets to fit on, logits and targets to measure on, what fitted)."""
    label = model.labels.name if model.labels is not None else ""
    if label == "fashion_mnist":
        fit_on = collect_logits(model, FashionMNIST(split="val"))
        return (
            fit_on,
            collect_logits(model, FashionMNIST(split="test")),
            ("the validation/selection split"),
        )
    if label == "cifar10":
        logits, targets = collect_logits(model, Cifar10(CIFAR_TAR, "test"))
        even, odd = slice(0, None, 2), slice(1, None, 2)
        return (
            (logits[even], targets[even]),
            (logits[odd], targets[odd]),
            ("the even-numbered held-out images (error measured on the odd-numbered ones)"),
        )
    if alnum52_root is None or model.input_size is None:
        raise SystemExit(f"{name}: pass --alnum52 ROOT (with alnum52w_<size> wide sets)")
    root = alnum52_root / f"alnum52w_{model.input_size[0]}"
    seen = trained_families(name)
    fit_sets = [unseen(Alnum52Rendered(root, split), seen) for split in ("train", "select")]
    fit_parts = [collect_logits(model, data) for data in fit_sets if len(data)]
    measure_on = collect_logits(model, unseen(Alnum52Rendered(root, "heldout"), seen))
    return (
        (torch.cat([p[0] for p in fit_parts]), torch.cat([p[1] for p in fit_parts])),
        measure_on,
        (
            "the wide corpus's train and select splits, families never trained on (error "
            "measured on its heldout split)"
        ),
    )


def write_calibration(name: str, model: alnumzoo.ZooModel, record: dict[str, Any]) -> str:
    """Store ``model``'s calibration in its shipped folder; the new config's sha256."""
    folder = WEIGHTS / name
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["temperature"] = model.temperature
    config["undo_smoothing"] = model.undo_smoothing
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    card_path = folder / "README.md"
    card = card_path.read_text()
    section = f"## Calibration\n\n{calibration_text(record)}\n"
    if "## Calibration\n" in card:
        card = re.sub(r"## Calibration\n\n.*?\n(?=\n## |\Z)", lambda _: section, card, flags=re.S)
    else:
        card = card.rstrip("\n") + "\n\n" + section
    card_path.write_text(card, encoding="utf-8")
    # What from_pretrained reads back is what was fitted.
    loaded = alnumzoo.from_pretrained(folder)
    assert (loaded.temperature, loaded.undo_smoothing) == (
        model.temperature,
        model.undo_smoothing,
    )
    return sha256_file(config_path)


def sweep_floor(model: alnumzoo.ZooModel, fit_on: Split, measure_on: Split) -> dict[str, str]:
    """Held-out 'ECE % / NLL' with the training's label smoothing undone, per floor."""
    smoothing = float((model.record.recipe or {}).get("label_smoothing") or 0.0)
    logits, targets = measure_on
    out = {}
    for floor in (1e-2, 1e-3, 1e-4, 1e-5, 1e-6):
        calibration_module.PROBABILITY_FLOOR = floor
        cal = fit_temperature(*fit_on, undo_smoothing=smoothing)
        probs = calibrated_probabilities(logits, cal.temperature, smoothing)
        ece = 100 * expected_calibration_error(probs, targets)
        out[f"{floor:g}"] = f"{ece:.2f} / {F.nll_loss(probs.log(), targets):.3f}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+")
    parser.add_argument("--alnum52", type=Path, help="folder holding alnum52w_<size> wide sets")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--sweep-floor", action="store_true", help="print only; see above")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    zoo_path = WEIGHTS / "zoo.json"
    zoo = json.loads(zoo_path.read_text())
    for name in args.names:
        model = alnumzoo.from_pretrained(name)  # the registry completes older records
        model.temperature, model.undo_smoothing = 1.0, 0.0
        fit_on, measure_on, fitted_on = splits(name, model, args.alnum52)
        if args.sweep_floor:
            print(name, json.dumps(sweep_floor(model, fit_on, measure_on)))
            continue
        record = calibrate(model, fit_on, measure_on, fitted_on)
        record["command"] = f"python benchmarks/calibrate_shipped.py {name}" + (
            " --alnum52 DIR" if args.alnum52 is not None else ""
        )
        zoo[name]["calibration"] = record
        zoo[name]["config_sha256"] = write_calibration(name, model, record)
        print(name, json.dumps(record))
    if not args.sweep_floor:
        zoo_path.write_text(json.dumps(dict(sorted(zoo.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
