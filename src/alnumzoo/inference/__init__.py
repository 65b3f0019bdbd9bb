"""Inference: evaluation (with test-time augmentation), prediction from image files, and the
device and precision choice they share with training."""

from alnumzoo.inference.device import autocast_dtype, resolve_device
from alnumzoo.inference.evaluate import EvalResult, evaluate
from alnumzoo.inference.predict import Prediction, load_image, predict
from alnumzoo.inference.tta import default_tta, predict_proba, tta_views

__all__ = [
    "EvalResult",
    "Prediction",
    "autocast_dtype",
    "default_tta",
    "evaluate",
    "load_image",
    "predict",
    "predict_proba",
    "resolve_device",
    "tta_views",
]
