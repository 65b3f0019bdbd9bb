"""Training: fit() with budgets and recipes, evaluation, prediction, checkpoints."""

from alnumzoo.training.budget import BudgetClock, parse_budget
from alnumzoo.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from alnumzoo.training.device import autocast_dtype, resolve_device
from alnumzoo.training.evaluate import EvalResult, evaluate
from alnumzoo.training.fit import NonFiniteLossError, TrainingInterrupted, fit
from alnumzoo.training.history import EpochRecord, History, StepRecord
from alnumzoo.training.optim import build_optimizer
from alnumzoo.training.predict import Prediction, load_image, predict
from alnumzoo.training.recipes import RECIPES, Recipe, get_recipe, list_recipes
from alnumzoo.training.schedule import ProgressLR, lr_factor_fn
from alnumzoo.training.tta import default_tta, predict_proba

__all__ = [
    "RECIPES",
    "BudgetClock",
    "CheckpointError",
    "EpochRecord",
    "EvalResult",
    "History",
    "NonFiniteLossError",
    "Prediction",
    "ProgressLR",
    "Recipe",
    "StepRecord",
    "TrainingInterrupted",
    "autocast_dtype",
    "build_optimizer",
    "default_tta",
    "evaluate",
    "fit",
    "get_recipe",
    "list_recipes",
    "load_checkpoint",
    "load_image",
    "lr_factor_fn",
    "parse_budget",
    "predict",
    "predict_proba",
    "resolve_device",
    "save_checkpoint",
]
