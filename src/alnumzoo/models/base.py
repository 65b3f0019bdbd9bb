"""The base class every alnumzoo model shares: labels, input contract and constructor config."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import torch
from torch import nn
from torch.fx import _symbolic_trace

from alnumzoo._jsonable import tuples_as_lists
from alnumzoo.labels import LabelMap, LabelsLike, resolve_labels
from alnumzoo.models.layers import classifier_layer
from alnumzoo.models.pretrained_cfg import PretrainedCfg
from alnumzoo.models.provenance import LoadReport

__all__ = [
    "TEMPERATURE_RANGE",
    "UNDO_SMOOTHING_RANGE",
    "ZooModel",
    "connect_hub",
]

#: Softmax temperatures a model may carry; far outside this the logits are not miscalibrated
#: but broken (or a model at chance, whose best temperature is unbounded).
TEMPERATURE_RANGE = (0.05, 20.0)
#: Label smoothing a calibration may take out of the probabilities; at 0.5 and above the
#: smoothed target no longer favours the true class enough to be undone reliably.
UNDO_SMOOTHING_RANGE = (0.0, 0.45)
ModelT = TypeVar("ModelT", bound="ZooModel")

# The hub functions ZooModel's from_pretrained/save_pretrained/push_to_hub delegate to. The hub
# package sits above models and connects them when it is imported (``import alnumzoo`` always
# does), so models never import hub.
_hub_functions: dict[str, Callable[..., Any]] = {}


def connect_hub(**functions: Callable[..., Any]) -> None:
    """Give [`ZooModel`][alnumzoo.models.base.ZooModel] the functions behind its Hub methods
    (``from_pretrained``, ``save_pretrained``, ``push_to_hub``); called by ``alnumzoo.hub``."""
    _hub_functions.update(functions)


def _hub(name: str) -> Callable[..., Any]:
    try:
        return _hub_functions[name]
    except KeyError:
        raise RuntimeError(f"{name} needs alnumzoo.hub; import alnumzoo first") from None


def _symbolic_tracing() -> bool:
    # Newer torch names the fx-only check; older torch has only the broader one.
    check = getattr(_symbolic_trace, "is_fx_symbolic_tracing", _symbolic_trace.is_fx_tracing)
    return bool(check())


def _pair(size: Sequence[int]) -> tuple[int, int]:
    if len(size) != 2:
        raise ValueError(f"input_size must be (H, W), got {tuple(size)}")
    return int(size[0]), int(size[1])


def _stage_indices(count: int, indices: int | Sequence[int] | None) -> set[int]:
    if indices is None:
        return set(range(count))
    if isinstance(indices, int):
        if not 0 < indices <= count:
            raise ValueError(f"the last {indices} stages were asked for; there are {count}")
        return set(range(count - indices, count))
    take = {i + count if i < 0 else i for i in indices}
    if not take or not all(0 <= i < count for i in take):
        raise ValueError(f"stage indices {list(indices)} are not all in [0, {count})")
    return take


def _recorded_arguments(
    cls: type[ZooModel], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """The constructor arguments of a ``cls(*args, **kwargs)`` call, JSON-ready, with defaults
    filled in (``bind_partial``: ``copy`` and ``pickle`` call ``__new__`` without any)."""
    signature = inspect.signature(cls.__init__)
    bound = signature.bind_partial(None, *args, **kwargs)
    bound.apply_defaults()
    recorded: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD and isinstance(value, Mapping):
            recorded.update({k: tuples_as_lists(v) for k, v in value.items()})
        elif name not in cls.unrecorded_args and kind is not inspect.Parameter.VAR_POSITIONAL:
            recorded[name] = tuples_as_lists(value)
    return recorded


class ZooModel(nn.Module):
    """Base class of alnumzoo's models.

    A subclass's constructor arguments are recorded in `init_args` from its signature (JSON-ready:
    tuples become lists; ``labels`` travel separately and ``pretrained`` is never recorded), so
    ``save_pretrained`` can rebuild the model. Subclasses declare the input they accept, and
    ``forward`` calls [`check_input`][alnumzoo.models.base.ZooModel.check_input] first, so a
    wrong tensor fails with a message naming the expected and the given shape.

    Every architecture's constructor takes these arguments besides its own (its page gives
    their defaults, which are those of the data set it was designed for):

    - ``num_classes``: Output classes. ``None`` takes the length of ``labels``, else that of
      the class's `default_labels` (the data set it was designed for); ``0`` builds no
      classifier, and the model returns its pooled features.
    - ``in_chans``: Input channels.
    - ``input_size``: ``(H, W)`` of the input; a head that flattens a map is sized from it.
    - ``labels``: Class names (a [`LabelMap`][alnumzoo.labels.LabelMap] or a sequence of
      names); by default `default_labels`, when ``num_classes`` matches their count.

    The base constructor reconciles the two
    ([`resolve_labels`][alnumzoo.labels.resolve_labels]), so a subclass passes them on as it
    was given them.

    Attributes:
        arch: Registry name of the architecture (``"bottleneck_cnn"``, ...).
        num_classes: Number of output logits.
        in_chans: Number of input channels.
        input_size: ``(H, W)`` the head is built for, or ``None`` when any size works.
        labels: Class names of the outputs, or ``None`` when unknown.
        temperature: Softmax temperature that makes the predicted probabilities calibrated,
            fitted on held-back data when weights are published
            ([`fit_temperature`][alnumzoo.inference.calibration.fit_temperature]); 1.0 means
            uncalibrated logits. It never changes which class wins.
        undo_smoothing: Label smoothing the weights trained with, taken out of the
            probabilities before the temperature (0.0: none); see
            [`calibrated_probabilities`][alnumzoo.inference.calibration.calibrated_probabilities].
    """

    arch: ClassVar[str] = "zoo_model"
    #: Module holding the classifier rows (re-initialised when the class count changes).
    head_name: ClassVar[str] = "fc"
    #: First convolution (adapted when the input channel count changes).
    stem_name: ClassVar[str] = "layer1.0"
    #: Constructor arguments left out of `init_args`: ``labels`` are saved on their own, and
    #: ``pretrained`` would make a rebuilt model fetch files.
    unrecorded_args: ClassVar[frozenset[str]] = frozenset({"self", "labels", "pretrained"})

    #: Labels of the data set the architecture was designed for: they give the class count
    #: when neither ``num_classes`` nor ``labels`` does, and the names when the count matches.
    default_labels: ClassVar[LabelMap | None] = None

    #: Width of the pooled features the classifier reads (``forward_head(x, pre_logits=True)``).
    num_features: int = 0

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # The constructor's arguments are read here, from its signature, as huggingface_hub's
        # ModelHubMixin does: no subclass's __init__ is wrapped or replaced.
        instance = super().__new__(cls)
        object.__setattr__(instance, "_init_call", _recorded_arguments(cls, args, kwargs))
        return instance

    @property
    def init_args(self) -> dict[str, Any]:
        """Constructor keyword arguments that rebuild this model: those it was built with
        (defaults filled in) and its current class count (resolved from labels, or changed
        by `reset_classifier`)."""
        call: dict[str, Any] = self.__dict__.get("_init_call", {})
        return {**call, "num_classes": self.num_classes}

    def __init__(
        self,
        num_classes: int | None,
        in_chans: int,
        input_size: Sequence[int] | None,
        labels: LabelsLike,
    ) -> None:
        super().__init__()
        if in_chans < 1:
            raise ValueError(f"in_chans must be positive, got {in_chans}")
        self.num_classes, self.labels = resolve_labels(labels, num_classes, self.default_labels)
        self.in_chans = in_chans
        self.input_size: tuple[int, int] | None = (
            _pair(input_size) if input_size is not None else None
        )
        #: Set by ``alnumzoo.from_pretrained``: where the weights came from.
        self.load_report: LoadReport | None = None
        self.temperature = 1.0
        self.undo_smoothing = 0.0
        self._record: PretrainedCfg | None = None
        self._feature_info: list[dict[str, Any]] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, num_classes)`` for images ``(N, in_chans, H, W)`` in [0, 1] (the pooled
        features ``(N, num_features)`` for a model built with ``num_classes=0``)."""
        if not _symbolic_tracing():  # a symbolic trace has no concrete shapes to check
            self.check_input(x)
        return self.forward_head(self.forward_features(x))

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        """The backbone's spatial stages in order, each taking the previous one's output map
        ``(N, C, H, W)``; `feature_info` describes their outputs."""
        raise NotImplementedError(f"{type(self).__name__} defines no stages")

    def after_stages(self, x: torch.Tensor) -> torch.Tensor:
        """What the backbone does after its last spatial stage (nothing, except in models
        that read the map as a sequence)."""
        return x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone's output, before pooling and the classifier (timm's meaning): the
        `stages`, then `after_stages`."""
        for stage in self.stages():
            x = stage(x)
        return self.after_stages(x)

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: int | Sequence[int] | None = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = "NCHW",
        intermediates_only: bool = False,
    ) -> list[torch.Tensor] | tuple[torch.Tensor, list[torch.Tensor]]:
        """The stages' output maps, timm's ``forward_intermediates`` contract.

        Args:
            x: Images ``(N, in_chans, H, W)`` in [0, 1].
            indices: Which stages: ``None`` for all, an int ``n`` for the last ``n``, or a
                sequence of stage indices (negative counts from the end).
            norm: Accepted for timm; these backbones have no final norm.
            stop_early: Accepted for timm: with ``intermediates_only`` the stages after the
                last requested one are always skipped; the full output needs them all.
            output_fmt: ``"NCHW"`` only.
            intermediates_only: Return only the maps, not ``forward_features``' output too.

        Returns:
            The maps, or ``(forward_features output, maps)``.

        Raises:
            ValueError: a stage index is out of range or the format is not ``NCHW``.
        """
        if output_fmt != "NCHW":
            raise ValueError(f"output_fmt must be 'NCHW', got {output_fmt!r}")
        stages = self.stages()
        take = _stage_indices(len(stages), indices)
        maps: list[torch.Tensor] = []
        for i, stage in enumerate(stages):
            x = stage(x)
            if i in take:
                maps.append(x)
            if intermediates_only and i == max(take):
                break
        if intermediates_only:
            return maps
        for stage in stages[i + 1 :]:
            x = stage(x)
        return self.after_stages(x), maps

    @property
    def feature_info(self) -> list[dict[str, Any]]:
        """One entry per stage, as timm's ``feature_info``: ``num_chs``, ``reduction`` (input
        size over the map's) and ``module`` (``"stages.i"``), measured once on a blank image
        of the model's input size."""
        if self._feature_info is None:
            h, w = self.input_size or (64, 64)
            reference = next(self.parameters())
            blank = torch.zeros(1, self.in_chans, h, w, device=reference.device)
            was = self.training
            self.eval()
            with torch.no_grad():
                maps = self.forward_intermediates(blank, intermediates_only=True)
            self.train(was)
            assert isinstance(maps, list)
            self._feature_info = [
                {"num_chs": int(m.shape[1]), "reduction": round(h / m.shape[2]),
                 "module": f"stages.{i}"}
                for i, m in enumerate(maps)
            ]  # fmt: skip
        return self._feature_info

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """Pooling and classifier on ``forward_features``' output; with ``pre_logits`` the
        ``(N, num_features)`` features the classifier reads."""
        features = self.forward_pre_logits(x)
        if pre_logits:
            return features
        logits: torch.Tensor = self.get_classifier()(features)
        return logits

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        """``forward_features``' output brought to the ``(N, num_features)`` vector the
        classifier (`head_name`) reads: pooled or flattened, through the head's hidden layers
        and dropout."""
        raise NotImplementedError(f"{type(self).__name__} defines no forward_pre_logits")

    def get_classifier(self) -> nn.Module:
        """The final classifier layer (`head_name`)."""
        return self.get_submodule(self.head_name)

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier with a new, untrained ``num_classes``-way one; ``0`` removes
        it, so the model returns its pooled features. Labels that no longer fit are dropped."""
        if num_classes < 0:
            raise ValueError(f"num_classes must be 0 or more, got {num_classes}")
        self._replace_classifier(num_classes)
        self.num_classes = num_classes
        if self.labels is not None and len(self.labels) != num_classes:
            self.labels = None

    def _replace_classifier(self, num_classes: int) -> None:
        """Put a fresh ``num_classes``-way layer (``Identity`` for 0) at `head_name`, on the
        old one's device and dtype; models whose head belongs to another library override it."""
        old = self.get_classifier()
        head = classifier_layer(self.num_features, num_classes)
        reference = next(old.parameters(), None)
        if reference is None:
            reference = next(self.parameters())
        head.to(reference.device, reference.dtype)
        parent_name, _, leaf = self.head_name.rpartition(".")
        setattr(self.get_submodule(parent_name) if parent_name else self, leaf, head)

    @classmethod
    def from_pretrained(cls: type[ModelT], name_or_path: str | Path, **kwargs: Any) -> ModelT:
        """Load pretrained weights into this class; see
        [`alnumzoo.from_pretrained`][alnumzoo.hub.load.from_pretrained].

        Raises:
            TypeError: the weights are for another architecture.
        """
        model = _hub("from_pretrained")(name_or_path, **kwargs)
        if not isinstance(model, cls):
            raise TypeError(f"{name_or_path} holds a {type(model).__name__}, not a {cls.__name__}")
        return model

    def save_pretrained(self, save_directory: str | Path, **kwargs: Any) -> Path:
        """Save this model; a thin delegation to
        [`alnumzoo.save_pretrained`][alnumzoo.hub.save.save_pretrained]."""
        path: Path = _hub("save_pretrained")(self, save_directory, **kwargs)
        return path

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Upload this model to the Hub as ``repo_id``; a thin delegation to
        [`alnumzoo.push_to_hub`][alnumzoo.hub.push.push_to_hub] (which saves it first, with a model
        card naming the repository)."""
        return _hub("push_to_hub")(self, repo_id, **kwargs)

    @property
    def record(self) -> PretrainedCfg:
        """The typed record of these weights
        ([`PretrainedCfg`][alnumzoo.models.pretrained_cfg.PretrainedCfg]): input contract,
        labels, the recipe that trained them, metrics and provenance, with the model's current
        shape. Read back from ``config.json`` by ``from_pretrained``, completed by ``fit``;
        a fresh model's is seeded from the data profile of its labels."""
        stored = self.__dict__.get("_record")
        return stored.for_model(self) if stored is not None else PretrainedCfg.seed(self)

    @record.setter
    def record(self, value: PretrainedCfg) -> None:
        self._record = value

    @property
    def data_profile(self) -> str | None:
        """The data profile (``alnumzoo.data.PROFILES``) the weights were trained for, from
        their record; ``None`` for a fresh model, whose labels decide."""
        stored = self.__dict__.get("_record")
        return stored.data_profile if stored is not None else None

    @property
    def pretrained_cfg(self) -> dict[str, Any]:
        """`record` as a dict in timm's vocabulary where it has one: ``timm.data.
        resolve_data_config(model=m)`` reads it,
        [`alnumzoo.create_transform`][alnumzoo.data.transforms.create_transform] applies it, and
        ``save_pretrained`` writes it into ``config.json``."""
        return self.record.to_dict()

    @property
    def expected_shape(self) -> str:
        """Human-readable input shape, e.g. ``"(N, 1, 100, 100)"``."""
        if self.input_size is None:
            return f"(N, {self.in_chans}, H, W)"
        return f"(N, {self.in_chans}, {self.input_size[0]}, {self.input_size[1]})"

    def check_input(self, x: torch.Tensor) -> None:
        """Raise ``ValueError`` unless ``x`` is a batch this model can classify."""
        shape = tuple(x.shape)
        ok = x.dim() == 4 and shape[1] == self.in_chans
        if ok and self.input_size is not None:
            ok = shape[2:] == tuple(self.input_size)
        if not ok:
            hint = " (add a batch dimension with x.unsqueeze(0))" if x.dim() == 3 else ""
            raise ValueError(
                f"{type(self).__name__} expects input of shape {self.expected_shape}, "
                f"got {shape}{hint}"
            )
        if not x.is_floating_point():
            raise ValueError(
                f"{type(self).__name__} expects a floating-point tensor with values in [0, 1], "
                f"got dtype {x.dtype} (convert uint8 images with x.float() / 255)"
            )
