"""DeviceLoader: complete, reproducible epochs, exact resume, sharding and batch augmentation."""

from __future__ import annotations

import torch

from alnumzoo import ALNUM52, DeviceLoader
from alnumzoo.data import AUGMENT_PRESETS, BatchAugment, InMemoryImageDataset


def _dataset(n: int = 50) -> InMemoryImageDataset:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 8, 8).contiguous()
    return InMemoryImageDataset(images, torch.arange(n) % 52, ALNUM52)


def _ids(batch: torch.Tensor) -> list[int]:
    return (batch[:, 0, 0, 0] * 255).round().long().tolist()


def test_epoch_covers_every_sample_once_and_is_reproducible() -> None:
    loader = DeviceLoader(_dataset(), batch_size=16, seed=1)
    assert len(loader) == 4
    first = [i for x, _ in loader for i in _ids(x)]
    second = [i for x, _ in loader for i in _ids(x)]
    assert sorted(first) == list(range(50))
    assert first != second  # a new order each epoch
    again = DeviceLoader(_dataset(), batch_size=16, seed=1)
    assert [i for x, _ in again for i in _ids(x)] == first
    x, y = next(iter(DeviceLoader(_dataset(), batch_size=5, shuffle=False)))
    assert x.dtype == torch.float32
    assert y.tolist() == [0, 1, 2, 3, 4]
    assert len(DeviceLoader(_dataset(), batch_size=16, drop_last=True)) == 3


def test_resume_mid_epoch_continues_exactly() -> None:
    aug = BatchAugment(translate=0.2, rotate=10)
    reference = DeviceLoader(_dataset(), batch_size=8, seed=7, augment=aug)
    stream = [x for _ in range(2) for x, _ in reference]
    interrupted = DeviceLoader(_dataset(), batch_size=8, seed=7, augment=aug)
    it = iter(interrupted)
    head = [next(it)[0] for _ in range(3)]
    state = interrupted.state_dict()
    resumed = DeviceLoader(_dataset(), batch_size=8, seed=7, augment=aug)
    resumed.load_state_dict(state)
    tail = [x for x, _ in resumed] + [x for x, _ in resumed]
    got = head + tail
    assert len(got) == len(stream)
    for a, b in zip(got, stream, strict=True):
        assert torch.equal(a, b)


def test_shards_are_disjoint_and_equal_sized() -> None:
    shards = [
        [
            i
            for x, _ in DeviceLoader(_dataset(), batch_size=4, seed=2, rank=r, world_size=3)
            for i in _ids(x)
        ]
        for r in range(3)
    ]
    assert {len(s) for s in shards} == {16}
    assert not set(shards[0]) & set(shards[1])
    assert not set(shards[1]) & set(shards[2])


def test_augment_identity_flip_and_fill() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 10, 12)
    assert torch.allclose(BatchAugment()(x, g), x, atol=1e-5)
    flipped = BatchAugment(hflip=True)(x, torch.Generator().manual_seed(0))
    for a, b in zip(flipped, x, strict=True):
        assert torch.allclose(a, b, atol=1e-5) or torch.allclose(a, b.flip(-1), atol=1e-5)
    white = torch.ones(3, 1, 20, 20)
    moved = BatchAugment(translate=0.3, rotate=20, fill=1.0)(white, g)
    assert torch.allclose(moved, white, atol=1e-5)
    assert not AUGMENT_PRESETS["alnum52"].hflip
    dot = torch.zeros(1, 1, 21, 21)
    dot[0, 0, 10, 10] = 1
    shifted = BatchAugment(translate=0.2)(dot, torch.Generator().manual_seed(5))
    assert shifted.argmax() != dot.argmax()


def test_augmentation_can_start_from_a_later_epoch() -> None:
    """With augment_from_epoch=1 the first epoch is the plain images, the next is augmented,
    and a resume inside the augmented epoch continues it exactly."""
    aug = BatchAugment(translate=0.3, rotate=20)

    def loader() -> DeviceLoader:
        return DeviceLoader(_dataset(), batch_size=10, seed=2, augment=aug, augment_from_epoch=1)

    plain = DeviceLoader(_dataset(), batch_size=10, seed=2)
    late = loader()
    first_plain, first_late = [x for x, _ in plain], [x for x, _ in late]
    for a, b in zip(first_plain, first_late, strict=True):
        assert torch.equal(a, b)
    second = [x for x, _ in late]
    assert not any(torch.equal(a, b) for a, b in zip(second, [x for x, _ in plain], strict=True))
    resumed = loader()
    resumed.load_state_dict({"epoch": 1, "batch": 2, "seed": 2})
    for a, b in zip([x for x, _ in resumed], second[2:], strict=True):
        assert torch.equal(a, b)
