"""Calibrated probabilities: fit a softmax temperature on held-back data, measure the expected
calibration error (ECE).

Label smoothing, EMA weights and long training all move a classifier's confidence away from its
accuracy (a model trained with label smoothing 0.1 never says more than about 91% for anything).
One scalar temperature ``T``, fitted by minimising the negative log-likelihood of
``softmax(logits / T)`` on data the weights never trained on, corrects most of that without
changing a single prediction (Guo et al., 2017).

A model trained with label smoothing ``s`` learns to predict the smoothed target
``(1 - s) p + s / K``, which squeezes its confident answers and its doubtful ones differently: no
single temperature fits both (`cifar_cnn.cifar10`: images it gives 0.94 are right 98% of the
time, those it gives 0.63 only 55%). Undoing the smoothing first,
``p <- max((p - s / K) / (1 - s), PROBABILITY_FLOOR)``, and then fitting the temperature on
``log p`` does: measured on the shipped variants' held-out splits (``python
benchmarks/calibrate_shipped.py``), ECE fell from 3.56% to 1.9% on CIFAR-10 and from 1.8% to
1.2% on Fashion-MNIST. The publisher fits both on the selection split and stores them in the
weights' ``config.json``; ``predict`` and ``evaluate`` apply them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from alnumzoo.data.base import InMemoryImageDataset
from alnumzoo.models.base import TEMPERATURE_RANGE, UNDO_SMOOTHING_RANGE, ZooModel

__all__ = [
    "CALIBRATION_FORMULA",
    "PROBABILITY_FLOOR",
    "Calibration",
    "calibrated_log_scores",
    "calibrated_probabilities",
    "collect_logits",
    "expected_calibration_error",
    "fit_temperature",
]

#: The least probability a class keeps once label smoothing is undone. A class the smoothed
#: model rated below ``s / K`` would otherwise get probability 0 and an infinite loss. Swept
#: over 1e-2..1e-6 on the shipped variants (``python benchmarks/calibrate_shipped.py NAME
#: --sweep-floor``, 2026-12-03): 1e-4 gave the lowest held-out negative log-likelihood, or tied
#: for it, on CifarCNN, both CRNNs and CharResNet; 1e-3 did on the two LiteResNet alnum52
#: variants, which keep plain temperature scaling (its fitting-split NLL is lower there).
PROBABILITY_FLOOR = 1e-4

#: How a runtime outside alnumzoo turns a model's logits into its calibrated probabilities
#: (written into exported models' contracts), with ``K`` classes.
CALIBRATION_FORMULA = (
    "p = softmax(logits); if undo_smoothing > 0: p = log(max((p - undo_smoothing / K) / "
    f"(1 - undo_smoothing), {PROBABILITY_FLOOR})) else p = logits; "
    "probabilities = softmax(p / temperature)"
)


def calibrated_log_scores(logits: torch.Tensor, undo_smoothing: float = 0.0) -> torch.Tensor:
    """What the temperature divides: the logits themselves, or with ``undo_smoothing = s > 0``
    the log of the probabilities with label smoothing ``s`` taken out (see the module's text).
    The order of the classes never changes."""
    if undo_smoothing == 0.0:
        return logits.float()
    k = logits.shape[-1]
    probs = logits.float().softmax(-1)
    return ((probs - undo_smoothing / k) / (1 - undo_smoothing)).clamp(min=PROBABILITY_FLOOR).log()


def calibrated_probabilities(
    logits: torch.Tensor, temperature: float = 1.0, undo_smoothing: float = 0.0
) -> torch.Tensor:
    """Class probabilities from raw ``logits`` with a model's calibration applied: label
    smoothing ``undo_smoothing`` taken out, then softmax at ``temperature`` (the two are a
    model's `temperature` and `undo_smoothing` attributes)."""
    return F.softmax(calibrated_log_scores(logits, undo_smoothing) / temperature, dim=-1)


@torch.no_grad()
def collect_logits(
    model: nn.Module, data: InMemoryImageDataset, batch_size: int = 512
) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw logits (no temperature, no TTA) and targets of every image of ``data``."""
    model.eval()
    device = next(model.parameters()).device
    out = []
    for start in range(0, len(data), batch_size):
        x = data.images[start : start + batch_size].to(device).float() / 255
        out.append(model(x).float().cpu())
    return torch.cat(out), data.targets.clone()


def expected_calibration_error(probs: torch.Tensor, targets: torch.Tensor, bins: int = 15) -> float:
    """ECE in [0, 1]: the gap between confidence and accuracy, averaged over ``bins``
    equal-width confidence bins weighted by how many predictions fall in each."""
    confidence, predicted = probs.max(dim=1)
    correct = (predicted == targets).float()
    edges = torch.linspace(0, 1, bins + 1)
    total = torch.zeros(())
    for low, high in itertools.pairwise(edges):
        inside = (confidence > low) & (confidence <= high)
        if inside.any():
            gap = (confidence[inside].mean() - correct[inside].mean()).abs()
            total = total + gap * inside.float().mean()
    return float(total)


@dataclass(frozen=True)
class Calibration:
    """A fitted temperature and what it did on the data it was fitted on.

    Attributes:
        temperature: Divide the (smoothing-corrected) log scores by this before the softmax.
        undo_smoothing: The label smoothing taken out first (0: plain temperature scaling).
        nll_before: Mean negative log-likelihood of the raw logits.
        nll_after: The same with the calibration applied.
        ece_before: Expected calibration error of the raw logits.
        ece_after: The same with the calibration applied.
    """

    temperature: float
    undo_smoothing: float
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float

    def apply(self, model: ZooModel) -> None:
        """Make ``model``'s predicted probabilities use this calibration."""
        model.temperature = self.temperature
        model.undo_smoothing = self.undo_smoothing


def fit_temperature(
    logits: torch.Tensor, targets: torch.Tensor, *, undo_smoothing: float = 0.0
) -> Calibration:
    """The temperature that minimises the negative log-likelihood of ``targets``, after label
    smoothing ``undo_smoothing`` is taken out of the probabilities (pass the smoothing the
    model trained with; 0 for plain temperature scaling).

    Fitted on ``log T`` (so ``T`` stays positive) with L-BFGS, from ``T = 1``, and kept within
    ``alnumzoo.models.base.TEMPERATURE_RANGE`` (a model near chance would
    otherwise drift towards an infinite temperature).

    Raises:
        ValueError: no samples, logits and targets disagree in length, or ``undo_smoothing``
            outside `UNDO_SMOOTHING_RANGE`.
    """
    if logits.dim() != 2 or len(logits) == 0 or len(logits) != len(targets):
        raise ValueError(
            f"expected logits (N, K) and N targets with N > 0, got {tuple(logits.shape)} and "
            f"{tuple(targets.shape)}"
        )
    low, high = UNDO_SMOOTHING_RANGE
    if not low <= undo_smoothing <= high:
        raise ValueError(f"undo_smoothing must be in [{low}, {high}], got {undo_smoothing!r}")
    raw = logits.detach().float()
    logits = calibrated_log_scores(raw, undo_smoothing)
    log_t = torch.zeros((), requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(logits / log_t.exp(), targets)
        (grad,) = torch.autograd.grad(loss, [log_t])
        log_t.grad = grad
        return loss

    optimizer.step(closure)  # type: ignore[no-untyped-call]
    low, high = TEMPERATURE_RANGE
    temperature = min(max(float(log_t.detach().exp()), low), high)
    with torch.no_grad():
        return Calibration(
            temperature=temperature,
            undo_smoothing=undo_smoothing,
            nll_before=float(F.cross_entropy(raw, targets)),
            nll_after=float(F.cross_entropy(logits / temperature, targets)),
            ece_before=expected_calibration_error(raw.softmax(1), targets),
            ece_after=expected_calibration_error((logits / temperature).softmax(1), targets),
        )
