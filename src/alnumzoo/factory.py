"""``alnumzoo.create_model``: build a registered model, or load its published weights."""

from __future__ import annotations

from typing import Any

from torch import nn

from alnumzoo.hub.load import from_pretrained
from alnumzoo.models import registry

__all__ = ["create_model"]


def create_model(name: str, *, pretrained: bool = False, **kwargs: Any) -> nn.Module:
    """Build the model registered as ``name``.

    Args:
        name: An architecture (``"lite_resnet"``) or variant (``"lite_resnet.alnum52"``).
        pretrained: Load the variant's published weights: the same as
            [`alnumzoo.from_pretrained(name, **kwargs)`][alnumzoo.hub.load.from_pretrained], whose
            options ``kwargs`` then are (timm's own ImageNet weights included).
        **kwargs: Constructor arguments overriding the entry's defaults (or, with
            ``pretrained=True``, options of ``from_pretrained``).

    Raises:
        KeyError: unknown name.
        ValueError: ``pretrained=True`` for an entry without published weights.
    """
    if not pretrained:
        return registry.build_model(name, **kwargs)
    if registry.get_model_entry(name).weights is None:
        raise ValueError(
            f"no pretrained weights are published for {name!r}; models with weights: "
            f"{registry.list_models(pretrained=True)}"
        )
    return from_pretrained(name, **kwargs)
