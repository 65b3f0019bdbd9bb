"""Data sets (alnum52, Fashion-MNIST, CIFAR-10, Stanford Dogs), the alnum52 renderer, per-data-set
profiles, preprocessing, augmentation and the batch loaders."""

from alnumzoo.data.alnum52 import Alnum52Folder, Alnum52Rendered
from alnumzoo.data.alnum52_build import (
    BuildResult,
    build_alnum52,
    class_font_order,
    family_group,
    split_fonts_by_family,
)
from alnumzoo.data.augment import AUGMENT_PRESETS, BatchAugment
from alnumzoo.data.base import DatasetFormatError, InMemoryImageDataset, SizedDataset
from alnumzoo.data.cifar10 import Cifar10
from alnumzoo.data.dogs import (
    CleaningReport,
    StanfordDogs,
    dogs_eval_transform,
    dogs_train_transform,
)
from alnumzoo.data.fashion_mnist import DEFAULT_FASHION_MNIST_ROOT, FashionMNIST, read_idx
from alnumzoo.data.fonts import DEFAULT_FONT_DIRS, FontInfo, find_font_files, screen_font
from alnumzoo.data.loaders import DatasetLoader, DeviceLoader, make_loader
from alnumzoo.data.profiles import DATA_KINDS, PROFILES, DataProfile, profile_for, profile_of
from alnumzoo.data.render import RenderStyle, render_glyph
from alnumzoo.data.safe_npy import UnsafeArrayError, load_image_array
from alnumzoo.data.specs import DataSplits, open_data
from alnumzoo.data.transforms import ImageTransform, create_transform

__all__ = [
    "AUGMENT_PRESETS",
    "DATA_KINDS",
    "DEFAULT_FASHION_MNIST_ROOT",
    "DEFAULT_FONT_DIRS",
    "PROFILES",
    "Alnum52Folder",
    "Alnum52Rendered",
    "BatchAugment",
    "BuildResult",
    "Cifar10",
    "CleaningReport",
    "DataProfile",
    "DataSplits",
    "DatasetFormatError",
    "DatasetLoader",
    "DeviceLoader",
    "FashionMNIST",
    "FontInfo",
    "ImageTransform",
    "InMemoryImageDataset",
    "RenderStyle",
    "SizedDataset",
    "StanfordDogs",
    "UnsafeArrayError",
    "build_alnum52",
    "class_font_order",
    "create_transform",
    "dogs_eval_transform",
    "dogs_train_transform",
    "family_group",
    "find_font_files",
    "load_image_array",
    "make_loader",
    "open_data",
    "profile_for",
    "profile_of",
    "read_idx",
    "render_glyph",
    "screen_font",
    "split_fonts_by_family",
]
