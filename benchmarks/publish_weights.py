"""Measure trained variants and ship them: package copy, registry metadata, golden outputs.

    python benchmarks/publish_weights.py runs/crnn.fashion_mnist [runs/...]

For each run folder written by ``train_pretrained.py`` this

* copies ``pretrained/`` (model.safetensors, config.json, README.md model card) to
  ``src/alnumzoo/weights/<name>/`` and rewrites the model card with the measured numbers;
* measures parameters, MFLOPs per image (``torch.utils.flop_counter``; 1 multiply-add = 2
  FLOPs), CPU inference throughput (batch 256, 2 threads) and the file's sha256;
* merges those with ``metrics.json`` into ``src/alnumzoo/weights/zoo.json``, which the
  registry reads (the docs' results table is generated from the registry);
* records golden outputs for ``tests/test_pretrained.py``: logits of a small fixed sample.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

import alnumzoo
from alnumzoo.hub.files import sha256_file
from alnumzoo.hub.save import model_card

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = REPO / "src" / "alnumzoo" / "weights"
GOLDEN = REPO / "tests" / "golden"
sys.path.insert(0, str(REPO / "tests"))

from golden_samples import golden_sample  # noqa: E402


def mflops(model: torch.nn.Module, shape: tuple[int, ...]) -> float:
    with FlopCounterMode(display=False) as counter:
        model(torch.rand(1, *shape))
    return counter.get_total_flops() / 1e6


def cpu_images_per_s(model: torch.nn.Module, shape: tuple[int, ...], batch: int = 256) -> float:
    x = torch.rand(batch, *shape)
    with torch.inference_mode():
        model(x)
        runs, start = 0, time.perf_counter()
        while time.perf_counter() - start < 3.0:
            model(x)
            runs += 1
    return runs * batch / (time.perf_counter() - start)


_DATASETS = {
    "alnum52": "alnum52 (rendered)",
    "fashion_mnist": "fashion_mnist",
    "cifar10": "cifar10",
}


def earlier_stage(metrics: dict[str, Any], zoo: dict[str, Any]) -> dict[str, Any] | None:
    """For a fine-tuning run (``train_pretrained.py --init``), the zoo record of the weights
    it started from, when they are the ones shipped now (same sha256)."""
    init = metrics.get("init")
    if init is None:
        return None
    shipped = zoo.get(metrics["name"], {})
    start = Path(init) / "model.safetensors"
    if not start.is_file() or shipped.get("sha256") != sha256_file(start):
        raise SystemExit(
            f"{metrics['name']}: fine-tuned from {init}, which is not the shipped weights; "
            "publish the starting weights first, or record where they came from"
        )
    keys = ("command", "device", "gpu", "budget", "train_s", "epochs", "top1", "top1_tta")
    return {k: shipped[k] for k in (*keys, "sha256") if k in shipped}


def publish(run: Path, zoo: dict[str, Any]) -> dict[str, Any]:
    metrics = json.loads((run / "metrics.json").read_text())
    name = metrics["name"]
    # A release measured again (train_pretrained.py --measure-only) keeps the record of where
    # its weights started; a fresh fine-tune names the shipped weights it started from.
    start = metrics.get("fine_tuned_from") or earlier_stage(metrics, zoo)
    if start is not None:
        metrics["fine_tuned_from"] = start
    model = alnumzoo.from_pretrained(run / "pretrained")
    target = WEIGHTS / name
    if target.exists():
        shutil.rmtree(target)
    shape = (model.in_chans, *model.input_size)
    torch.set_num_threads(2)
    fonts = metrics.pop("fonts", None)
    extra_config: dict[str, Any] = {}
    sections: dict[str, str] = {}
    if fonts is not None:
        # The full family lists travel with the weights (config + card); the registry keeps
        # the counts and the data set's fingerprint.
        extra_config["training_data"] = {"alnum52_fonts": fonts}
        wide = "select_families" in fonts
        source = (
            "`scripts/debian_fonts.txt` and `scripts/fontsource_fonts.txt`"
            if wide
            else "`scripts/npm_fonts.txt`"
        )
        sections["Fonts seen in training"] = (
            f"{len(fonts['train_families'])} font families (rendered set "
            f"`{fonts['manifest_fingerprint'][:16]}`; Debian `fonts-*` packages and the Google "
            f"Fonts packages pinned in {source}): "
            + ", ".join(fonts["train_families"])
            + (
                f".\n\nSelection families ({len(fonts['select_families'])}, which picked the "
                "epoch and fitted the temperature, never trained on): "
                + ", ".join(fonts["select_families"])
                if wide
                else ""
            )
            + f".\n\nHeld-out families ({len(fonts['valid_families'])}, never trained on, "
            "measured once): " + ", ".join(fonts["valid_families"]) + "."
        )
        metrics["font_families"] = {
            "train": len(fonts["train_families"]),
            "valid": len(fonts["valid_families"]),
            "manifest_fingerprint": fonts["manifest_fingerprint"],
        }
        if wide:
            metrics["font_families"]["select"] = len(fonts["select_families"])
    if "by_category" in metrics:
        sections["Held-out accuracy by kind of letterform"] = "\n".join(
            [
                "| fonts | images | top-1 | tight crop |",
                "|---|---:|---:|---:|",
                *(
                    f"| {kind} | {v['images']:,} | {v['top1']:.2f} | {v['top1_tight']:.2f} |"
                    for kind, v in metrics["by_category"].items()
                ),
                f"| all | {metrics['num_samples']:,} | {metrics['top1']:.2f} "
                f"| {metrics['top1_tight']:.2f} |",
                "",
                "*Tight crop*: the same held-out images cropped to the glyph and scaled to fill "
                "the frame, as a character cut from a scan or photo is.",
            ]
        )
    if "calibration" in metrics:
        c = metrics["calibration"]
        sections["Calibration"] = calibration_text(c)
    record = {
        **metrics,
        "params": alnumzoo.count_parameters(model),
        "mflops": round(mflops(model, shape), 2),
        "cpu_img_s": round(cpu_images_per_s(model, shape)),
        "input_size": list(shape),
    }
    card = model_card(
        model,
        repo_id=f"alnumzoo/{name}",
        datasets=(_DATASETS.get(model.labels.name, model.labels.name),) if model.labels else (),
        metrics={"top1": metrics["top1"], "top1_tta": metrics["top1_tta"]},
        eval_split=metrics["held_out"],
        recipe=(
            (
                ""
                if start is None
                else f"Fine-tuned from the weights of `{start['command']}` on "
                f"{start.get('gpu', start['device'])} ({start['top1']}% top-1), with the "
            )
            + f"`{metrics['recipe']}` recipe of `alnumzoo.fit`"
            + (f" ({_summary(metrics['recipe_detail'])})" if "recipe_detail" in metrics else "")
            + f", budget {metrics['budget']} on "
            + (
                f"{metrics['device']} ({metrics['gpu']}, {metrics.get('note', 'one run')}): "
                if "gpu" in metrics
                else f"{metrics['device']} ({metrics['threads']} thread(s)): "
            )
            + f"{metrics['epochs']} "
            f"evaluated epochs, {metrics['steps']} steps, {metrics['train_s']} s; weights "
            f"selected: {metrics['selected']}. Command: `{metrics['command']}`. Accuracy is on "
            f"the {metrics['held_out']} split ({metrics['num_samples']} images); `top1_tta` "
            f"uses the `{metrics['tta']}` test-time augmentation."
        ),
        limitations=_LIMITS.get(model.labels.name if model.labels else "", ""),
        extra_sections=sections,
    )
    # The weights' own record says how they were made and what they score, so a copy of the
    # folder away from the registry still carries it.
    model.record = dataclasses.replace(
        model.record,
        recipe=metrics.get("recipe_detail"),
        metrics={k: metrics[k] for k in ("top1", "top1_tta") if metrics.get(k) is not None},
        provenance={"weights": name, "held_out": metrics["held_out"],
                    "command": metrics["command"], "budget": metrics["budget"],
                    "device": metrics.get("gpu", metrics["device"])},
    )  # fmt: skip
    alnumzoo.save_pretrained(model, target, card=card, extra_config=extra_config)
    record["sha256"] = sha256_file(target / "model.safetensors")
    record["config_sha256"] = sha256_file(target / "config.json")
    images, targets = golden_sample(name)
    with torch.no_grad():
        logits = model(images.float() / 255)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(GOLDEN / f"{name}.npz", logits=logits.numpy())
    record["golden_top1"] = round(100 * float((logits.argmax(1) == targets).float().mean()), 2)
    return record


def calibration_text(c: dict[str, Any]) -> str:
    """The model card's account of a calibration record (``train_pretrained.calibrate``)."""
    how = (
        f"The label smoothing of training ({c['undo_smoothing']}) is taken out of the "
        f"probabilities, which are then scaled by a temperature of {c['temperature']}"
        if c.get("undo_smoothing")
        else f"Probabilities are divided by a temperature of {c['temperature']}"
    )
    return (
        f"{how}, fitted on {c['fitted_on']}: expected calibration error on the held-out "
        f"split {c['ece_before']:.2f}% before, {c['ece_after']:.2f}% after."
    )


def _summary(detail: dict[str, Any]) -> str:
    """The recipe fields that say how a run trained, in one line."""
    parts = [f"{detail['optimizer']} lr {detail['lr']}, batch {detail['batch_size']}"]
    if detail.get("weight_decay"):
        parts.append(f"weight decay {detail['weight_decay']}")
    if detail.get("label_smoothing"):
        parts.append(f"label smoothing {detail['label_smoothing']}")
    parts.append(f"{detail['schedule']} schedule, warm-up {detail['warmup']}")
    if detail.get("ema_decay"):
        parts.append(f"EMA {detail['ema_decay']}")
    parts.append(f"augmentation {detail['augment']}")
    return ", ".join(parts)


_LIMITS = {
    "alnum52": "Trained on characters rendered from free fonts (Debian packages and Google "
    "Fonts), dark on light; variants trained on the wide corpus also saw script, display and "
    "blackletter faces, frame-filling glyphs, blur, noise and low resolution. Real handwriting "
    "and photographs were never in the training data.",
    "fashion_mnist": "28x28 grayscale product images on a black background, as in Fashion-MNIST.",
    "cifar10": "Trained and evaluated on a JPEG (quality 75) copy of CIFAR-10; 32x32 RGB.",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args(argv)
    zoo_path = WEIGHTS / "zoo.json"
    zoo = json.loads(zoo_path.read_text()) if zoo_path.exists() else {}
    for run in args.runs:
        record = publish(run, zoo)
        zoo[record["name"]] = record
        print(json.dumps(record, indent=2))
    zoo_path.write_text(json.dumps(dict(sorted(zoo.items())), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
