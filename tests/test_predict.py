"""predict() and evaluate() on paths, PIL images and tensors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image

import alnumzoo
from alnumzoo.inference import load_image, predict_proba


@pytest.fixture(scope="module")
def model() -> alnumzoo.BottleneckCNN:
    torch.manual_seed(0)
    return alnumzoo.BottleneckCNN().eval()


def test_predict_tensor_batch_returns_characters(model: alnumzoo.BottleneckCNN) -> None:
    x = torch.rand(3, 1, 100, 100)
    preds = alnumzoo.predict(model, x, topk=3)
    with torch.no_grad():
        logits = model(x)
    assert [p.index for p in preds] == logits.argmax(1).tolist()
    for p, row in zip(preds, logits.softmax(1), strict=True):
        assert p.label == alnumzoo.ALNUM52.names[p.index]
        assert len(p.label) == 1
        assert p.probability == pytest.approx(float(row.max()), rel=1e-5)
        assert len(p.topk) == 3
        assert p.topk[0] == (p.label, p.probability)
        assert p.topk[0][1] >= p.topk[1][1] >= p.topk[2][1]
        assert p.notes == ()


def test_predict_files_and_pil_convert_and_resize(
    model: alnumzoo.BottleneckCNN, tmp_path: Path
) -> None:
    gray = Image.new("L", (100, 100), 255)
    gray.save(tmp_path / "a_exact.png")
    Image.new("RGB", (64, 48), (255, 255, 255)).save(tmp_path / "b_small_rgb.jpg")
    preds = alnumzoo.predict(model, [tmp_path, gray])
    assert [Path(p.source).name for p in preds[:2]] == ["a_exact.png", "b_small_rgb.jpg"]
    assert preds[0].notes == ()
    assert preds[1].notes == (
        "converted RGB to grayscale",
        "resized 64x48 to 100x75 and padded to 100x100",
    )
    assert preds[2].source == "PIL image"
    # The exact-size white file and the white PIL image are the same input.
    assert preds[0].index == preds[2].index
    assert preds[0].probability == pytest.approx(preds[2].probability)


def test_pil_and_uint8_tensor_inputs_agree(model: alnumzoo.BottleneckCNN) -> None:
    # A white page with random ink in the middle: the model's own polarity and size, so the
    # preprocessing must leave it exactly as it is.
    array = torch.full((100, 100), 255, dtype=torch.uint8)
    array[20:80, 20:80] = (torch.rand(60, 60) * 255).to(torch.uint8)
    pil = Image.fromarray(array.numpy(), mode="L")
    tensor, notes = load_image(pil, model)
    assert notes == ()
    assert torch.equal(tensor, array.float().div(255).unsqueeze(0))
    from_pil, from_uint8 = alnumzoo.predict(model, [pil, array.unsqueeze(0)])
    assert from_pil.index == from_uint8.index
    assert from_pil.probability == pytest.approx(from_uint8.probability)


def test_predict_errors_name_the_problem(model: alnumzoo.BottleneckCNN, tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a png")
    with pytest.raises(ValueError, match=r"cannot read .*broken\.png as an image"):
        alnumzoo.predict(model, bad)
    with pytest.raises(ValueError, match="100"):
        alnumzoo.predict(model, torch.rand(1, 28, 28))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no image files"):
        alnumzoo.predict(model, empty)


@pytest.mark.parametrize("mode", [None, "flip", "shift", "crops"])
def test_tta_views_average_to_probabilities(mode: str | None) -> None:
    torch.manual_seed(0)
    net = alnumzoo.CifarCNN().eval()
    x = torch.rand(4, 3, 32, 32)
    probs = predict_proba(net, x, mode)
    assert probs.shape == (4, 10)
    assert torch.allclose(probs.sum(1), torch.ones(4), atol=1e-5)
    if mode == "flip":
        assert torch.allclose(probs, predict_proba(net, x.flip(-1), "flip"), atol=1e-6)


def test_evaluate_counts_and_confusion(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = alnumzoo.CifarCNN().eval()
    images = torch.randint(0, 256, (50, 3, 32, 32), dtype=torch.uint8)
    targets = torch.arange(50) % 10
    result = alnumzoo.evaluate(net, (images, targets), batch_size=16)
    predicted = net(images.float() / 255).argmax(1)
    assert result.correct == int((predicted == targets).sum())
    assert result.num_samples == 50
    assert result.confusion.sum() == 50
    assert result.confusion.sum(1).tolist() == [5] * 10
    assert set(result.per_class_accuracy()) == set(alnumzoo.CIFAR10.names)
    assert sum(c for *_, c in result.most_confused(100)) == 50 - result.correct
    pytest.importorskip("matplotlib")
    result.plot_confusion(tmp_path / "confusion.png")
    assert (tmp_path / "confusion.png").stat().st_size > 5000


def test_tta_none_means_no_tta_everywhere(model: alnumzoo.BottleneckCNN) -> None:
    x = torch.rand(4, 1, 100, 100)
    torch.testing.assert_close(predict_proba(model, x, "none"), predict_proba(model, x, None))
    data = (x, torch.tensor([0, 1, 2, 3]))
    assert alnumzoo.evaluate(model, data, tta="none").tta is None
    assert alnumzoo.evaluate(model, data, tta="none").accuracy == alnumzoo.evaluate(
        model, data
    ).accuracy
    with pytest.raises(ValueError, match="unknown TTA mode 'mirror'"):
        alnumzoo.evaluate(model, data, tta="mirror")


def test_predict_folders_recursively_and_streams_in_batches(
    model: alnumzoo.BottleneckCNN, tmp_path: Path
) -> None:
    from alnumzoo.inference._predict import iter_predict

    for cls in ("A", "b"):
        (tmp_path / cls).mkdir()
        for k in range(3):
            Image.new("L", (60, 80), 255 - 40 * k).save(tmp_path / cls / f"{k}.png")
    (tmp_path / "A" / "zz.jpg").mkdir()  # a folder named like an image is not an image
    with pytest.raises(ValueError, match="--recursive descends"):
        alnumzoo.predict(model, tmp_path)
    found = alnumzoo.predict(model, tmp_path, recursive=True)
    assert [Path(p.source).relative_to(tmp_path).as_posix() for p in found] == [
        "A/0.png", "A/1.png", "A/2.png", "b/0.png", "b/1.png", "b/2.png"
    ]  # fmt: skip
    # Streaming: the first answer comes before later files are even read.
    stream = iter_predict(model, [tmp_path / "A", tmp_path / "missing.png"], batch_size=2,
                          recursive=True)  # fmt: skip
    first = [next(stream), next(stream)]
    assert [Path(p.source).name for p in first] == ["0.png", "1.png"]
    with pytest.raises(alnumzoo.data.DatasetFormatError, match=r"missing\.png"):
        list(stream)


def test_extreme_aspect_ratio_is_cropped_before_resizing() -> None:
    cifar = alnumzoo.create_model("cifar_cnn")
    strip = Image.new("RGB", (200_000, 1), (10, 200, 30))
    x, notes = load_image(strip, cifar)
    assert x.shape == (3, 32, 32)
    assert any("centre-cropped 200000x1 to 1x1" in n for n in notes)


def test_iter_predict_answers_after_the_first_small_batch() -> None:
    from alnumzoo.inference._predict import FIRST_BATCH, iter_predict

    model = alnumzoo.create_model("crnn").eval()
    images = [torch.rand(1, 28, 28) for _ in range(40)]
    read: list[int] = []

    def files() -> Iterator[torch.Tensor]:
        for i, image in enumerate(images):
            read.append(i)
            yield image

    stream = iter_predict(model, list(images), batch_size=32)
    lazy = iter_predict(model, files(), batch_size=32)  # type: ignore[arg-type]
    next(lazy)
    assert len(read) == FIRST_BATCH
    everything = [p.index for p in stream]
    assert everything == [p.index for p in alnumzoo.predict(model, images, batch_size=32)]
    assert len(everything) == 40
