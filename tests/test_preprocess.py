"""The preprocessing contract: pretrained_cfg, create_transform and predict on real-world images."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import alnumzoo
from alnumzoo.data import create_transform

FASHION_CFG = {
    "input_size": [1, 28, 28], "mean": [0.0], "std": [1.0], "fit": "pad", "content_crop": True,
    "background": "dark", "invert": "auto", "fill": 0.0,
}  # fmt: skip


def _item(size: int = 28) -> np.ndarray:
    """A Fashion-MNIST-like item: a light rectangle on black, filling the frame's width."""
    a = np.zeros((size, size), np.uint8)
    a[4:24, 0:28] = 200
    a[10:18, 6:22] = 255
    return a


def test_every_model_declares_its_input() -> None:
    import timm.data

    for name in ("bottleneck_cnn", "lite_resnet.alnum52_48", "crnn", "cifar_cnn"):
        model = alnumzoo.create_model(name)
        cfg = model.pretrained_cfg
        assert cfg["input_size"] == [model.in_chans, *model.input_size]
        assert cfg["num_classes"] == model.num_classes
        resolved = timm.data.resolve_data_config(model=model)
        assert list(resolved["input_size"]) == cfg["input_size"]
        assert list(resolved["mean"]) == [0.0] * model.in_chans
        assert list(resolved["std"]) == [1.0] * model.in_chans
    assert alnumzoo.create_model("crnn").pretrained_cfg["background"] == "dark"
    assert alnumzoo.create_model("bottleneck_cnn").pretrained_cfg["background"] == "light"
    assert alnumzoo.create_model("cifar_cnn").pretrained_cfg["invert"] == "never"


def test_config_json_carries_the_contract(tmp_path: Path) -> None:
    import json

    model = alnumzoo.create_model("crnn")
    folder = alnumzoo.save_pretrained(model, tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    record = model.pretrained_cfg
    assert {k: record[k] for k in config["pretrained_cfg"]} == config["pretrained_cfg"]
    assert set(record) - set(config["pretrained_cfg"]) == {"num_classes", "label_names"}
    assert config["num_classes"] == 10
    assert config["label_names"] == list(alnumzoo.FASHION_MNIST.names)


def test_exact_input_passes_through_unchanged() -> None:
    tensor, notes = create_transform(FASHION_CFG).apply(Image.fromarray(_item()))
    assert notes == ()
    assert torch.equal(tensor[0], torch.from_numpy(_item()).float() / 255)


def test_inverted_upscaled_jpeg_comes_back_to_the_training_look() -> None:
    shop = Image.fromarray(255 - _item()).resize((280, 280), Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", (400, 330), (250, 250, 250))
    canvas.paste(shop.convert("RGB"), (30, 20))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=85)
    tensor, notes = create_transform(FASHION_CFG).apply(Image.open(buf))
    assert any(n.startswith("inverted: a light background") for n in notes)
    assert any(n.startswith("cropped to the subject") for n in notes)
    reference = torch.from_numpy(_item()).float() / 255
    assert float((tensor[0] - reference).abs().mean()) < 0.06


def test_transparent_cutout_lands_on_the_models_background() -> None:
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[10:30, 10:30] = (90, 90, 90, 255)  # an opaque grey item, transparent around it
    tensor, notes = create_transform({**FASHION_CFG, "content_crop": False}).apply(
        Image.fromarray(rgba, mode="RGBA")
    )
    assert "composited transparency onto the model's dark background" in notes
    assert float(tensor[0, 0, 0]) == 0.0  # black, as Fashion-MNIST backgrounds are
    assert float(tensor[0, 14, 14]) == pytest.approx(90 / 255, abs=0.02)
    white_model = create_transform(
        {**FASHION_CFG, "background": "light", "fill": 1.0, "content_crop": False}
    )
    assert float(white_model(Image.fromarray(rgba, mode="RGBA"))[0, 0, 0]) == 1.0


def test_wide_image_keeps_its_aspect() -> None:
    wide = np.zeros((28, 56), np.uint8)
    wide[8:20, :] = 255
    tensor, notes = create_transform({**FASHION_CFG, "content_crop": False}).apply(
        Image.fromarray(wide)
    )
    assert "resized 56x28 to 28x14 and padded to 28x28" in notes
    rows = tensor[0].mean(dim=1)
    assert float(rows[:7].max()) == 0.0  # padding above, not a stretched band
    assert float(rows[11:17].min()) > 0.5


def test_sixteen_bit_and_float_scaled_by_their_range() -> None:
    grey16 = Image.fromarray(np.full((28, 28), 32768, np.uint16))
    half = Image.fromarray(np.full((28, 28), 0.5, np.float32), mode="F")
    cfg = {**FASHION_CFG, "invert": "never", "content_crop": False}
    for image in (grey16, half):
        tensor, notes = create_transform(cfg).apply(image)
        assert float(tensor.mean()) == pytest.approx(0.5, abs=0.01)
        assert any("8 bits" in n for n in notes)


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = np.zeros((28, 28), np.uint8)
    upright[2:8, :] = 255  # a bar at the top
    stored = Image.fromarray(np.rot90(upright, k=1).copy())  # as a camera stores it sideways
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    stored.save(tmp_path / "photo.jpg", exif=exif, quality=95)
    cfg = {**FASHION_CFG, "invert": "never", "content_crop": False}
    tensor, _ = alnumzoo.inference.load_image(tmp_path / "photo.jpg", cfg)
    assert float(tensor[0, 2:8].mean()) > 0.8  # the bar is back at the top
    assert float(tensor[0, 20:].mean()) < 0.1


def test_shop_photos_read_as_well_as_the_raw_test_images() -> None:
    """The target of the preprocessing contract: a dark garment photographed on a light
    background, a few hundred pixels wide, saved as JPEG, is classified as well as the raw
    28x28 test image it was made from."""
    try:
        from alnumzoo.data import FashionMNIST

        test = FashionMNIST(split="test")
    except (FileNotFoundError, ValueError) as exc:
        pytest.skip(f"Fashion-MNIST not installed: {exc}")
    model = alnumzoo.from_pretrained("crnn.fashion_mnist")
    n = 200
    images, targets = test.images[:n], test.targets[:n]
    raw = alnumzoo.predict(model, images)
    rng = np.random.default_rng(0)
    shop_photos = []
    for i in range(n):
        item = Image.fromarray(255 - images[i, 0].numpy()).resize(
            (252, 252), Image.Resampling.BICUBIC
        )
        canvas = Image.new("RGB", (360, 300), (250, 250, 248))
        canvas.paste(item.convert("RGB"), (int(rng.integers(0, 100)), int(rng.integers(0, 40))))
        buf = io.BytesIO()
        canvas.save(buf, "JPEG", quality=85)
        buf.seek(0)
        shop_photos.append(Image.open(buf))
    shop = alnumzoo.predict(model, shop_photos)
    raw_acc = np.mean([p.index == int(t) for p, t in zip(raw, targets, strict=True)])
    shop_acc = np.mean([p.index == int(t) for p, t in zip(shop, targets, strict=True)])
    assert shop_acc >= raw_acc - 0.02, (raw_acc, shop_acc)
