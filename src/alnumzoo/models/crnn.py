"""CRNN: two conv stages feeding a recurrent net (report 004, Fashion-MNIST, 209,482 params)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import torch
from torch import nn

from alnumzoo.labels import FASHION_MNIST, LabelsLike
from alnumzoo.models.base import ZooModel
from alnumzoo.models.layers import classifier_layer, conv_stage
from alnumzoo.models.registry import ModelEntry
from alnumzoo.models.zoo import Variant, register_architecture

__all__ = ["CRNN", "CellType", "SequenceLayout"]

CellType = Literal["rnn", "lstm", "gru"]
SequenceLayout = Literal["report", "columns"]

_CELLS: dict[str, Callable[..., nn.RNNBase]] = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class CRNN(ZooModel):
    """Conv feature extractor + recurrent classifier reading the last time step (report 004).

    ``layer1``/``layer2`` are 5x5 conv-BN-ReLU-maxpool stages (28 → 14 → 7). The feature map
    ``(N, C, H', W')`` becomes a sequence in one of two layouts:

    * ``"report"`` — the authors' raw memory reshape to ``(N, C·H'·W' / seq_features,
      seq_features)``: with defaults, ``(N, 64, 7, 7)`` → 56 steps of 56 features. Faithful, but
      each step mixes pieces of different channels.
    * ``"columns"`` — width as time, channels x height as features: ``(N, W', C·H')``, i.e.
      7 steps of 448 features, the usual CRNN reading order.

    The RNN (``rnn``, batch-first, zero initial state) feeds its last output to ``fc``.

    Args:
        num_classes: Output classes (default 10, or the length of ``labels``).
        in_chans: Input channels.
        cell: ``"rnn"`` (report), ``"lstm"`` or ``"gru"``.
        hidden_size: RNN hidden size (report: 128).
        num_layers: Stacked RNN layers (report: 5).
        dropout: Dropout between RNN layers (report: 0.4).
        bidirectional: Run the RNN in both directions (``fc`` then sees ``2·hidden_size``).
        layout: How the feature map becomes a sequence, see above.
        seq_features: Features per step for the ``"report"`` layout (report: 56).
        widths: Output channels of ``layer1`` and ``layer2``.
        input_size: ``(H, W)`` of the input.
        labels: Class names; defaults to `alnumzoo.FASHION_MNIST` for 10 classes.
    """

    arch = "crnn"
    default_labels = FASHION_MNIST
    input_size: tuple[int, int]  # fixed: the head is sized from it

    def __init__(
        self,
        num_classes: int | None = None,
        in_chans: int = 1,
        *,
        cell: CellType = "rnn",
        hidden_size: int = 128,
        num_layers: int = 5,
        dropout: float = 0.4,
        bidirectional: bool = False,
        layout: SequenceLayout = "report",
        seq_features: int = 56,
        widths: tuple[int, int] = (32, 64),
        input_size: tuple[int, int] = (28, 28),
        labels: LabelsLike = None,
    ) -> None:
        super().__init__(num_classes, in_chans, input_size, labels)
        if cell not in _CELLS:
            raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
        h, w = self.input_size
        fh, fw = h // 4, w // 4
        if fh < 1 or fw < 1:
            raise ValueError(f"input_size must be at least (4, 4), got {(h, w)}")
        feature_count = widths[1] * fh * fw
        if layout == "report":
            if feature_count % seq_features:
                raise ValueError(
                    f"the 'report' layout reshapes {widths[1]}x{fh}x{fw}={feature_count} features "
                    f"into steps of seq_features={seq_features}, which does not divide it"
                )
            step_features = seq_features
        elif layout == "columns":
            step_features = widths[1] * fh
        else:
            raise ValueError(f"layout must be 'report' or 'columns', got {layout!r}")
        self.layout: SequenceLayout = layout
        self.step_features = step_features
        self.layer1 = conv_stage(in_chans, widths[0])
        self.layer2 = conv_stage(widths[0], widths[1])
        self.rnn = _CELLS[cell](
            step_features,
            hidden_size,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional,
        )
        self.num_features = hidden_size * (2 if bidirectional else 1)
        self.fc = classifier_layer(self.num_features, self.num_classes)

    def to_sequence(self, features: torch.Tensor) -> torch.Tensor:
        """Turn a ``(N, C, H, W)`` feature map into a ``(N, steps, features)`` sequence."""
        if self.layout == "report":
            return features.reshape(features.size(0), -1, self.step_features)
        n, c, h, w = features.shape
        return features.permute(0, 3, 1, 2).reshape(n, w, c * h)

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The two conv stages (the recurrent layers follow in `after_stages`)."""
        return [self.layer1, self.layer2]

    def after_stages(self, x: torch.Tensor) -> torch.Tensor:
        """The recurrent layers' outputs at every step, ``(N, steps, num_features)``."""
        out: torch.Tensor = self.rnn(self.to_sequence(x))[0]  # zero initial state, as the report
        return out

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        """The final state ``(N, num_features)`` of the sequence ``fc`` reads."""
        if not self.rnn.bidirectional:
            return x[:, -1, :]
        # The backward direction has read the whole sequence at step 0, not at the last step.
        half = self.rnn.hidden_size
        return torch.cat([x[:, -1, :half], x[:, 0, half:]], dim=1)


register_architecture(
    ModelEntry("crnn", CRNN, "Fashion-MNIST clothing", (1, 28, 28), 10, FASHION_MNIST, 209_482,
               "report 004: CRNN for Fashion-MNIST",
               "2 conv stages + 5-layer RNN over the report's 56x56 reshape, 28x28 grayscale",
               metrics={"report_top1": 90.33}),
    Variant("fashion_mnist", 209_482, "report-layout CRNN for Fashion-MNIST"),
    Variant("columns_gru_fashion_mnist", 646_346, "column-sequence CRNN (width as time, 2-layer "
            "GRU 192) for Fashion-MNIST",
            kwargs={"layout": "columns", "cell": "gru", "num_layers": 2, "hidden_size": 192}),
)  # fmt: skip
