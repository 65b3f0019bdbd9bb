"""The registry's contents: every architecture and pretrained variant alnumzoo names.

Parameter counts are literals so listing the zoo builds nothing; a test checks each against
the built model.
"""

from __future__ import annotations

from alnumzoo.labels import ALNUM52, CIFAR10, FASHION_MNIST
from alnumzoo.models.bottleneck_cnn import BottleneckCNN
from alnumzoo.models.cifar_cnn import CifarCNN
from alnumzoo.models.crnn import CRNN
from alnumzoo.models.efficientnet import TIMM_IMAGENET_WEIGHTS, EfficientNetB2
from alnumzoo.models.lite_resnet import LiteResNet
from alnumzoo.models.registry import ModelEntry, TimmPretrained, register_model

__all__: list[str] = []

_REPORT_000 = "report 000: bottleneck CNN for 52 alphanumeric characters"
_REPORT_001 = "report 001: light ResNet for 52 alphanumeric characters"
_REPORT_002 = "report 002: CNN for CIFAR-10"
_REPORT_003 = "report 003: EfficientNet-B2 fine-tuned on Stanford Dogs breeds"
_REPORT_004 = "report 004: CRNN for Fashion-MNIST"

for _name, _desc in (
    ("bottleneck_cnn", "3-stage CNN with 1x1 bottlenecks, 100x100 grayscale"),
    ("bottleneck_cnn.alnum52", "BottleneckCNN for the 52 alphanumeric classes"),
):
    register_model(
        ModelEntry(
            _name,
            BottleneckCNN,
            "alnum52 characters",
            (1, 100, 100),
            52,
            ALNUM52,
            366_792,
            _REPORT_000,
            _desc,
            metrics={"report_top1": 98.54},
        )
    )
register_model(
    ModelEntry(
        "bottleneck_cnn.plain_alnum52",
        BottleneckCNN,
        "alnum52 characters",
        (1, 100, 100),
        52,
        ALNUM52,
        582_824,
        _REPORT_000,
        "the report's comparison model without bottlenecks",
        kwargs={"bottleneck": False},
        metrics={"report_top1": 92.98},
    )
)
for _name, _desc in (
    ("lite_resnet", "stem + 3 strided residual stages, 90x90 grayscale"),
    ("lite_resnet.alnum52", "LiteResNet for the 52 alphanumeric classes"),
):
    register_model(
        ModelEntry(
            _name,
            LiteResNet,
            "alnum52 characters",
            (1, 90, 90),
            52,
            ALNUM52,
            175_124,
            _REPORT_001,
            _desc,
            metrics={"report_top1": 96.06},
        )
    )
for _name, _desc in (
    ("crnn", "2 conv stages + 5-layer RNN over the report's 56x56 reshape, 28x28 grayscale"),
    ("crnn.fashion_mnist", "report-layout CRNN for Fashion-MNIST"),
):
    register_model(
        ModelEntry(
            _name,
            CRNN,
            "Fashion-MNIST clothing",
            (1, 28, 28),
            10,
            FASHION_MNIST,
            209_482,
            _REPORT_004,
            _desc,
            metrics={"report_top1": 90.33},
        )
    )
for _name, _desc in (
    ("cifar_cnn", "3 conv stages + 3-layer MLP, 32x32 RGB"),
    ("cifar_cnn.cifar10", "CifarCNN for CIFAR-10"),
):
    register_model(
        ModelEntry(
            _name,
            CifarCNN,
            "CIFAR-10 objects",
            (3, 32, 32),
            10,
            CIFAR10,
            469_532,
            _REPORT_002,
            _desc,
            metrics={"report_top1": 78.34},
        )
    )
register_model(
    ModelEntry(
        "efficientnet_b2",
        EfficientNetB2,
        "dog breeds",
        (3, 256, 256),
        25,
        None,
        7_736_219,
        _REPORT_003,
        "timm EfficientNet-B2 with a 25-way head (any input size)",
        metrics={"report_top1": 93.1},
    )
)
register_model(
    ModelEntry(
        "efficientnet_b2.ra_in1k",
        EfficientNetB2,
        "dog breeds",
        (3, 256, 256),
        25,
        None,
        7_736_219,
        _REPORT_003,
        f"starts from timm's ImageNet weights ({TIMM_IMAGENET_WEIGHTS}) for fine-tuning; "
        "no dog-breed weights are published yet",
        metrics={"report_top1": 93.1},
        weights=TimmPretrained(TIMM_IMAGENET_WEIGHTS),
    )
)
