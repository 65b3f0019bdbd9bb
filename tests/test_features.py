"""timm's feature API on every architecture: forward_features/forward_head, num_features,
get_classifier/reset_classifier, num_classes=0, and torch.fx tracing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn
from torchvision.models.feature_extraction import create_feature_extractor

import alnumzoo

ARCHS = ["bottleneck_cnn", "lite_resnet", "char_resnet", "crnn", "cifar_cnn", "efficientnet_b2"]


def _input(model: alnumzoo.ZooModel, n: int = 2) -> torch.Tensor:
    h, w = model.input_size if model.input_size is not None else (64, 64)
    return torch.rand(n, model.in_chans, h, w)


@pytest.mark.parametrize("arch", ARCHS)
def test_features_head_and_classifier(arch: str) -> None:
    torch.manual_seed(0)
    model = alnumzoo.create_model(arch).eval()
    x = _input(model)
    features = model.forward_features(x)
    pooled = model.forward_head(features, pre_logits=True)
    assert pooled.shape == (2, model.num_features)
    torch.testing.assert_close(model.forward_head(features), model(x))
    head = model.get_classifier()
    assert isinstance(head, nn.Linear)
    assert head.in_features == model.num_features
    assert head.out_features == model.num_classes
    torch.testing.assert_close(head(pooled), model(x))

    model.reset_classifier(7)
    assert model(x).shape == (2, 7)
    assert model.num_classes == 7
    assert model.labels is None
    assert model.init_args["num_classes"] == 7
    model.reset_classifier(0)
    torch.testing.assert_close(model(x), pooled)
    with pytest.raises(ValueError, match="0 or more"):
        model.reset_classifier(-1)


@pytest.mark.parametrize("arch", ARCHS)
def test_num_classes_zero_returns_pooled_features(arch: str, tmp_path: Path) -> None:
    model = alnumzoo.create_model(arch, num_classes=0).eval()
    x = _input(model)
    out = model(x)
    assert out.shape == (2, model.num_features)
    torch.testing.assert_close(out, model.forward_head(model.forward_features(x), pre_logits=True))
    if arch != "efficientnet_b2":  # the others save and load without timm's cache
        reloaded = alnumzoo.from_pretrained(alnumzoo.save_pretrained(model, tmp_path / "m"))
        torch.testing.assert_close(reloaded(x), out)


@pytest.mark.parametrize("arch", [a for a in ARCHS if a not in ("crnn", "efficientnet_b2")])
def test_torchvision_feature_extractor_traces(arch: str) -> None:
    model = alnumzoo.create_model(arch).eval()
    x = _input(model)
    traced = torch.fx.symbolic_trace(model)
    torch.testing.assert_close(traced(x), model(x))
    last_conv = [n for n, m in model.named_modules() if isinstance(m, nn.Conv2d)][-1]
    extractor = create_feature_extractor(model, return_nodes={last_conv: "last_conv"})
    assert extractor(x)["last_conv"].dim() == 4


def test_crnn_traces_too() -> None:
    model = alnumzoo.create_model("crnn").eval()
    x = _input(model)
    extractor = create_feature_extractor(model, return_nodes={"layer2": "conv", "fc": "logits"})
    out = extractor(x)
    assert out["conv"].shape[:2] == (2, 64)
    torch.testing.assert_close(out["logits"], model(x))


@pytest.mark.parametrize("arch", ARCHS)
def test_forward_intermediates_and_feature_info(arch: str) -> None:
    """timm's forward_intermediates contract: the stage maps feature_info describes, the same
    final output as forward_features, and stage selection by count or index."""
    torch.manual_seed(0)
    model = alnumzoo.create_model(arch).eval()
    x = _input(model)
    with torch.no_grad():
        final, maps = model.forward_intermediates(x)
        assert torch.equal(final, model.forward_features(x))
        info = model.feature_info
        assert [m.shape[1] for m in maps] == [i["num_chs"] for i in info]
        assert [m.shape[0] for m in maps] == [2] * len(info)
        last_two = model.forward_intermediates(x, indices=2, intermediates_only=True)
        assert [torch.equal(a, b) for a, b in zip(last_two, maps[-2:], strict=True)] == [True] * 2
        first = model.forward_intermediates(x, indices=[0], intermediates_only=True)
        assert torch.equal(first[0], maps[0])
    with pytest.raises((ValueError, AssertionError, IndexError)):
        model.forward_intermediates(x, indices=[len(info) + 3], intermediates_only=True)


@pytest.mark.parametrize("arch", ["lite_resnet", "crnn", "char_resnet"])
def test_timm_features_only(arch: str) -> None:
    import timm

    torch.manual_seed(0)
    extractor = timm.create_model(arch, features_only=True, out_indices=(0, -1)).eval()
    reference = alnumzoo.create_model(arch).eval()
    reference.load_state_dict(extractor.model.state_dict())
    x = _input(reference)
    with torch.no_grad():
        got = extractor(x)
        expected = reference.forward_intermediates(x, indices=(0, -1), intermediates_only=True)
    assert len(got) == 2
    for a, b in zip(got, expected, strict=True):
        assert torch.equal(a, b)
    assert extractor.feature_info.channels() == [m.shape[1] for m in got]
