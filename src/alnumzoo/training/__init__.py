"""Training: fit() with budgets and recipes, resumable checkpoints and the run's history.

``alnumzoo.training.fit`` is the function (also ``alnumzoo.fit``); it lives in the private
module ``_fit``, so no module shadows it.
"""

from alnumzoo.training._fit import fit
from alnumzoo.training.budget import BudgetClock, BudgetPlan, parse_budget
from alnumzoo.training.checkpoint import (
    CheckpointError,
    TrainState,
    load_checkpoint,
    save_checkpoint,
)
from alnumzoo.training.fine_tune import FINE_TUNE_LR_FACTOR
from alnumzoo.training.history import EpochRecord, History, StepRecord, StopReason
from alnumzoo.training.optim import build_optimizer
from alnumzoo.training.options import FitOptions
from alnumzoo.training.recipes import RECIPES, Recipe, get_recipe, list_recipes
from alnumzoo.training.schedule import ProgressLR, lr_factor_fn
from alnumzoo.training.signals import TrainingInterrupted
from alnumzoo.training.tally import NonFiniteLossError

__all__ = [
    "FINE_TUNE_LR_FACTOR",
    "RECIPES",
    "BudgetClock",
    "BudgetPlan",
    "CheckpointError",
    "EpochRecord",
    "FitOptions",
    "History",
    "NonFiniteLossError",
    "ProgressLR",
    "Recipe",
    "StepRecord",
    "StopReason",
    "TrainState",
    "TrainingInterrupted",
    "build_optimizer",
    "fit",
    "get_recipe",
    "list_recipes",
    "load_checkpoint",
    "lr_factor_fn",
    "parse_budget",
    "save_checkpoint",
]
