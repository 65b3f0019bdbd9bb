"""EfficientNet-B2 from timm, as fine-tuned in report 003 (Stanford Dogs breeds)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from alnumzoo.labels import DOG_BREEDS, LabelsLike
from alnumzoo.models.base import ZooModel
from alnumzoo.models.registry import ModelEntry, TimmPretrained
from alnumzoo.models.zoo import Variant, register_architecture

__all__ = ["TIMM_IMAGENET_WEIGHTS", "EfficientNetB2", "efficientnet_b2"]

#: timm's ImageNet-1k weights the report started from (downloaded by timm from the Hub).
TIMM_IMAGENET_WEIGHTS = "timm/efficientnet_b2.ra_in1k"
#: ImageNet's channel statistics, which timm's ImageNet weights were trained with.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class EfficientNetB2(ZooModel):
    """A thin wrapper around ``timm.create_model("efficientnet_b2")`` adding labels and checks.

    The timm network lives in `model`; a plain timm ``state_dict`` (keys without the
    ``model.`` prefix, e.g. a checkpoint saved by the report's code) also loads with
    ``strict=True``.

    Args:
        num_classes: Output classes (report: 25 breeds).
        in_chans: Input channels.
        pretrained: Start from timm's ImageNet weights (`TIMM_IMAGENET_WEIGHTS`); needs
            the Hub or a warm Hugging Face cache. ``False`` builds offline.
        drop_rate: Dropout before the classifier (timm's ``drop_rate``).
        drop_path_rate: Stochastic depth (timm's ``drop_path_rate``).
        labels: Class names; defaults to `alnumzoo.DOG_BREEDS` when their count matches.
        normalize: Standardise inputs with ImageNet's mean and std inside the model, as timm's
            ImageNet weights expect; the model still takes images in [0, 1]. Report 003
            trained without it.
        **timm_kwargs: Passed on to ``timm.create_model``.
    """

    arch = "efficientnet_b2"
    default_labels = DOG_BREEDS
    head_name = "model.classifier"
    stem_name = "model.conv_stem"

    def __init__(
        self,
        num_classes: int | None = 25,
        in_chans: int = 3,
        *,
        pretrained: bool = False,
        drop_rate: float = 0.3,
        drop_path_rate: float = 0.2,
        labels: LabelsLike = None,
        normalize: bool = False,
        **timm_kwargs: Any,
    ) -> None:
        super().__init__(num_classes, in_chans, None, labels)
        self.normalize = normalize
        # Not persistent: the state_dict stays a plain timm one.
        mean = torch.tensor(IMAGENET_MEAN).repeat(-(-in_chans // 3))[:in_chans]
        std = torch.tensor(IMAGENET_STD).repeat(-(-in_chans // 3))[:in_chans]
        self.input_mean: torch.Tensor
        self.input_std: torch.Tensor
        self.register_buffer("input_mean", mean.view(1, -1, 1, 1), persistent=False)
        self.register_buffer("input_std", std.view(1, -1, 1, 1), persistent=False)
        import timm  # imported on first use: it takes seconds, and most users never need it

        self.model: nn.Module = timm.create_model(
            "efficientnet_b2",
            pretrained=pretrained,
            num_classes=self.num_classes,
            in_chans=in_chans,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            **timm_kwargs,
        )
        self.num_features = int(getattr(self.model, "num_features", 0))
        self.register_load_state_dict_pre_hook(_accept_plain_timm_keys)  # type: ignore[no-untyped-call]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """timm's ``forward_features``: the last stage's map ``(N, 1408, h, w)``."""
        if self.normalize:
            x = (x - self.input_mean) / self.input_std
        timm_model: Any = self.model  # timm's methods are untyped
        features: torch.Tensor = timm_model.forward_features(x)
        return features

    def forward_intermediates(
        self, x: torch.Tensor, *args: Any, **kwargs: Any
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """timm's ``forward_intermediates`` (same arguments), after the input normalisation."""
        if self.normalize:
            x = (x - self.input_mean) / self.input_std
        timm_model: Any = self.model
        out: list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]
        out = timm_model.forward_intermediates(x, *args, **kwargs)
        return out

    @property
    def feature_info(self) -> list[dict[str, Any]]:
        """timm's ``feature_info`` of the wrapped EfficientNet-B2."""
        info: Any = getattr(self.model, "feature_info", [])
        return [dict(entry) for entry in info]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """timm's ``forward_head``: pooled ``(N, 1408)`` with ``pre_logits``, else logits."""
        timm_model: Any = self.model
        out: torch.Tensor = timm_model.forward_head(x, pre_logits=pre_logits)
        return out

    def _replace_classifier(self, num_classes: int) -> None:
        """timm's own ``reset_classifier`` (the base class keeps count, labels and init args)."""
        timm_model: Any = self.model
        timm_model.reset_classifier(num_classes)


def _accept_plain_timm_keys(
    module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any
) -> None:
    wrapped = prefix + "model."
    for key in [k for k in state_dict if k.startswith(prefix) and not k.startswith(wrapped)]:
        state_dict[wrapped + key[len(prefix) :]] = state_dict.pop(key)


def efficientnet_b2(
    num_classes: int | None = 25,
    pretrained: bool = False,
    *,
    in_chans: int = 3,
    labels: LabelsLike = None,
    **kwargs: Any,
) -> EfficientNetB2:
    """Build timm's EfficientNet-B2 with a ``num_classes``-way head (report 003 default: 25).

    ``pretrained=True`` loads timm's ImageNet weights (`TIMM_IMAGENET_WEIGHTS`) for
    fine-tuning; no dog-breed weights are published by alnumzoo yet. Without weights it builds
    offline. See [`EfficientNetB2`][alnumzoo.models.efficientnet.EfficientNetB2] for the other
    arguments.
    """
    return EfficientNetB2(num_classes, in_chans, pretrained=pretrained, labels=labels, **kwargs)


register_architecture(
    ModelEntry("efficientnet_b2", EfficientNetB2, "dog breeds", (3, 256, 256), 25, None,
               7_736_219, "report 003: EfficientNet-B2 fine-tuned on Stanford Dogs breeds",
               "timm EfficientNet-B2 with a 25-way head (any input size)",
               metrics={"report_top1": 93.1}),
    Variant("ra_in1k", 7_736_219, "a fine-tuning starting point, not a dog classifier: timm's "
            f"ImageNet backbone ({TIMM_IMAGENET_WEIGHTS}, inputs standardised inside the model "
            "as those weights expect) with a new, untrained 25-way head; no dog-breed weights "
            "are published yet", kwargs={"normalize": True},
            task="ImageNet backbone for dog breeds",
            weights=TimmPretrained(TIMM_IMAGENET_WEIGHTS)),
)  # fmt: skip
