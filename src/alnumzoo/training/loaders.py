"""Training/validation loaders for fit(): on-device for in-memory sets, DataLoader otherwise."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from alnumzoo.data.base import InMemoryImageDataset
from alnumzoo.data.device_loader import AUGMENT_PRESETS, DeviceLoader, SeededBatchOrder
from alnumzoo.data.profiles import profile_for
from alnumzoo.labels import LabelMap

__all__ = ["DatasetLoader", "make_loader", "resolve_augment", "validation_sample"]


class DatasetLoader(SeededBatchOrder):
    """Batches of a map-style data set through a ``torch.utils.data.DataLoader`` (workers,
    pinned memory), in [`DeviceLoader`][alnumzoo.data.device_loader.DeviceLoader]'s seeded,
    rank-sharded order and with its mid-epoch ``state_dict``. Augmentation is the data set's own
    transform.

    Args:
        dataset: Items ``(image tensor, label)``.
        batch_size: Images per batch.
        shuffle: Shuffle each epoch.
        drop_last: Drop the last incomplete batch.
        device: Where batches are moved.
        seed: Seed of the order.
        workers: ``DataLoader`` worker processes.
        channels_last: Return channels-last batches.
        rank: This process's rank.
        world_size: Processes sharing the data.
    """

    def __init__(
        self,
        dataset: Dataset[Any],
        batch_size: int,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        device: torch.device | str = "cpu",
        seed: int = 0,
        workers: int = 0,
        channels_last: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__(
            len(dataset),  # type: ignore[arg-type]
            batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            seed=seed,
            rank=rank,
            world_size=world_size,
        )
        self.dataset = dataset
        self.labels: LabelMap | None = getattr(dataset, "labels", None)
        self.device = torch.device(device)
        self.workers = workers
        self.channels_last = channels_last

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch, start = self.epoch, self._start_batch
        order = self._order(epoch).tolist()
        batches = [
            order[b * self.batch_size : (b + 1) * self.batch_size] for b in range(start, len(self))
        ]
        loader = DataLoader(
            self.dataset,
            batch_sampler=batches,
            num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
        )
        for b, (x, y) in enumerate(loader, start=start):
            x = x.to(self.device, non_blocking=True)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            self._start_batch = b + 1
            yield x, torch.as_tensor(y).to(self.device, non_blocking=True)
        self.epoch, self._start_batch = epoch + 1, 0


def resolve_augment(augment: str | None, labels: LabelMap | None) -> str | None:
    """The augmentation preset a recipe's ``augment`` field means for a data set.

    Raises:
        KeyError: a named preset does not exist.
    """
    if augment == "auto":
        return profile_for(labels).augment
    if augment is None or augment == "dataset":
        return augment
    if augment not in AUGMENT_PRESETS:
        raise KeyError(
            f"unknown augmentation {augment!r}; presets: {', '.join(sorted(AUGMENT_PRESETS))}"
        )
    return augment


def make_loader(
    data: Dataset[Any],
    batch_size: int,
    *,
    train: bool,
    augment: str | None,
    device: torch.device,
    seed: int,
    channels_last: bool,
    rank: int,
    world_size: int,
    workers: int = 0,
) -> DeviceLoader | DatasetLoader:
    """A loader for ``data``: a [`DeviceLoader`][alnumzoo.data.device_loader.DeviceLoader] for
    in-memory sets (data on the device, batched augmentation), a
    [`DatasetLoader`][alnumzoo.training.loaders.DatasetLoader] otherwise."""
    per_rank = len(data) // world_size  # type: ignore[arg-type]
    drop_last = train and per_rank >= batch_size
    if isinstance(data, InMemoryImageDataset):
        batch_augment = (
            AUGMENT_PRESETS[augment] if train and augment not in (None, "dataset") else None
        )
        return DeviceLoader(
            data,
            batch_size,
            shuffle=train,
            drop_last=drop_last,
            augment=batch_augment,
            device=device,
            seed=seed,
            channels_last=channels_last,
            rank=rank,
            world_size=world_size,
        )
    return DatasetLoader(
        data,
        batch_size,
        shuffle=train,
        drop_last=drop_last,
        device=device,
        seed=seed,
        workers=workers,
        channels_last=channels_last,
        rank=rank,
        world_size=world_size,
    )


def validation_sample(data: Dataset[Any], n: int) -> Dataset[Any]:
    """A fixed sample of about ``n`` items of ``data``: the first ``n / classes`` of every class
    for in-memory sets (so every class is scored), evenly spaced items otherwise."""
    size = len(data)  # type: ignore[arg-type]
    if n >= size:
        return data
    if isinstance(data, InMemoryImageDataset):
        classes = len(data.labels)
        per_class = max(1, -(-n // classes))
        picks = [(data.targets == c).nonzero()[:per_class, 0] for c in range(classes)]
        return data.subset(torch.cat(picks).sort().values)
    return Subset(data, torch.linspace(0, size - 1, n).long().tolist())
