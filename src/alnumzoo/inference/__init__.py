"""Inference: evaluation (with test-time augmentation), prediction from image files, and the
device and precision choice they share with training.

``alnumzoo.inference.evaluate`` and ``alnumzoo.inference.predict`` are the functions (also
``alnumzoo.evaluate`` and ``alnumzoo.predict``); their private modules ``_evaluate`` and
``_predict`` never shadow them.
"""

from alnumzoo.inference._evaluate import EvalResult, evaluate
from alnumzoo.inference._predict import Prediction, iter_predict, load_image, predict
from alnumzoo.inference.calibration import (
    Calibration,
    calibrated_probabilities,
    collect_logits,
    expected_calibration_error,
    fit_temperature,
)
from alnumzoo.inference.device import autocast_dtype, resolve_device
from alnumzoo.inference.tta import auto_tta, default_tta, predict_proba, tta_views

__all__ = [
    "Calibration",
    "EvalResult",
    "Prediction",
    "auto_tta",
    "autocast_dtype",
    "calibrated_probabilities",
    "collect_logits",
    "default_tta",
    "evaluate",
    "expected_calibration_error",
    "fit_temperature",
    "iter_predict",
    "load_image",
    "predict",
    "predict_proba",
    "resolve_device",
    "tta_views",
]
