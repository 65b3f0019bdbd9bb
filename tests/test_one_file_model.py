"""Adding an architecture is a one-file change: a toy model defined and registered in this
test module alone appears in list_models, create_model, save_pretrained/from_pretrained and
timm, with nothing else edited."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import alnumzoo
from alnumzoo.labels import LabelsLike
from alnumzoo.models import registry
from alnumzoo.models.base import ZooModel
from alnumzoo.models.layers import classifier_layer, conv_stage
from alnumzoo.models.registry import ModelEntry
from alnumzoo.models.zoo import Variant, register_architecture


class ToyNet(ZooModel):
    """One conv stage and a linear head on 16x16 greyscale."""

    arch = "toy_net"
    head_name = "fc"

    def __init__(
        self, num_classes: int | None = 3, in_chans: int = 1, *, width: int = 4,
        labels: LabelsLike = None,
    ) -> None:  # fmt: skip
        super().__init__(num_classes, in_chans, (16, 16), labels)
        self.layer1 = conv_stage(in_chans, width)
        self.num_features = width * 8 * 8
        self.fc = classifier_layer(self.num_features, self.num_classes)

    def stages(self) -> list[Callable[[torch.Tensor], torch.Tensor]]:
        return [self.layer1]

    def forward_pre_logits(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(x, 1)


TOY_PARAMS = 4 * 25 + 4 + 2 * 4 + 3 * 256 + 3  # conv, its BatchNorm, the head
WIDE_PARAMS = 8 * 25 + 8 + 2 * 8 + 3 * 512 + 3


@pytest.fixture
def toy_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    # Registered for this test only, so the rest of the suite sees the zoo as shipped.
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    register_architecture(
        ModelEntry("toy_net", ToyNet, "toys", (1, 16, 16), 3, None, TOY_PARAMS,
                   "alnumzoo's own, a test", "one conv stage"),
        Variant("wide", WIDE_PARAMS, "a wider toy", kwargs={"width": 8}),
    )  # fmt: skip
    return


@pytest.mark.usefixtures("toy_registered")
def test_a_toy_architecture_is_everywhere_after_one_registration(tmp_path: Path) -> None:
    timm = pytest.importorskip("timm")
    assert {"toy_net", "toy_net.wide"} <= set(alnumzoo.list_models("toy*"))
    model = alnumzoo.create_model("toy_net")
    assert isinstance(model, ToyNet)
    assert alnumzoo.count_parameters(model) == TOY_PARAMS
    wide = alnumzoo.create_model("toy_net.wide")
    assert isinstance(wide, ToyNet)
    assert wide.init_args["width"] == 8
    assert alnumzoo.count_parameters(wide) == alnumzoo.get_model_entry("toy_net.wide").num_params
    with torch.no_grad():
        for p in wide.parameters():
            p.add_(0.01)
    folder = alnumzoo.save_pretrained(wide, tmp_path / "toy")
    loaded = alnumzoo.from_pretrained(folder)
    assert isinstance(loaded, ToyNet)
    x = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        assert torch.equal(loaded.eval()(x), wide.eval()(x))
    from alnumzoo.hub.timm_bridge import timm_architectures

    assert "toy_net" in timm_architectures()  # registered after alnumzoo, reached timm too
    from_timm = timm.create_model("toy_net", num_classes=5)
    assert isinstance(from_timm, ToyNet)
    assert from_timm.num_classes == 5
    features = timm.create_model("toy_net", features_only=True)
    assert [f.shape[1] for f in features(x)] == [4]
