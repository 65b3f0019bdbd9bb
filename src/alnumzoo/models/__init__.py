"""Model architectures, the registry that names them, the Classifier protocol, and parameter
helpers. Each architecture's module registers itself and its variants when imported (see
`alnumzoo.models.zoo`); importing them here fills the registry."""

from alnumzoo.models.base import ZooModel
from alnumzoo.models.bottleneck_cnn import BottleneckCNN
from alnumzoo.models.char_resnet import CharResNet
from alnumzoo.models.cifar_cnn import CifarCNN
from alnumzoo.models.classifier import Classifier, as_classifier
from alnumzoo.models.crnn import CRNN
from alnumzoo.models.efficientnet import TIMM_IMAGENET_WEIGHTS, EfficientNetB2, efficientnet_b2
from alnumzoo.models.lite_resnet import LiteResNet
from alnumzoo.models.params import (
    COURSE_PARAM_CAP,
    ParameterBudgetError,
    check_parameter_budget,
    count_parameters,
)
from alnumzoo.models.pretrained_cfg import PretrainedCfg
from alnumzoo.models.registry import (
    ModelEntry,
    build_model,
    get_model_entry,
    list_models,
    register_model,
)

__all__ = [
    "COURSE_PARAM_CAP",
    "CRNN",
    "TIMM_IMAGENET_WEIGHTS",
    "BottleneckCNN",
    "CharResNet",
    "CifarCNN",
    "Classifier",
    "EfficientNetB2",
    "LiteResNet",
    "ModelEntry",
    "ParameterBudgetError",
    "PretrainedCfg",
    "ZooModel",
    "as_classifier",
    "build_model",
    "check_parameter_budget",
    "count_parameters",
    "efficientnet_b2",
    "get_model_entry",
    "list_models",
    "register_model",
]
