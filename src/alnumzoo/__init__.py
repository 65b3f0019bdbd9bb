"""alnumzoo: small, fast, typed PyTorch image classifiers with a time-budgeted trainer.

Example:
    >>> import alnumzoo
    >>> model = alnumzoo.create_model("bottleneck_cnn")
    >>> alnumzoo.count_parameters(model)
    366792
"""

from alnumzoo._version import __version__
from alnumzoo.data import (
    Alnum52Folder,
    Alnum52Rendered,
    Cifar10,
    DeviceLoader,
    FashionMNIST,
    StanfordDogs,
    build_alnum52,
    create_transform,
)
from alnumzoo.deploy import export
from alnumzoo.factory import create_model
from alnumzoo.hub import LoadReport, from_pretrained, push_to_hub, save_pretrained
from alnumzoo.hub import timm_bridge as _timm_bridge
from alnumzoo.inference._evaluate import EvalResult, evaluate
from alnumzoo.inference._predict import Prediction, predict
from alnumzoo.labels import (
    ALNUM52,
    CIFAR10,
    DOG_BREEDS,
    FASHION_MNIST,
    LabelMap,
    char_to_hex,
    hex_to_char,
)
from alnumzoo.models import (
    COURSE_PARAM_CAP,
    CRNN,
    BottleneckCNN,
    CharResNet,
    CifarCNN,
    EfficientNetB2,
    LiteResNet,
    ModelEntry,
    ParameterBudgetError,
    PretrainedCfg,
    ZooModel,
    check_parameter_budget,
    count_parameters,
    efficientnet_b2,
    get_model_entry,
    list_models,
    register_model,
)
from alnumzoo.training import History, Recipe
from alnumzoo.training._fit import fit

__all__ = [
    "ALNUM52",
    "CIFAR10",
    "COURSE_PARAM_CAP",
    "CRNN",
    "DOG_BREEDS",
    "FASHION_MNIST",
    "Alnum52Folder",
    "Alnum52Rendered",
    "BottleneckCNN",
    "CharResNet",
    "Cifar10",
    "CifarCNN",
    "DeviceLoader",
    "EfficientNetB2",
    "EvalResult",
    "FashionMNIST",
    "History",
    "LabelMap",
    "LiteResNet",
    "LoadReport",
    "ModelEntry",
    "ParameterBudgetError",
    "Prediction",
    "PretrainedCfg",
    "Recipe",
    "StanfordDogs",
    "ZooModel",
    "__version__",
    "build_alnum52",
    "char_to_hex",
    "check_parameter_budget",
    "count_parameters",
    "create_model",
    "create_transform",
    "efficientnet_b2",
    "evaluate",
    "export",
    "fit",
    "from_pretrained",
    "get_model_entry",
    "hex_to_char",
    "list_models",
    "predict",
    "push_to_hub",
    "register_model",
    "save_pretrained",
]

# timm learns alnumzoo's architectures when (and only when) it is imported.
_timm_bridge.install()
