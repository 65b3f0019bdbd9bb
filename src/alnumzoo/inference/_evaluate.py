"""Accuracy, loss and the confusion matrix of a model on a data set."""

from __future__ import annotations

from collections.abc import Iterable, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from alnumzoo.data.base import InMemoryImageDataset, SizedDataset, check_targets
from alnumzoo.data.loaders import DatasetLoader, DeviceLoader
from alnumzoo.inference.device import autocast, resolve_device
from alnumzoo.inference.plotting import pyplot
from alnumzoo.inference.tta import auto_tta, predict_proba, tta_mode
from alnumzoo.labels import LabelMap
from alnumzoo.models.classifier import as_classifier

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EvalData", "EvalResult", "evaluate"]

#: What [`evaluate`][alnumzoo.inference._evaluate.evaluate] accepts.
EvalData = (
    InMemoryImageDataset
    | DeviceLoader
    | DatasetLoader
    | SizedDataset[Any]
    | DataLoader[Any]
    | tuple[torch.Tensor, torch.Tensor]
)


@dataclass
class EvalResult:
    """Metrics of one evaluation.

    Attributes:
        accuracy: Top-1 accuracy in [0, 1].
        loss: Mean cross-entropy of the (averaged) probabilities.
        num_samples: Images evaluated.
        correct: Images classified correctly.
        confusion: ``(K, K)`` counts, row = true class, column = predicted class.
        tta: The test-time augmentation used.
        labels: Class names, if known.
    """

    accuracy: float
    loss: float
    num_samples: int
    correct: int
    confusion: torch.Tensor
    tta: str | None
    labels: LabelMap | None = None

    def per_class_accuracy(self) -> dict[str, float]:
        """Accuracy of each class (by name when labels are known)."""
        totals = self.confusion.sum(dim=1).clamp(min=1)
        accs = (self.confusion.diagonal() / totals).tolist()
        names = self.labels.names if self.labels is not None else tuple(map(str, range(len(accs))))
        return dict(zip(names, accs, strict=True))

    def most_confused(self, k: int = 5) -> list[tuple[str, str, int]]:
        """The ``k`` most frequent (true, predicted, count) mistakes."""
        off = self.confusion.clone()
        off.fill_diagonal_(0)
        values, flat = off.flatten().topk(min(k, off.numel()))
        n = off.shape[0]
        names = self.labels.names if self.labels is not None else tuple(map(str, range(n)))
        return [
            (names[int(i) // n], names[int(i) % n], int(v))
            for v, i in zip(values, flat, strict=True)
            if v > 0
        ]

    def plot_confusion(self, path: str | Path | None = None, *, title: str = "") -> Figure:
        """The confusion matrix as an image (rows: true class, columns: predicted), each row
        normalised to sum to one, diagonal hidden so the mistakes stand out.

        Needs matplotlib (``pip install "alnumzoo[plot]"``). Saves to ``path`` when given.
        """
        plt = pyplot("plot_confusion", headless=path is not None)
        rates = self.confusion.double() / self.confusion.sum(1, keepdim=True).clamp(min=1)
        rates.fill_diagonal_(float("nan"))
        k = rates.shape[0]
        names = self.labels.names if self.labels is not None else tuple(map(str, range(k)))
        side = max(5.0, 0.17 * k + 2)
        fig, ax = plt.subplots(figsize=(side + 1, side))
        shown = ax.imshow(rates.numpy(), cmap="magma_r", vmin=0)
        ax.set_xticks(range(k), names, fontsize=7 if k > 20 else 9, rotation=90 if k <= 20 else 0)
        ax.set_yticks(range(k), names, fontsize=7 if k > 20 else 9)
        ax.set(xlabel="predicted", ylabel="true")
        ax.set_title(title or f"confusions (top-1 {100 * self.accuracy:.2f}%, diagonal hidden)")
        fig.colorbar(shown, ax=ax, fraction=0.046, pad=0.04, label="share of the true class")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=110)
        figure: Figure = fig  # pyplot comes in untyped through the optional import
        return figure


def _batches(
    data: EvalData, batch_size: int, device: torch.device
) -> tuple[Iterable[tuple[torch.Tensor, torch.Tensor]], LabelMap | None]:
    if isinstance(data, DeviceLoader | DatasetLoader):
        return data, data.labels
    if isinstance(data, InMemoryImageDataset):
        loader = DeviceLoader(data, batch_size, shuffle=False, device=device)
        return loader, data.labels
    if isinstance(data, tuple):
        images, targets = data
        if images.dtype == torch.uint8:
            images = images.float() / 255
        pairs = [
            (images[i : i + batch_size], targets[i : i + batch_size])
            for i in range(0, len(targets), batch_size)
        ]
        return pairs, None
    if isinstance(data, DataLoader):
        return data, getattr(data.dataset, "labels", None)
    # DataLoader's annotation asks for a Dataset; any sized map-style set works.
    plain = cast("Dataset[Any]", data)
    return DataLoader(plain, batch_size=batch_size, shuffle=False), getattr(data, "labels", None)


def require_matching_classes(model: nn.Module, labels: LabelMap | None, role: str) -> None:
    """Raise ``ValueError`` when ``model``'s outputs and the data's classes differ in number:
    the loss would otherwise fail deep inside with an index error (or, worse, not fail)."""
    described = as_classifier(model)
    outputs = described.num_classes if described is not None else None
    if outputs is not None and labels is not None and len(labels) != outputs:
        raise ValueError(
            f"the model has {outputs} outputs but the {role} data has {len(labels)} classes "
            f"({labels.name}); use a model built for this data (num_classes={len(labels)} or "
            "labels=...)"
        )


@torch.no_grad()
def evaluate(
    model: nn.Module,
    data: EvalData,
    *,
    tta: str | None = None,
    batch_size: int = 512,
    device: str | torch.device | None = None,
    channels_last: bool = False,
    autocast_dtype: torch.dtype | None = None,
    progress: bool | str = False,
) -> EvalResult:
    """Evaluate ``model`` on ``data`` (in eval mode; the mode is restored afterwards).

    Args:
        model: A classifier returning logits.
        data: An in-memory data set, a [`DeviceLoader`][alnumzoo.data.loaders.DeviceLoader],
            any map-style data set or ``DataLoader`` of ``(image, label)``, or an
            ``(images, targets)`` pair.
        tta: Test-time augmentation (see
            [`predict_proba`][alnumzoo.inference.tta.predict_proba]; ``None`` or ``"none"`` for
            none), or ``"auto"`` (see [`auto_tta`][alnumzoo.inference.tta.auto_tta]).
        batch_size: Images per forward pass.
        device: Where to run; defaults to the model's device.
        channels_last: Feed channels-last batches (CUDA convnets).
        autocast_dtype: Run under ``torch.autocast`` with this dtype (CUDA mixed precision).
        progress: Show a progress bar over the batches (a string sets its label).

    Under ``torch.distributed``, counts are summed over all processes once at the end, so
    every rank returns the same numbers for its shard of the data.

    Raises:
        ValueError: the data are empty, or have another number of classes than the model.
    """
    if device is None:
        device = next(model.parameters()).device
    device = resolve_device(device)
    batches, labels = _batches(data, batch_size, device)
    require_matching_classes(model, labels, "evaluation")
    described = as_classifier(model)
    if labels is None and described is not None:
        labels = described.labels
    tta = auto_tta(model, labels) if tta == "auto" else tta_mode(tta)
    num_classes = described.num_classes if described is not None else None
    was_training = model.training
    model.eval()
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    confusion: torch.Tensor | None = None
    total = len(batches) if isinstance(batches, Sized) else None
    label = progress if isinstance(progress, str) else "evaluate"
    bar = tqdm(batches, total=total, desc=label, unit="batch", disable=not progress, leave=False)
    try:
        for x, y in bar:
            if y.device.type == "cpu":  # in-memory sets were checked when they were made
                check_targets(y, num_classes, "evaluation data")
            x = x.to(device, non_blocking=True)
            y = y.to(device, non_blocking=True)
            if channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            with autocast(device, autocast_dtype):
                probs = predict_proba(model, x, tta)
            if confusion is None:
                k = num_classes or probs.shape[1]
                confusion = torch.zeros(k, k, dtype=torch.int64, device=device)
            loss_sum += F.nll_loss(probs.clamp_min(1e-12).log(), y, reduction="sum").double()
            pairs = y * confusion.shape[0] + probs.argmax(dim=1)
            confusion += torch.bincount(pairs, minlength=confusion.numel()).view_as(confusion)
    finally:
        bar.close()
        model.train(was_training)
    if confusion is None:
        raise ValueError("cannot evaluate on an empty data set")
    if dist.is_available() and dist.is_initialized():
        dist.all_reduce(confusion)
        dist.all_reduce(loss_sum)
    n = int(confusion.sum())
    correct = int(confusion.diagonal().sum())
    return EvalResult(
        accuracy=correct / max(n, 1),
        loss=float(loss_sum) / max(n, 1),
        num_samples=n,
        correct=correct,
        confusion=confusion.cpu(),
        tta=tta,
        labels=labels if labels is not None and len(labels) == confusion.shape[0] else None,
    )
