"""Calibrated probabilities: fit a softmax temperature on held-back data, measure the expected
calibration error (ECE).

Label smoothing, EMA weights and long training all move a classifier's confidence away from its
accuracy (a model trained with label smoothing 0.1 never says more than about 91% for anything).
One scalar temperature ``T``, fitted by minimising the negative log-likelihood of
``softmax(logits / T)`` on data the weights never trained on, corrects that without changing a
single prediction (Guo et al., 2017). ``publish_weights.py`` fits it on the selection split and
stores it in the weights' ``config.json``; ``predict`` and ``evaluate`` apply it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from alnumzoo.data.base import InMemoryImageDataset
from alnumzoo.models.base import TEMPERATURE_RANGE

__all__ = ["Calibration", "collect_logits", "expected_calibration_error", "fit_temperature"]


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


def expected_calibration_error(
    probs: torch.Tensor, targets: torch.Tensor, bins: int = 15
) -> float:
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
        temperature: Divide logits by this before the softmax.
        nll_before: Mean negative log-likelihood at temperature 1.
        nll_after: The same at the fitted temperature.
        ece_before: Expected calibration error at temperature 1.
        ece_after: The same at the fitted temperature.
    """

    temperature: float
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float


def fit_temperature(logits: torch.Tensor, targets: torch.Tensor) -> Calibration:
    """The temperature that minimises the negative log-likelihood of ``targets``.

    Fitted on ``log T`` (so ``T`` stays positive) with L-BFGS, from ``T = 1``, and kept within
    ``alnumzoo.models.base.TEMPERATURE_RANGE`` (a model near chance would
    otherwise drift towards an infinite temperature).

    Raises:
        ValueError: no samples, or logits and targets disagree in length.
    """
    if logits.dim() != 2 or len(logits) == 0 or len(logits) != len(targets):
        raise ValueError(
            f"expected logits (N, K) and N targets with N > 0, got {tuple(logits.shape)} and "
            f"{tuple(targets.shape)}"
        )
    logits = logits.detach().float()
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
            nll_before=float(F.cross_entropy(logits, targets)),
            nll_after=float(F.cross_entropy(logits / temperature, targets)),
            ece_before=expected_calibration_error(logits.softmax(1), targets),
            ece_after=expected_calibration_error((logits / temperature).softmax(1), targets),
        )
