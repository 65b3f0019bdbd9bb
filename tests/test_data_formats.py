"""Fashion-MNIST idx files, CIFAR-10 image folders/tar, Stanford Dogs layout: built small here."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from alnumzoo import CIFAR10, DOG_BREEDS, FASHION_MNIST, Cifar10, FashionMNIST, StanfordDogs
from alnumzoo.data import DEFAULT_FASHION_MNIST_ROOT, DatasetFormatError, read_idx


def _write_idx(path: Path, array: np.ndarray, compress: bool) -> None:
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


def _fashion_root(root: Path, n_train: int = 50, n_test: int = 12, compress: bool = True) -> None:
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    sfx = ".gz" if compress else ""
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(
            root / f"{prefix}-images-idx3-ubyte{sfx}", rng.integers(0, 256, (n, 28, 28)), compress
        )
        _write_idx(root / f"{prefix}-labels-idx1-ubyte{sfx}", np.arange(n) % 10, compress)


def test_fashion_mnist_idx_and_seeded_split(tmp_path: Path) -> None:
    _fashion_root(tmp_path)
    full = FashionMNIST(tmp_path, "train_full")
    train = FashionMNIST(tmp_path, "train", val_size=10, seed=3)
    val = FashionMNIST(tmp_path, "val", val_size=10, seed=3)
    test = FashionMNIST(tmp_path, "test")
    assert (len(full), len(train), len(val), len(test)) == (50, 40, 10, 12)
    assert full.labels is FASHION_MNIST
    # The split is torch's random_split with a seeded generator, as in the report.
    a, b = torch.utils.data.random_split(range(50), [40, 10], torch.Generator().manual_seed(3))
    assert torch.equal(train.images, full.images[list(a)])
    assert torch.equal(val.images, full.images[list(b)])
    image, label = test[3]
    assert image.shape == (1, 28, 28)
    assert label == 3
    assert (
        FashionMNIST(tmp_path, "train", val_size=10, seed=4).targets.tolist()
        != train.targets.tolist()
    )


def test_fashion_mnist_torchvision_layout_and_errors(tmp_path: Path) -> None:
    _fashion_root(tmp_path / "FashionMNIST" / "raw", compress=False)
    assert len(FashionMNIST(tmp_path, "test")) == 12
    with pytest.raises(DatasetFormatError, match="dataset-fashion-mnist"):
        FashionMNIST(tmp_path / "nowhere", "test")
    bad = tmp_path / "bad"
    _fashion_root(bad)
    data = gzip.decompress((bad / "t10k-images-idx3-ubyte.gz").read_bytes())
    (bad / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(DatasetFormatError, match="truncated or corrupt"):
        FashionMNIST(bad, "test")
    (bad / "x.idx").write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01abcd")
    with pytest.raises(DatasetFormatError, match="unsigned bytes"):
        read_idx(bad / "x.idx")


@pytest.mark.skipif(
    not Path(DEFAULT_FASHION_MNIST_ROOT).is_dir(),
    reason="Debian's dataset-fashion-mnist not installed",
)
def test_real_fashion_mnist_split_sizes() -> None:
    assert len(FashionMNIST(split="train")) == 54_000
    assert len(FashionMNIST(split="val")) == 6_000
    test = FashionMNIST(split="test")
    assert len(test) == 10_000
    assert test.class_counts() == [1000] * 10


def _cifar_tree(root: Path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(1)
    written = {}
    for split in ("train", "test"):
        for cls in ("dog", "airplane"):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(3):
                pixels = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                path = folder / f"{i:04d}.png"
                Image.fromarray(pixels).save(path)
                written[f"{split}/{cls}/{i}"] = pixels
    return written


def test_cifar10_image_folder_and_tar(tmp_path: Path) -> None:
    written = _cifar_tree(tmp_path / "cifar")
    folder = Cifar10(tmp_path / "cifar", "train")
    assert len(folder) == 6
    assert folder.images.shape == (6, 3, 32, 32)
    assert folder.labels is CIFAR10
    assert sorted(set(folder.targets.tolist())) == [CIFAR10.index("airplane"), CIFAR10.index("dog")]
    first = folder.images[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(first, written["train/airplane/0"])
    with tarfile.open(tmp_path / "cifar.tar", "w") as tar:
        tar.add(tmp_path / "cifar", arcname=".")
    from_tar = Cifar10(tmp_path / "cifar.tar", "test")
    from_dir = Cifar10(tmp_path / "cifar", "test")
    assert torch.equal(from_tar.images, from_dir.images)
    assert torch.equal(from_tar.targets, from_dir.targets)
    image, _ = from_tar[0]
    assert image.dtype == torch.float32
    assert float(image.max()) <= 1.0


def test_cifar10_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match=r"train/<class>/\*\.jpg"):
        Cifar10(tmp_path / "nothing")
    (tmp_path / "train" / "zebra").mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(tmp_path / "train" / "zebra" / "0.png")
    with pytest.raises(DatasetFormatError, match="'zebra' is not a CIFAR-10 class"):
        Cifar10(tmp_path)
    (tmp_path / "train" / "zebra" / "0.png").unlink()
    (tmp_path / "train" / "zebra").rmdir()
    (tmp_path / "train" / "cat").mkdir()
    (tmp_path / "train" / "cat" / "0.jpg").write_bytes(b"\xff\xd8 broken")
    with pytest.raises(DatasetFormatError, match="not a readable image"):
        Cifar10(tmp_path)


def _jpeg(path: Path, mode: str = "RGB", truncate: bool = False) -> None:
    buf = io.BytesIO()
    rng = np.random.default_rng(len(str(path)))
    shape = (40, 50, 3) if mode == "RGB" else (40, 50)
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buf, "JPEG")
    data = buf.getvalue()
    path.write_bytes(data[: len(data) // 2] if truncate else data)


def _dogs_root(root: Path) -> None:
    images = root / "Images"
    train, test = [], []
    for wnid, breed in (
        ("n02085620", "Chihuahua"),
        ("n02088094", "Afghan_hound"),
        ("n02099999", "pug"),
    ):
        (images / f"{wnid}-{breed}").mkdir(parents=True)
        for i in range(3):
            name = f"{wnid}-{breed}/{wnid}_{i}.jpg"
            _jpeg(images / name)
            (train if i < 2 else test).append(name)
    gray = "n02085620-Chihuahua/n02085620_gray.jpg"
    broken = "n02088094-Afghan_hound/n02088094_broken.jpg"
    _jpeg(images / gray, mode="L")
    _jpeg(images / broken, truncate=True)
    train += [gray, broken]
    (root / "lists").mkdir()
    (root / "lists" / "train_list.txt").write_text("\n".join(train))
    (root / "lists" / "test_list.txt").write_text("\n".join(test))


def test_stanford_dogs_cleaning_and_subset(tmp_path: Path) -> None:
    _dogs_root(tmp_path)
    ds = StanfordDogs(tmp_path, "train")
    assert ds.labels == DOG_BREEDS
    assert len(ds) == 4  # 2 Chihuahua + 2 Afghan_hound; pug is not a report breed
    assert ds.report.kept == 4
    assert [p.name for p in ds.report.grayscale] == ["n02085620_gray.jpg"]
    assert [p.name for p, _ in ds.report.corrupt] == ["n02088094_broken.jpg"]
    assert "Welsh_springer_spaniel" in ds.report.missing_breeds
    assert "skipped 1 grayscale and 1 corrupt" in str(ds.report)
    image, label = ds[0]
    assert image.shape == (3, 256, 256)
    assert image.dtype == torch.float32
    assert DOG_BREEDS[label] in ("Afghan_hound", "Chihuahua")
    assert len(StanfordDogs(tmp_path, "test")) == 2
    custom = StanfordDogs(tmp_path, "all", breeds=["pug", "Chihuahua"])
    assert custom.labels.names == ("pug", "Chihuahua")
    assert sorted(label for _, label in custom.samples) == [0, 0, 0, 1, 1, 1]
    assert len(custom.report.grayscale) == 1


def test_stanford_dogs_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetFormatError, match=r"Images/n0…-breed"):
        StanfordDogs(tmp_path)
    (tmp_path / "Images" / "n1-Chihuahua").mkdir(parents=True)
    with pytest.raises(DatasetFormatError, match=r"train_list\.txt"):
        StanfordDogs(tmp_path, "train")


def test_select_classes_relabels_in_the_given_order_and_keeps_the_profile() -> None:
    from alnumzoo.data import InMemoryImageDataset, profile_for

    images = torch.arange(20, dtype=torch.uint8).view(20, 1, 1, 1).expand(20, 1, 4, 4)
    data = InMemoryImageDataset(images.contiguous(), torch.arange(20) % 10, FASHION_MNIST)
    two = data.select_classes(["Shirt", "T-shirt/top"])
    assert two.labels.names == ("Shirt", "T-shirt/top")
    assert len(two) == 4
    # Shirt is class 6 of Fashion-MNIST, T-shirt/top class 0: images 0, 6, 10, 16.
    assert two.images[:, 0, 0, 0].tolist() == [0, 6, 10, 16]
    assert two.targets.tolist() == [1, 0, 1, 0]
    assert profile_for(two.labels) == profile_for(FASHION_MNIST)
    with pytest.raises(KeyError):
        data.select_classes(["Sweater?"])
