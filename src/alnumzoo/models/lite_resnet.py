"""LiteResNet: the light residual net of report 001 (alnum52 at 90x90)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import torch
from torch import nn

from alnumzoo.labels import ALNUM52, LabelsLike
from alnumzoo.models.base import ZooModel
from alnumzoo.models.layers import classifier_layer, init_resnet_weights
from alnumzoo.models.registry import ModelEntry
from alnumzoo.models.zoo import Variant, register_architecture

__all__ = ["LiteResNet"]


def _halve(size: int) -> int:
    # Every strided layer here (7x7/s2/p3, maxpool 3/s2/p1, 3x3/s2/p1, 1x1/s2) maps n -> ceil(n/2).
    return (size + 1) // 2


class LiteResNet(ZooModel):
    """ResNet-style stem plus one residual conv per stage, each halving the resolution.

    Stem: ``conv1`` (7x7, stride 2, no bias) → ``bn1`` → ReLU → 3x3/2 max pool. Stage ``i``
    (numbered from 2, as in the authors' code) computes
    ``relu(bn{i}(conv{i}(x)) + downsample{i-1}(x))`` where ``conv{i}`` is a 3x3 stride-2 conv and
    ``downsample{i-1}`` a 1x1 stride-2 conv with BatchNorm. Then flatten → dropout → ``fc``.
    Convs use Kaiming-normal (fan_out, relu) init, BatchNorm weight 1 and bias 0.

    The report's final model (the default) has ``widths=(32, 32, 64, 128)``:
    90 → 45 → 23 → 12 → 6 → 3, flatten 128·3·3. Its earlier variant is ``widths=(64, 64, 128)``
    (flatten 4608). The flatten size always follows ``input_size``.

    Args:
        num_classes: Output classes (default 52, or the length of ``labels``).
        in_chans: Input channels.
        widths: Stem width followed by the output width of each residual stage.
        dropout: Dropout before ``fc`` (report: 0.4).
        input_size: ``(H, W)`` of the input (report: 90x90).
        labels: Class names; defaults to `alnumzoo.ALNUM52` for 52 classes.
    """

    arch = "lite_resnet"
    default_labels = ALNUM52
    input_size: tuple[int, int]  # fixed: the head is sized from it
    stem_name = "conv1"

    def __init__(
        self,
        num_classes: int | None = None,
        in_chans: int = 1,
        *,
        widths: Sequence[int] = (32, 32, 64, 128),
        dropout: float = 0.4,
        input_size: tuple[int, int] = (90, 90),
        labels: LabelsLike = None,
    ) -> None:
        widths = [int(w) for w in widths]
        if len(widths) < 2:
            raise ValueError(f"widths needs a stem width and at least one stage, got {widths}")
        super().__init__(num_classes, in_chans, input_size, labels)
        h, w = self.input_size
        self.conv1 = nn.Conv2d(in_chans, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self._stage_ids = list(range(2, len(widths) + 1))
        for i, (cin, cout) in zip(self._stage_ids, itertools.pairwise(widths), strict=True):
            self.add_module(f"conv{i}", nn.Conv2d(cin, cout, 3, 2, 1, bias=False))
            self.add_module(f"bn{i}", nn.BatchNorm2d(cout))
            self.add_module(
                f"downsample{i - 1}",
                nn.Sequential(nn.Conv2d(cin, cout, 1, 2, bias=False), nn.BatchNorm2d(cout)),
            )
        fh, fw = h, w
        for _ in range(len(widths) + 1):
            fh, fw = _halve(fh), _halve(fw)
        self.dropout = nn.Dropout(dropout)
        self.num_features = widths[-1] * fh * fw
        self.fc = classifier_layer(self.num_features, self.num_classes)
        init_resnet_weights(self)

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The stem (conv, norm, max-pool), then the strided residual stages; the last map is
        ``(N, widths[-1], 3, 3)`` at 90x90."""

        def stem(x: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
            return out

        def stage(i: int) -> Callable[[torch.Tensor], torch.Tensor]:
            def run(x: torch.Tensor) -> torch.Tensor:
                identity = self.get_submodule(f"downsample{i - 1}")(x)
                x = self.get_submodule(f"bn{i}")(self.get_submodule(f"conv{i}")(x))
                return torch.relu(x + identity)

            return run

        return [stem, *(stage(i) for i in self._stage_ids)]

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The flattened map ``(N, num_features)``, after dropout (the report's head
        flattens; it has no pooling)."""
        out: torch.Tensor = self.dropout(torch.flatten(x, 1))
        return out


register_architecture(
    ModelEntry("lite_resnet", LiteResNet, "alnum52 characters", (1, 90, 90), 52, ALNUM52,
               175_124, "report 001: light ResNet for 52 alphanumeric characters",
               "stem + 3 strided residual stages, 90x90 grayscale",
               metrics={"report_top1": 96.06}),
    Variant("alnum52", 175_124, "LiteResNet for the 52 alphanumeric classes"),
    Variant("alnum52_48", 141_844, "LiteResNet at 48x48 (characters read fine there; ~3x the "
            "training throughput of 90x90)", kwargs={"input_size": (48, 48)},
            input_size=(1, 48, 48)),
)  # fmt: skip
