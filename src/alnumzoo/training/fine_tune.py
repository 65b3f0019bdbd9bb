"""When a run is a fine-tune, and what that changes in its recipe."""

from __future__ import annotations

from torch import nn

from alnumzoo.training.options import FitOptions
from alnumzoo.training.recipes import Recipe

__all__ = ["FINE_TUNE_LR_FACTOR", "fine_tune_recipe", "is_fine_tune"]

#: A fine-tune's peak learning rate, as a share of the recipe's (measured on the hub guide's
#: case: cifar_cnn.cifar10 on two of its classes went from 83.0% to 74.8% at the default rate
#: and to 85.4% at a tenth of it without warm-up).
FINE_TUNE_LR_FACTOR = 0.1


def is_fine_tune(model: nn.Module, options: FitOptions) -> bool:
    """Whether ``fit`` trains ``model`` as a fine-tune: as ``fine_tune=`` says, or with
    ``"auto"`` when the model holds trained weights (``from_pretrained`` leaves a load report)
    and the user chose neither a recipe nor a learning rate."""
    if options.fine_tune != "auto":
        return bool(options.fine_tune)
    pretrained = getattr(model, "load_report", None) is not None
    return pretrained and options.recipe == "default" and options.lr is None


def fine_tune_recipe(recipe: Recipe) -> Recipe:
    """``recipe`` as a fine-tune runs it: at `FINE_TUNE_LR_FACTOR` of its peak rate, without
    warm-up."""
    return recipe.with_overrides(
        name=f"{recipe.name}+fine-tune", lr=recipe.lr * FINE_TUNE_LR_FACTOR, warmup=0.0
    )
