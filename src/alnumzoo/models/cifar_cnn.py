"""CifarCNN: the three-conv, three-linear CIFAR-10 classifier of report 002 (469,532 params)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from alnumzoo.labels import CIFAR10, LabelsLike
from alnumzoo.models.base import ZooModel
from alnumzoo.models.layers import classifier_layer, conv_stage
from alnumzoo.models.registry import ModelEntry
from alnumzoo.models.zoo import Variant, register_architecture

__all__ = ["CifarCNN"]


class CifarCNN(ZooModel):
    """Three 5x5 conv-BN-ReLU-maxpool stages and a three-layer MLP head (report 002).

    32x32 → 16 → 8 → 4, flatten ``128·4·4 = 2048`` → ``fc1`` (100) → ``fc2`` (50) → ``fc3``,
    with ReLU and dropout between the linear layers. Module names follow the authors' code.

    Args:
        num_classes: Output classes (default 10, or the length of ``labels``).
        in_chans: Input channels (3 for RGB).
        dropout: Dropout after ``fc1`` and ``fc2`` (report: 0.3; the authors' code used 0.5).
        widths: Output channels of the three conv stages.
        hidden: Widths of ``fc1`` and ``fc2``.
        input_size: ``(H, W)`` of the input; the flatten size is derived from it.
        labels: Class names; defaults to `alnumzoo.CIFAR10` for 10 classes.
    """

    arch = "cifar_cnn"
    default_labels = CIFAR10
    input_size: tuple[int, int]  # fixed: the head is sized from it
    head_name = "fc3"

    def __init__(
        self,
        num_classes: int | None = None,
        in_chans: int = 3,
        *,
        dropout: float = 0.3,
        widths: tuple[int, int, int] = (32, 64, 128),
        hidden: tuple[int, int] = (100, 50),
        input_size: tuple[int, int] = (32, 32),
        labels: LabelsLike = None,
    ) -> None:
        super().__init__(num_classes, in_chans, input_size, labels)
        h, w = self.input_size
        fh, fw = h // 8, w // 8
        if fh < 1 or fw < 1:
            raise ValueError(f"input_size must be at least (8, 8), got {(h, w)}")
        self.layer1 = conv_stage(in_chans, widths[0])
        self.layer2 = conv_stage(widths[0], widths[1])
        self.layer3 = conv_stage(widths[1], widths[2])
        self.fc1 = nn.Linear(widths[2] * fh * fw, hidden[0])
        self.dropout1 = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden[0], hidden[1])
        self.dropout2 = nn.Dropout(dropout)
        self.num_features = hidden[1]
        self.fc3 = classifier_layer(hidden[1], self.num_classes)

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The three conv stages; the third's pooled map is ``(N, 128, 4, 4)`` at 32x32."""
        return [self.layer1, self.layer2, self.layer3]

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        """``fc2``'s activations ``(N, hidden[1])``, after dropout: what ``fc3`` reads."""
        x = self.dropout1(torch.relu(self.fc1(torch.flatten(x, 1))))
        out: torch.Tensor = self.dropout2(torch.relu(self.fc2(x)))
        return out


register_architecture(
    ModelEntry("cifar_cnn", CifarCNN, "CIFAR-10 objects", (3, 32, 32), 10, CIFAR10, 469_532,
               "report 002: CNN for CIFAR-10", "3 conv stages + 3-layer MLP, 32x32 RGB",
               metrics={"report_top1": 78.34}),
    Variant("cifar10", 469_532, "CifarCNN for CIFAR-10"),
)  # fmt: skip
