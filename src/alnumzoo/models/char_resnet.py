"""CharResNet: a residual network sized for single characters at 32–64 px (alnum52's strongest
variant, within the course's 1,200,000-parameter limit)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from alnumzoo.labels import ALNUM52, LabelsLike
from alnumzoo.models.base import ZooModel
from alnumzoo.models.layers import classifier_layer, init_resnet_weights
from alnumzoo.models.registry import ModelEntry
from alnumzoo.models.zoo import Variant, register_architecture

__all__ = ["CharResNet"]


class _BasicBlock(nn.Module):
    """Two 3x3 convs with BatchNorm and an identity (or 1x1 projection) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class CharResNet(ZooModel):
    """3x3 stem (stride 2), then stages of ``depth`` basic residual blocks, the first block of
    every stage after the first halving the resolution; global average pooling, dropout, ``fc``.

    The default (``widths=(32, 64, 128, 192)``, ``depth=1``) has 895,508 parameters at any
    input size: at 48x48 the stages see 24x24, 12x12, 6x6 and 3x3. It was chosen for a CPU
    budget: one thread trains it at about 300 images/s at 48x48 (bf16, channels-last), where
    ``widths=(40, 80, 160), depth=2`` (1,093,132 parameters) manages about 100. Average
    pooling, unlike LiteResNet's flatten, makes the head independent of the input size, so one
    set of weights reads 32 px or 64 px characters too (``input_size`` only sets the size it
    checks for). The last BatchNorm of each block starts at zero, so every block starts as the
    identity.

    Args:
        num_classes: Output classes (default 52, or the length of ``labels``).
        in_chans: Input channels.
        widths: Output width of each stage (the stem has the first stage's width).
        depth: Residual blocks per stage.
        dropout: Dropout before ``fc``.
        input_size: ``(H, W)`` of the input.
        labels: Class names; defaults to `alnumzoo.ALNUM52` for 52 classes.
    """

    arch = "char_resnet"
    default_labels = ALNUM52
    stem_name = "stem.0"

    def __init__(
        self,
        num_classes: int | None = None,
        in_chans: int = 1,
        *,
        widths: Sequence[int] = (32, 64, 128, 192),
        depth: int = 1,
        dropout: float = 0.1,
        input_size: tuple[int, int] = (48, 48),
        labels: LabelsLike = None,
    ) -> None:
        widths = [int(w) for w in widths]
        if not widths or depth < 1:
            raise ValueError(f"need at least one stage and one block, got {widths}, {depth}")
        super().__init__(num_classes, in_chans, input_size, labels)
        self.stem = nn.Sequential(
            nn.Conv2d(in_chans, widths[0], 3, 2, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True),
        )
        blocks: list[nn.Module] = []
        cin = widths[0]
        for stage, cout in enumerate(widths):
            for b in range(depth):
                blocks.append(_BasicBlock(cin, cout, 2 if stage > 0 and b == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.widths = tuple(widths)
        self.num_features = widths[-1]
        self.dropout = nn.Dropout(dropout)
        self.fc = classifier_layer(self.num_features, self.num_classes)
        init_resnet_weights(self)
        for block in self.blocks:
            assert isinstance(block, _BasicBlock)
            nn.init.zeros_(block.bn2.weight)

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The stem, then one stage per width (``depth`` blocks each); the last map is
        ``(N, num_features, h, w)``."""
        blocks = list(self.blocks)
        depth = len(blocks) // len(self.widths)

        def stage(first: int) -> Callable[[torch.Tensor], torch.Tensor]:
            def run(x: torch.Tensor) -> torch.Tensor:
                for block in blocks[first : first + depth]:
                    x = block(x)
                return x

            return run

        return [self.stem, *(stage(i) for i in range(0, len(blocks), depth))]

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The globally average-pooled map ``(N, num_features)``, after dropout."""
        out: torch.Tensor = self.dropout(x.mean(dim=(2, 3)))
        return out


register_architecture(
    ModelEntry("char_resnet", CharResNet, "alnum52 characters", (1, 48, 48), 52, ALNUM52,
               895_508, "alnumzoo's own, for alnum52 within reports 000/001's 1,200,000-"
               "parameter limit", "residual net for single characters (3x3 stem, 4 stages of "
               "basic blocks, average pool), 48x48 grayscale"),
    Variant("alnum52", 895_508, "CharResNet trained on the wide font corpus (Debian + every "
            "Google Fonts family) in the real-world rendering style; the strongest alnum52 "
            "variant"),
)  # fmt: skip
