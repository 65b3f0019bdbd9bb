"""The registry's contents: every architecture and pretrained variant alnumzoo names.

Parameter counts are literals so listing the zoo builds nothing; a test checks each against
the built model. Measured results and the sha256 of shipped weights come from
``alnumzoo/weights/zoo.json``, written by ``benchmarks/publish_weights.py``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from alnumzoo.labels import ALNUM52, CIFAR10, FASHION_MNIST
from alnumzoo.models.bottleneck_cnn import BottleneckCNN
from alnumzoo.models.char_resnet import CharResNet
from alnumzoo.models.cifar_cnn import CifarCNN
from alnumzoo.models.crnn import CRNN
from alnumzoo.models.efficientnet import TIMM_IMAGENET_WEIGHTS, EfficientNetB2
from alnumzoo.models.lite_resnet import LiteResNet
from alnumzoo.models.registry import HubWeights, ModelEntry, TimmPretrained, register_model

__all__: list[str] = []

#: Hub organisation the shipped variants are (to be) uploaded to.
HUB_ORG = "alnumzoo"

_REPORT_000 = "report 000: bottleneck CNN for 52 alphanumeric characters"
_REPORT_001 = "report 001: light ResNet for 52 alphanumeric characters"
_REPORT_002 = "report 002: CNN for CIFAR-10"
_REPORT_003 = "report 003: EfficientNet-B2 fine-tuned on Stanford Dogs breeds"
_REPORT_004 = "report 004: CRNN for Fashion-MNIST"
_ALNUMZOO = "alnumzoo's own, for alnum52 within reports 000/001's 1,200,000-parameter limit"

_RESULT_KEYS = ("top1", "top1_tta", "mflops", "cpu_img_s")
_TRAINING_KEYS = (
    "recipe", "budget", "device", "threads", "train_s", "epochs", "steps", "selected",
    "held_out", "num_samples", "tta", "command", "most_confused", "recipe_detail",
    "precision", "channels_last", "font_families", "gpu", "fine_tuned_from",
    "top1_outside_selection", "top1_select", "top1_tight", "top1_tight_tta", "by_category",
    "tight_most_confused", "calibration",
)  # fmt: skip


def _load_published() -> dict[str, dict[str, Any]]:
    path = Path(__file__).resolve().parent.parent / "weights" / "zoo.json"
    if not path.is_file():
        return {}
    data: dict[str, dict[str, Any]] = json.loads(path.read_text())
    return data


_PUBLISHED = _load_published()


# What every entry of an architecture shares unless it says otherwise (name, parameter count
# and description are each entry's own).
_ARCHITECTURES = {
    "bottleneck_cnn": ModelEntry("bottleneck_cnn", BottleneckCNN, "alnum52 characters",
                                 (1, 100, 100), 52, ALNUM52, 0, _REPORT_000,
                                 metrics={"report_top1": 98.54}),
    "lite_resnet": ModelEntry("lite_resnet", LiteResNet, "alnum52 characters", (1, 90, 90), 52,
                              ALNUM52, 0, _REPORT_001, metrics={"report_top1": 96.06}),
    "char_resnet": ModelEntry("char_resnet", CharResNet, "alnum52 characters", (1, 48, 48), 52,
                              ALNUM52, 0, _ALNUMZOO),
    "crnn": ModelEntry("crnn", CRNN, "Fashion-MNIST clothing", (1, 28, 28), 10, FASHION_MNIST,
                       0, _REPORT_004, metrics={"report_top1": 90.33}),
    "cifar_cnn": ModelEntry("cifar_cnn", CifarCNN, "CIFAR-10 objects", (3, 32, 32), 10,
                            CIFAR10, 0, _REPORT_002, metrics={"report_top1": 78.34}),
    "efficientnet_b2": ModelEntry("efficientnet_b2", EfficientNetB2, "dog breeds",
                                  (3, 256, 256), 25, None, 0, _REPORT_003,
                                  metrics={"report_top1": 93.1}),
}  # fmt: skip


def _register(
    name: str,
    *,
    params: int,
    description: str,
    task: str | None = None,
    input_size: tuple[int, int, int] | None = None,
    report_top1: float | None = None,
    kwargs: dict[str, Any] | None = None,
    weights: HubWeights | TimmPretrained | None = None,
) -> None:
    """Register an entry (its architecture's defaults, overridden by what is given), adding the
    measured results of shipped weights when there are."""
    shared = _ARCHITECTURES[name.split(".", 1)[0]]
    report = report_top1 or shared.metrics.get("report_top1")
    metrics = {"report_top1": report} if report is not None else {}
    training: dict[str, Any] = {}
    release = _PUBLISHED.get(name)
    if release is not None:
        metrics |= {k: release[k] for k in _RESULT_KEYS}
        training = {k: release[k] for k in _TRAINING_KEYS if k in release}
        # "hub_revision" is recorded once the folder is uploaded (scripts/push_weights.sh).
        revision = release.get("hub_revision", "main")
        weights = HubWeights(
            f"{HUB_ORG}/{name}",
            revision,
            release["sha256"],
            embedded=True,
            config_sha256=release.get("config_sha256"),
        )
        kwargs = release.get("kwargs") or kwargs
    register_model(
        replace(
            shared,
            name=name,
            task=task or shared.task,
            input_size=input_size or shared.input_size,
            num_params=params,
            description=description,
            kwargs=kwargs or {},
            metrics=metrics,
            weights=weights,
            training=training,
        )
    )

_register("bottleneck_cnn", params=366_792,
          description="3-stage CNN with 1x1 bottlenecks, 100x100 grayscale")
_register("bottleneck_cnn.alnum52", params=366_792,
          description="BottleneckCNN for the 52 alphanumeric classes")
_register("bottleneck_cnn.plain_alnum52", params=582_824,
          description="the report's comparison model without bottlenecks",
          report_top1=92.98, kwargs={"bottleneck": False})
_register("lite_resnet", params=175_124,
          description="stem + 3 strided residual stages, 90x90 grayscale")
_register("lite_resnet.alnum52", params=175_124,
          description="LiteResNet for the 52 alphanumeric classes")
_register("lite_resnet.alnum52_48", params=141_844, input_size=(1, 48, 48),
          description="LiteResNet at 48x48 (characters read fine there; ~3x the training "
          "throughput of 90x90)", kwargs={"input_size": (48, 48)})
_register("char_resnet", params=895_508,
          description="residual net for single characters (3x3 stem, 4 stages of basic "
          "blocks, average pool), 48x48 grayscale")
_register("char_resnet.alnum52", params=895_508,
          description="CharResNet trained on the wide font corpus (Debian + every Google Fonts "
          "family) in the real-world rendering style; the strongest alnum52 variant")
_register("crnn", params=209_482,
          description="2 conv stages + 5-layer RNN over the report's 56x56 reshape, 28x28 "
          "grayscale")
_register("crnn.fashion_mnist", params=209_482,
          description="report-layout CRNN for Fashion-MNIST")
_register("crnn.columns_gru_fashion_mnist", params=646_346,
          description="column-sequence CRNN (width as time, 2-layer GRU 192) for Fashion-MNIST",
          kwargs={"layout": "columns", "cell": "gru", "num_layers": 2, "hidden_size": 192})
_register("cifar_cnn", params=469_532, description="3 conv stages + 3-layer MLP, 32x32 RGB")
_register("cifar_cnn.cifar10", params=469_532, description="CifarCNN for CIFAR-10")
_register("efficientnet_b2", params=7_736_219,
          description="timm EfficientNet-B2 with a 25-way head (any input size)")
_register("efficientnet_b2.ra_in1k", params=7_736_219, task="ImageNet backbone for dog breeds",
          description="a fine-tuning starting point, not a dog classifier: timm's ImageNet "
          f"backbone ({TIMM_IMAGENET_WEIGHTS}, inputs standardised inside the model as those "
          "weights expect) with a new, untrained 25-way head; no dog-breed weights are "
          "published yet",
          kwargs={"normalize": True}, weights=TimmPretrained(TIMM_IMAGENET_WEIGHTS))
