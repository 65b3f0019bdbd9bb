"""A model's preprocessing contract, in timm's ``pretrained_cfg`` vocabulary where it has one.

``input_size``, ``mean``, ``std``, ``interpolation``, ``crop_pct``, ``crop_mode``,
``num_classes`` and ``label_names`` mean what they mean in timm (so
``timm.data.resolve_data_config(model=m)`` returns the model's real input); alnumzoo adds how
an arbitrary image is brought to that input: ``fit`` (pad or crop to the aspect),
``content_crop``, ``background`` (``"dark"``, ``"light"`` or ``None``), ``invert`` (``"auto"``:
flip an image whose background is the opposite of the model's) and ``fill`` (the background
value, in [0, 1]).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alnumzoo.data.profiles import profile_of

if TYPE_CHECKING:
    from alnumzoo.models.base import ZooModel

__all__ = ["build_pretrained_cfg"]


def build_pretrained_cfg(model: ZooModel) -> dict[str, Any]:
    """The preprocessing contract of ``model`` (see the module docstring); JSON-ready."""
    profile = profile_of(model)
    c = model.in_chans
    h, w = model.input_size if model.input_size is not None else (224, 224)
    fill = {"dark": 0.0, "light": 1.0}.get(profile.background or "", 0.5)
    return {
        "input_size": [c, int(h), int(w)],
        "fixed_input_size": model.input_size is not None,
        "mean": [0.0] * c,
        "std": [1.0] * c,
        "interpolation": "bilinear",
        "crop_pct": 1.0,
        "crop_mode": "center",
        "num_classes": model.num_classes,
        "label_names": list(model.labels.names) if model.labels is not None else None,
        "fit": profile.fit,
        "content_crop": profile.content_crop,
        "background": profile.background,
        "invert": "auto" if profile.background is not None else "never",
        "fill": fill,
    }
