"""Batches for training and evaluation: `DeviceLoader` keeps an in-memory data set on the device
and augments whole batches there; `DatasetLoader` wraps a ``DataLoader`` for any map-style data
set; both share one seeded, rank-sharded, resumable order. `make_loader` picks between them."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, cast

import torch
from torch.utils.data import DataLoader, Dataset, Subset

from alnumzoo.data.augment import AUGMENT_PRESETS, BatchAugment
from alnumzoo.data.base import InMemoryImageDataset, SizedDataset, check_targets
from alnumzoo.data.profiles import profile_for
from alnumzoo.labels import LabelMap

__all__ = [
    "DatasetLoader",
    "DeviceLoader",
    "SeededBatchOrder",
    "make_loader",
    "resolve_augment",
    "validation_sample",
]


def _mix(*values: int) -> int:
    # Hashes of int tuples are not randomised per process, so seeds are stable across runs.
    return hash(values) & 0x7FFF_FFFF_FFFF_FFFF


class SeededBatchOrder:
    """The shuffled, rank-sharded batch order that the loaders share, and their position in it.

    The permutation of epoch ``e`` is seeded from ``(seed, e)``, so every rank draws the same
    one and takes every ``world_size``-th sample of it;
    [`state_dict`][alnumzoo.data.loaders.SeededBatchOrder.state_dict] records the epoch and
    the batches already served, which is all a mid-epoch resume needs.
    """

    def __init__(
        self,
        num_items: int,
        batch_size: int,
        *,
        shuffle: bool,
        drop_last: bool,
        seed: int,
        rank: int,
        world_size: int,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.num_items = num_items
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch = 0
        self._start_batch = 0

    @property
    def num_samples(self) -> int:
        """Samples this rank sees per epoch."""
        return self.num_items // self.world_size

    def __len__(self) -> int:
        n = self.num_samples
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self, epoch: int) -> torch.Tensor:
        total = self.num_samples * self.world_size
        if self.shuffle:
            g = torch.Generator().manual_seed(_mix(self.seed, epoch))
            order = torch.randperm(self.num_items, generator=g)[:total]
        else:
            order = torch.arange(total)
        return order[self.rank :: self.world_size]

    def state_dict(self) -> dict[str, Any]:
        """Position in the data stream: epoch and batches already served in it."""
        return {"epoch": self.epoch, "batch": self._start_batch, "seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue exactly where
        [`state_dict`][alnumzoo.data.loaders.SeededBatchOrder.state_dict] was taken."""
        self.epoch = int(state["epoch"])
        self._start_batch = int(state["batch"])
        self.seed = int(state["seed"])


class DeviceLoader(SeededBatchOrder):
    """Iterate over an in-memory data set in batches, entirely on one device.

    The ``uint8`` images move to ``device`` once (4x smaller than float); each batch is
    gathered, converted to float in [0, 1] and augmented there. Shuffling and augmentation use
    this loader's own generators, seeded from ``(seed, epoch, batch)``, so a run is
    reproducible and can resume mid-epoch
    ([`state_dict`][alnumzoo.data.loaders.SeededBatchOrder.state_dict]). With
    ``world_size > 1`` each rank takes every ``world_size``-th sample of the shared permutation
    (same number of batches on every rank).

    Args:
        dataset: An [`InMemoryImageDataset`][alnumzoo.data.base.InMemoryImageDataset].
        batch_size: Images per batch.
        shuffle: Shuffle each epoch.
        drop_last: Drop the last incomplete batch.
        augment: Batch augmentation, or ``None``.
        augment_from_epoch: The first epoch (counting from 0) that is augmented.
        device: Where the data lives and batches are made.
        seed: Seed for order and augmentation.
        channels_last: Return batches in channels-last memory format (faster convs on CUDA).
        pin_memory: Pin the host copy before moving it to CUDA.
        rank: This process's rank for sharding.
        world_size: Number of processes sharing the data.
    """

    def __init__(
        self,
        dataset: InMemoryImageDataset,
        batch_size: int,
        *,
        shuffle: bool = True,
        drop_last: bool = False,
        augment: BatchAugment | None = None,
        augment_from_epoch: int = 0,
        device: str | torch.device = "cpu",
        seed: int = 0,
        channels_last: bool = False,
        pin_memory: bool = True,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        super().__init__(len(dataset.targets), batch_size, shuffle=shuffle, drop_last=drop_last,
                         seed=seed, rank=rank, world_size=world_size)  # fmt: skip
        self.device = torch.device(device)
        images = dataset.images
        if self.device.type == "cuda" and pin_memory:
            images = images.pin_memory()
        self.images = images.to(self.device, non_blocking=True)
        self.targets = dataset.targets.to(self.device, non_blocking=True)
        self.labels = dataset.labels
        self.augment = augment
        self.augment_from_epoch = augment_from_epoch
        self.channels_last = channels_last

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch, start = self.epoch, self._start_batch
        order = self._order(epoch).to(self.device)
        augment = self.augment if epoch >= self.augment_from_epoch else None
        for b in range(start, len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            x = self.images[idx].float().div_(255)
            if augment is not None:
                g = torch.Generator().manual_seed(_mix(self.seed, epoch, b, self.rank))
                x = augment(x, g)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            self._start_batch = b + 1
            yield x, self.targets[idx]
        self.epoch, self._start_batch = epoch + 1, 0


class DatasetLoader(SeededBatchOrder):
    """Batches of a map-style data set through a ``torch.utils.data.DataLoader`` (workers,
    pinned memory), in [`DeviceLoader`][alnumzoo.data.loaders.DeviceLoader]'s seeded,
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
        dataset: SizedDataset[Any],
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
        super().__init__(len(dataset), batch_size, shuffle=shuffle, drop_last=drop_last,
                         seed=seed, rank=rank, world_size=world_size)  # fmt: skip
        self.dataset = dataset
        self.labels: LabelMap | None = getattr(dataset, "labels", None)
        #: Labels must lie in [0, num_classes); fit sets it from the model when the data set
        #: has no label map.
        self.num_classes: int | None = len(self.labels) if self.labels is not None else None
        self.device = torch.device(device)
        self.workers = workers
        self.channels_last = channels_last

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        epoch, start = self.epoch, self._start_batch
        order = self._order(epoch).tolist()
        batches = [
            order[b * self.batch_size : (b + 1) * self.batch_size] for b in range(start, len(self))
        ]
        # DataLoader's annotation asks for a Dataset; any sized map-style set works.
        loader: DataLoader[Any] = DataLoader(
            cast("Dataset[Any]", self.dataset),
            batch_sampler=batches,
            num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
        )
        for b, (x, y) in enumerate(loader, start=start):
            y = torch.as_tensor(y)
            check_targets(y, self.num_classes, "training data" if self.shuffle else "data")
            x = x.to(self.device, non_blocking=True)
            if self.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            self._start_batch = b + 1
            yield x, y.to(self.device, non_blocking=True)
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
    data: SizedDataset[Any],
    batch_size: int,
    *,
    train: bool,
    augment: str | None,
    device: torch.device,
    seed: int,
    augment_from_epoch: int = 0,
    channels_last: bool,
    rank: int,
    world_size: int,
    workers: int = 0,
) -> DeviceLoader | DatasetLoader:
    """A loader for ``data``: a [`DeviceLoader`][alnumzoo.data.loaders.DeviceLoader] for
    in-memory sets (data on the device, batched augmentation), a
    [`DatasetLoader`][alnumzoo.data.loaders.DatasetLoader] otherwise."""
    per_rank = len(data) // world_size
    drop_last = train and per_rank >= batch_size
    order: dict[str, Any] = {
        "shuffle": train, "drop_last": drop_last, "device": device, "seed": seed,
        "channels_last": channels_last, "rank": rank, "world_size": world_size,
    }  # fmt: skip
    if isinstance(data, InMemoryImageDataset):
        batch_augment = (
            AUGMENT_PRESETS[augment] if train and augment not in (None, "dataset") else None
        )
        return DeviceLoader(
            data, batch_size, augment=batch_augment, augment_from_epoch=augment_from_epoch, **order
        )
    return DatasetLoader(data, batch_size, workers=workers, **order)


def validation_sample(data: SizedDataset[Any], n: int) -> SizedDataset[Any]:
    """A fixed sample of about ``n`` items of ``data``: the first ``n / classes`` of every class
    for in-memory sets (so every class is scored), evenly spaced items otherwise."""
    size = len(data)
    if n >= size:
        return data
    if isinstance(data, InMemoryImageDataset):
        classes = len(data.labels)
        per_class = max(1, -(-n // classes))
        picks = [(data.targets == c).nonzero()[:per_class, 0] for c in range(classes)]
        return data.subset(torch.cat(picks).sort().values)
    return Subset(cast("Dataset[Any]", data), torch.linspace(0, size - 1, n).long().tolist())
