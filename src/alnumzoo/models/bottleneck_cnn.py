"""BottleneckCNN: the three-stage bottleneck convnet of report 000 (alnum52, 366,792 params)."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from alnumzoo.labels import ALNUM52, LabelsLike
from alnumzoo.models.base import ZooModel
from alnumzoo.models.layers import classifier_layer, conv_bn_relu, conv_stage
from alnumzoo.models.registry import ModelEntry
from alnumzoo.models.zoo import Variant, register_architecture

__all__ = ["BottleneckCNN"]


class BottleneckCNN(ZooModel):
    """Convnet with 1x1 bottlenecks around 5x5 convolutions (report 000).

    ``layer1`` is a 5x5 conv; ``layer2`` and ``layer3`` squeeze to a quarter of their output
    width with a 1x1 conv, apply a 5x5 conv, then expand with a 1x1 conv. Pooling 2, 2, 5 takes
    100x100 to 5x5; the head is ``dropout → fc1 → ReLU → dropout → fc2``. Module names follow
    the authors' code, so their ``state_dict`` loads with ``strict=True``.

    Unlike the authors' forward, no ReLU is applied to the logits (it zeroed negative logits).

    Args:
        num_classes: Output classes (default 52, or the length of ``labels``).
        in_chans: Input channels.
        dropout: Dropout before ``fc1`` and ``fc2`` (report: 0.4; 0.3 scored lower).
        bottleneck: ``False`` builds the report's comparison model with plain 5x5 convs
            (582,824 params).
        widths: Output channels of the three stages.
        hidden: Width of ``fc1``.
        input_size: ``(H, W)`` of the input; the flatten size is derived from it.
        labels: Class names; defaults to `alnumzoo.ALNUM52` for 52 classes.
    """

    arch = "bottleneck_cnn"
    default_labels = ALNUM52
    input_size: tuple[int, int]  # fixed: the head is sized from it
    head_name = "fc2"

    def __init__(
        self,
        num_classes: int | None = None,
        in_chans: int = 1,
        *,
        dropout: float = 0.4,
        bottleneck: bool = True,
        widths: tuple[int, int, int] = (32, 64, 128),
        hidden: int = 100,
        input_size: tuple[int, int] = (100, 100),
        labels: LabelsLike = None,
    ) -> None:
        super().__init__(num_classes, in_chans, input_size, labels)
        h, w = self.input_size
        fh, fw = h // 2 // 2 // 5, w // 2 // 2 // 5
        if fh < 1 or fw < 1:
            raise ValueError(f"input_size must be at least (20, 20), got {(h, w)}")
        w1, w2, w3 = widths
        self.layer1 = conv_stage(in_chans, w1)
        self.layer2 = nn.Sequential(*self._stage(w1, w2, bottleneck), nn.MaxPool2d(2))
        self.layer3 = nn.Sequential(*self._stage(w2, w3, bottleneck), nn.MaxPool2d(5))
        self.fc1 = nn.Linear(w3 * fh * fw, hidden)
        self.num_features = hidden
        self.fc2 = classifier_layer(hidden, self.num_classes)
        self.dropout = nn.Dropout(dropout)

    @staticmethod
    def _stage(cin: int, cout: int, bottleneck: bool) -> list[nn.Module]:
        if not bottleneck:
            return conv_bn_relu(cin, cout, 5)
        mid = cout // 4
        return [*conv_bn_relu(cin, mid, 1), *conv_bn_relu(mid, mid, 5), *conv_bn_relu(mid, cout, 1)]

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The three conv stages; the third's pooled map is ``(N, 128, 5, 5)`` at 100x100."""
        return [self.layer1, self.layer2, self.layer3]

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        """``fc1``'s activations ``(N, hidden)``, after dropout: what ``fc2`` reads."""
        x = self.dropout(torch.flatten(x, 1))
        out: torch.Tensor = self.dropout(torch.relu(self.fc1(x)))
        return out


register_architecture(
    ModelEntry("bottleneck_cnn", BottleneckCNN, "alnum52 characters", (1, 100, 100), 52, ALNUM52,
               366_792, "report 000: bottleneck CNN for 52 alphanumeric characters",
               "3-stage CNN with 1x1 bottlenecks, 100x100 grayscale",
               metrics={"report_top1": 98.54}),
    Variant("alnum52", 366_792, "BottleneckCNN for the 52 alphanumeric classes"),
    Variant("plain_alnum52", 582_824, "the report's comparison model without bottlenecks",
            kwargs={"bottleneck": False}, report_top1=92.98),
)  # fmt: skip
