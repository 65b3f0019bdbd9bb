"""alnumzoo's architectures in timm's registry, registered when timm is first imported.

After ``import alnumzoo``:

- ``timm.create_model("lite_resnet")`` (and every architecture in alnumzoo's registry that
  timm does not have itself, those registered later included) builds the model;
  ``timm.create_model("lite_resnet.alnum52_48")`` builds that registry variant and, with
  ``pretrained=True``, loads its published weights through
  [`alnumzoo.from_pretrained`][alnumzoo.hub.load.from_pretrained] (sha256-verified);
- ``timm.create_model("local-dir:<folder>", pretrained=True)`` loads a folder written by
  ``save_pretrained`` (timm reads ``architecture``, ``model_args`` and ``pretrained_cfg`` from
  its ``config.json``; the weights are loaded by alnumzoo, with its checks);
- ``timm.create_model("lite_resnet", features_only=True, out_indices=(1, 2))`` returns timm's
  ``FeatureGetterNet`` over the model's ``forward_intermediates``: a list of stage maps, with
  ``feature_info.channels()`` and ``.reduction()``.

``import alnumzoo`` never imports timm (it costs seconds): if timm is already imported the
architectures are registered at once, otherwise an import hook registers them right after
timm's own import finishes.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from torch import nn

from alnumzoo.hub.load import from_pretrained
from alnumzoo.models.registry import ModelEntry, build_model, on_register

__all__ = ["install", "register_with_timm", "timm_architectures"]
# Arguments timm's factory passes that alnumzoo's constructors do not take.
_TIMM_ONLY = ("pretrained_cfg_overlay", "cache_dir", "pretrained_model_args", "drop_rate",
              "drop_path_rate", "global_pool")  # fmt: skip
_registered = False
#: Architectures offered to timm so far.
_offered: list[str] = []


def _entrypoint(arch: str) -> Callable[..., nn.Module]:
    def create(pretrained: bool = False, pretrained_cfg: Any = None, **kwargs: Any) -> nn.Module:
        features_only = bool(kwargs.pop("features_only", False))
        out_indices = kwargs.pop("out_indices", None)
        model = build(pretrained, pretrained_cfg, **kwargs)
        if not features_only:
            return model
        from timm.models._features import FeatureGetterNet

        # timm's wrapper for models with forward_intermediates; every stage by default.
        stages = len(getattr(model, "feature_info", []))
        indices = tuple(range(stages)) if out_indices is None else out_indices
        return FeatureGetterNet(model, out_indices=indices, prune=False)

    def build(pretrained: bool, pretrained_cfg: Any, **kwargs: Any) -> nn.Module:
        for key in _TIMM_ONLY:
            kwargs.pop(key, None)
        tag = pretrained_cfg if isinstance(pretrained_cfg, str) else None
        cfg = _as_dict(pretrained_cfg)
        if tag is None and cfg.get("tag"):
            tag = str(cfg["tag"])
        name = f"{arch}.{tag}" if tag else arch
        if pretrained:
            if cfg.get("source") == "local-dir" and cfg.get("file"):
                # The saved folder's own config rebuilds the model; timm's copy of model_args
                # must agree with it, so only new-head/channel overrides are passed on.
                overrides = {k: kwargs[k] for k in ("num_classes", "in_chans") if k in kwargs}
                return from_pretrained(Path(str(cfg["file"])), **overrides)
            return from_pretrained(name, **kwargs)
        return build_model(name, **kwargs)

    create.__name__ = arch
    create.__qualname__ = arch
    create.__module__ = __name__
    create.__doc__ = f"alnumzoo's ``{arch}`` (see ``alnumzoo.create_model``)."
    return create


def _as_dict(cfg: Any) -> dict[str, Any]:
    if cfg is None or isinstance(cfg, str):
        return {}
    if isinstance(cfg, dict):
        return cfg
    to_dict = getattr(cfg, "to_dict", None)
    return dict(to_dict()) if callable(to_dict) else dict(vars(cfg))


def register_with_timm() -> None:
    """Register alnumzoo's architectures in timm's model registry, and every architecture
    registered from now on (idempotent). Architectures timm has itself (``efficientnet_b2``)
    are left to timm."""
    global _registered
    if _registered:
        return
    _registered = True
    on_register(_offer)


def _offer(entry: ModelEntry) -> None:
    from timm.models import is_model, register_model

    arch = entry.name
    if entry.tag is not None or arch in _offered or is_model(arch):
        return
    fn = _entrypoint(arch)
    setattr(sys.modules[__name__], arch, fn)
    register_model(fn)
    _offered.append(arch)


def timm_architectures() -> tuple[str, ...]:
    """The architectures alnumzoo has registered in timm so far."""
    return tuple(_offered)


class _TimmImportHook(importlib.abc.MetaPathFinder):
    """Registers the architectures as soon as ``import timm`` has finished."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "timm":
            return None
        sys.meta_path.remove(self)  # one shot; also keeps find_spec below from recursing
        spec = importlib.util.find_spec("timm")
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        exec_module = loader.exec_module

        def exec_then_register(module: ModuleType) -> None:
            exec_module(module)
            register_with_timm()

        loader.exec_module = exec_then_register  # type: ignore[method-assign]
        return spec


def install() -> None:
    """Register now if timm is imported, else when it is (called by ``import alnumzoo``)."""
    if "timm" in sys.modules:
        register_with_timm()
    elif not any(isinstance(f, _TimmImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _TimmImportHook())
