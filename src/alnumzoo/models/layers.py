"""Building blocks shared by the course architectures (kept in the authors' Sequential order so
their state-dict keys stay ``layerN.<index>.…``)."""

from __future__ import annotations

from torch import nn

__all__ = ["classifier_layer", "conv_bn_relu", "conv_stage", "init_resnet_weights"]


def conv_bn_relu(cin: int, cout: int, kernel: int) -> list[nn.Module]:
    """``Conv2d(k, stride 1, 'same' padding, bias) → BatchNorm2d → ReLU`` as a list of modules."""
    return [nn.Conv2d(cin, cout, kernel, 1, kernel // 2), nn.BatchNorm2d(cout), nn.ReLU()]


def conv_stage(cin: int, cout: int, kernel: int = 5, pool: int = 2) -> nn.Sequential:
    """One conv-BN-ReLU followed by ``MaxPool2d(pool)``, the stage all four course nets use."""
    return nn.Sequential(*conv_bn_relu(cin, cout, kernel), nn.MaxPool2d(pool))


def init_resnet_weights(model: nn.Module) -> None:
    """He (fan-out, ReLU) initialisation for every conv, BatchNorm at weight 1 and bias 0, as
    torchvision's ResNets start."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def classifier_layer(in_features: int, num_classes: int) -> nn.Module:
    """``Linear(in_features, num_classes)``, or ``Identity`` for ``num_classes=0`` (a model
    without a classifier returns the features it would have classified)."""
    return nn.Linear(in_features, num_classes) if num_classes > 0 else nn.Identity()
