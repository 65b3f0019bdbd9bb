"""Architectures match SPEC §2: parameter counts, state-dict keys/shapes, shapes, input checks."""

from __future__ import annotations

import pytest
import timm
import torch

import alnumzoo
from alnumzoo import CRNN, BottleneckCNN, CifarCNN, LiteResNet, efficientnet_b2

Shapes = dict[str, tuple[int, ...]]


def conv(name: str, cin: int, cout: int, k: int, bias: bool = True) -> Shapes:
    out: Shapes = {f"{name}.weight": (cout, cin, k, k)}
    if bias:
        out[f"{name}.bias"] = (cout,)
    return out


def bn(name: str, c: int) -> Shapes:
    return {
        f"{name}.weight": (c,),
        f"{name}.bias": (c,),
        f"{name}.running_mean": (c,),
        f"{name}.running_var": (c,),
        f"{name}.num_batches_tracked": (),
    }


def linear(name: str, fin: int, fout: int) -> Shapes:
    return {f"{name}.weight": (fout, fin), f"{name}.bias": (fout,)}


def rnn(name: str, fin: int, hidden: int, layers: int) -> Shapes:
    out: Shapes = {}
    for i in range(layers):
        out[f"{name}.weight_ih_l{i}"] = (hidden, fin if i == 0 else hidden)
        out[f"{name}.weight_hh_l{i}"] = (hidden, hidden)
        out[f"{name}.bias_ih_l{i}"] = (hidden,)
        out[f"{name}.bias_hh_l{i}"] = (hidden,)
    return out


# Expected keys written out from SPEC §2 (the authors' module names and Sequential indices).
BOTTLENECK_KEYS: Shapes = {
    **conv("layer1.0", 1, 32, 5), **bn("layer1.1", 32),
    **conv("layer2.0", 32, 16, 1), **bn("layer2.1", 16),
    **conv("layer2.3", 16, 16, 5), **bn("layer2.4", 16),
    **conv("layer2.6", 16, 64, 1), **bn("layer2.7", 64),
    **conv("layer3.0", 64, 32, 1), **bn("layer3.1", 32),
    **conv("layer3.3", 32, 32, 5), **bn("layer3.4", 32),
    **conv("layer3.6", 32, 128, 1), **bn("layer3.7", 128),
    **linear("fc1", 3200, 100), **linear("fc2", 100, 52),
}  # fmt: skip
LITE_RESNET_KEYS: Shapes = {
    **conv("conv1", 1, 32, 7, bias=False), **bn("bn1", 32),
    **conv("conv2", 32, 32, 3, bias=False), **bn("bn2", 32),
    **conv("downsample1.0", 32, 32, 1, bias=False), **bn("downsample1.1", 32),
    **conv("conv3", 32, 64, 3, bias=False), **bn("bn3", 64),
    **conv("downsample2.0", 32, 64, 1, bias=False), **bn("downsample2.1", 64),
    **conv("conv4", 64, 128, 3, bias=False), **bn("bn4", 128),
    **conv("downsample3.0", 64, 128, 1, bias=False), **bn("downsample3.1", 128),
    **linear("fc", 128 * 3 * 3, 52),
}  # fmt: skip
CRNN_KEYS: Shapes = {
    **conv("layer1.0", 1, 32, 5), **bn("layer1.1", 32),
    **conv("layer2.0", 32, 64, 5), **bn("layer2.1", 64),
    **rnn("rnn", 56, 128, 5), **linear("fc", 128, 10),
}  # fmt: skip
CIFAR_KEYS: Shapes = {
    **conv("layer1.0", 3, 32, 5), **bn("layer1.1", 32),
    **conv("layer2.0", 32, 64, 5), **bn("layer2.1", 64),
    **conv("layer3.0", 64, 128, 5), **bn("layer3.1", 128),
    **linear("fc1", 2048, 100), **linear("fc2", 100, 50), **linear("fc3", 50, 10),
}  # fmt: skip

CASES = [
    (BottleneckCNN, 366_792, BOTTLENECK_KEYS, (1, 100, 100), 52),
    (LiteResNet, 175_124, LITE_RESNET_KEYS, (1, 90, 90), 52),
    (CRNN, 209_482, CRNN_KEYS, (1, 28, 28), 10),
    (CifarCNN, 469_532, CIFAR_KEYS, (3, 32, 32), 10),
]
IDS = [c[0].__name__ for c in CASES]


@pytest.mark.parametrize(("cls", "params", "keys", "chw", "n"), CASES, ids=IDS)
def test_parameter_count_matches_report(cls, params, keys, chw, n) -> None:  # type: ignore[no-untyped-def]
    assert alnumzoo.count_parameters(cls()) == params


@pytest.mark.parametrize(("cls", "params", "keys", "chw", "n"), CASES, ids=IDS)
def test_state_dict_keys_and_shapes(cls, params, keys, chw, n) -> None:  # type: ignore[no-untyped-def]
    sd = cls().state_dict()
    assert list(sd) == list(keys)
    assert {k: tuple(v.shape) for k, v in sd.items()} == keys


@pytest.mark.parametrize(("cls", "params", "keys", "chw", "n"), CASES, ids=IDS)
def test_course_checkpoint_loads_strictly(cls, params, keys, chw, n) -> None:  # type: ignore[no-untyped-def]
    # A course checkpoint is a plain state_dict; build one with the SPEC shapes and load it.
    checkpoint = {k: torch.randn(s) if s else torch.tensor(3) for k, s in keys.items()}
    model = cls()
    model.load_state_dict(checkpoint, strict=True)
    assert torch.equal(model.state_dict()[next(iter(keys))], checkpoint[next(iter(keys))])


@pytest.mark.parametrize(("cls", "params", "keys", "chw", "n"), CASES, ids=IDS)
@pytest.mark.parametrize("batch", [1, 7])
def test_forward_shape(cls, params, keys, chw, n, batch) -> None:  # type: ignore[no-untyped-def]
    model = cls().eval()
    with torch.no_grad():
        out = model(torch.rand(batch, *chw))
    assert out.shape == (batch, n)
    assert out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_bottleneck_logits_can_be_negative() -> None:
    # The authors' forward ReLU'd the logits; ours must not.
    model = BottleneckCNN().eval()
    with torch.no_grad():
        out = model(torch.rand(16, 1, 100, 100))
    assert (out < 0).any()


def test_report_variants() -> None:
    assert alnumzoo.count_parameters(BottleneckCNN(bottleneck=False)) == 582_824
    early = LiteResNet(widths=(64, 64, 128))
    assert early.fc.in_features == 4608
    assert LiteResNet(input_size=(100, 100)).fc.in_features == 128 * 4 * 4
    cols = CRNN(layout="columns", cell="gru", num_layers=2, hidden_size=64)
    assert cols.rnn.input_size == 64 * 7
    assert isinstance(cols.rnn, torch.nn.GRU)
    assert cols(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    bi = CRNN(layout="columns", cell="lstm", bidirectional=True, num_layers=1)
    assert bi.fc.in_features == 256
    assert bi(torch.rand(2, 1, 28, 28)).shape == (2, 10)
    assert CifarCNN(dropout=0.5).dropout1.p == 0.5


def test_crnn_report_layout_is_raw_reshape() -> None:
    model = CRNN()
    feats = torch.arange(2 * 64 * 7 * 7, dtype=torch.float32).reshape(2, 64, 7, 7)
    seq = model.to_sequence(feats)
    assert seq.shape == (2, 56, 56)
    assert torch.equal(seq[0, 0], torch.arange(56, dtype=torch.float32))
    cols = CRNN(layout="columns").to_sequence(feats)
    assert cols.shape == (2, 7, 448)
    assert torch.equal(cols[0, 1, :7], feats[0, 0, :, 1])


def test_efficientnet_b2_builds_offline_on_timm() -> None:
    model = efficientnet_b2(num_classes=25, pretrained=False)
    reference = timm.create_model("efficientnet_b2", num_classes=25)
    assert {k: v.shape for k, v in model.state_dict().items()} == {
        f"model.{k}": v.shape for k, v in reference.state_dict().items()
    }
    # A plain timm state dict (as the report saved) loads strictly.
    model.load_state_dict(reference.state_dict(), strict=True)
    model.eval()
    reference.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x), reference(x))
    assert efficientnet_b2(num_classes=4).model.get_classifier().out_features == 4


@pytest.mark.parametrize(
    ("model", "bad", "expected"),
    [
        (BottleneckCNN(), (1, 100, 100), r"\(N, 1, 100, 100\), got \(1, 100, 100\).*unsqueeze"),
        (BottleneckCNN(), (2, 3, 100, 100), r"\(N, 1, 100, 100\), got \(2, 3, 100, 100\)"),
        (BottleneckCNN(), (2, 1, 64, 64), r"\(N, 1, 100, 100\), got \(2, 1, 64, 64\)"),
        (LiteResNet(), (2, 1, 100, 100), r"\(N, 1, 90, 90\), got \(2, 1, 100, 100\)"),
        (CRNN(), (2, 1, 32, 32), r"\(N, 1, 28, 28\), got \(2, 1, 32, 32\)"),
        (CifarCNN(), (2, 1, 32, 32), r"\(N, 3, 32, 32\), got \(2, 1, 32, 32\)"),
        (CifarCNN(), (32, 32), r"got \(32, 32\)"),
        (efficientnet_b2(num_classes=3), (2, 1, 64, 64), r"\(N, 3, H, W\), got \(2, 1, 64, 64\)"),
    ],
)
def test_input_validation(model: torch.nn.Module, bad: tuple[int, ...], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        model(torch.rand(bad))


def test_integer_input_is_rejected() -> None:
    with pytest.raises(ValueError, match="floating-point"):
        CifarCNN()(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_bad_constructor_arguments() -> None:
    with pytest.raises(ValueError, match="num_classes=3"):
        BottleneckCNN(num_classes=3, labels=["a", "b"])
    with pytest.raises(ValueError, match="cell must be"):
        CRNN(cell="transformer")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not divide"):
        CRNN(seq_features=50)
    with pytest.raises(ValueError, match="input_size"):
        BottleneckCNN(input_size=(10, 10))
    with pytest.raises(ValueError, match=r"input_size must be \(H, W\), got \(90,\)"):
        LiteResNet(input_size=(90,))  # type: ignore[arg-type]
    # The head is sized from the size the base class stored, whatever sequence came in.
    from_json = BottleneckCNN(input_size=[100.0, 100.0])  # type: ignore[arg-type]
    assert from_json.input_size == (100, 100)
    assert from_json.fc1.in_features == 128 * 5 * 5


def test_models_carry_labels() -> None:
    assert BottleneckCNN().labels is alnumzoo.ALNUM52
    assert CRNN().labels is alnumzoo.FASHION_MNIST
    assert CifarCNN().labels is alnumzoo.CIFAR10
    assert BottleneckCNN(num_classes=10).labels is None
    # num_classes=None: the class count of the architecture's own data set, with its names
    assert CRNN(num_classes=None).num_classes == 10
    assert LiteResNet(num_classes=None).labels is alnumzoo.ALNUM52
    assert LiteResNet.default_labels is alnumzoo.ALNUM52
    digits = LiteResNet(labels=list("0123456789"))
    assert digits.num_classes == 10
    assert digits.labels is not None
    assert digits.labels.decode([3]) == ["3"]


def test_parameter_budget() -> None:
    assert alnumzoo.check_parameter_budget(BottleneckCNN()) == 366_792
    with pytest.raises(alnumzoo.ParameterBudgetError, match="over the cap of 1,200,000"):
        alnumzoo.check_parameter_budget(BottleneckCNN(hidden=400))
    frozen = CifarCNN()
    frozen.fc1.requires_grad_(False)
    assert alnumzoo.count_parameters(frozen, trainable_only=True) == 469_532 - 204_900


def test_imagenet_starting_point_standardises_its_input() -> None:
    from alnumzoo.models.efficientnet import IMAGENET_MEAN, IMAGENET_STD

    entry = alnumzoo.get_model_entry("efficientnet_b2.ra_in1k")
    assert entry.kwargs == {"normalize": True}
    assert "not a dog classifier" in entry.description
    torch.manual_seed(0)
    plain = alnumzoo.create_model("efficientnet_b2").eval()
    standardising = alnumzoo.create_model("efficientnet_b2", normalize=True).eval()
    standardising.load_state_dict(plain.state_dict())  # same keys: the statistics are not saved
    x = torch.rand(1, 3, 64, 64)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        assert torch.allclose(standardising(x), plain((x - mean) / std), atol=1e-5)


def test_char_resnet_features_head_and_any_input_size() -> None:
    model = alnumzoo.CharResNet().eval()
    assert alnumzoo.count_parameters(model) == 895_508 <= alnumzoo.COURSE_PARAM_CAP
    x = torch.rand(3, 1, 48, 48)
    features = model.forward_features(x)
    assert features.shape == (3, 192, 3, 3)
    pooled = model.forward_head(features, pre_logits=True)
    assert pooled.shape == (3, model.num_features)
    torch.testing.assert_close(model.forward_head(features), model(x))
    # Average pooling: the same weights read other sizes once input_size says so.
    wide = alnumzoo.CharResNet(input_size=(64, 64))
    wide.load_state_dict(model.state_dict())
    assert wide.eval()(torch.rand(2, 1, 64, 64)).shape == (2, 52)
    with pytest.raises(ValueError, match=r"\(N, 1, 48, 48\)"):
        model(torch.rand(1, 1, 64, 64))
    with pytest.raises(ValueError, match="at least one stage"):
        alnumzoo.CharResNet(depth=0)
    # Every block starts as the identity (its last BatchNorm is zero).
    fresh = alnumzoo.CharResNet()
    assert all(float(b.bn2.weight.detach().abs().sum()) == 0 for b in fresh.blocks)  # type: ignore[union-attr]
