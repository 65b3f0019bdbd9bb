"""Label maps: one typed type that ties class indices to names (and, where a data set stores
classes in folders, to folder names).

Every model and data set in the library carries a [`LabelMap`][alnumzoo.labels.LabelMap], so
predictions can be turned back into characters, clothing names or breeds without a side table.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

__all__ = [
    "ALNUM52",
    "CIFAR10",
    "DOG_BREEDS",
    "FASHION_MNIST",
    "LabelMap",
    "LabelsLike",
    "char_to_hex",
    "hex_to_char",
    "resolve_labels",
]


@dataclass(frozen=True)
class LabelMap:
    """An ordered, immutable mapping between class indices, class names and folder names.

    Args:
        name: Short identifier of the label set (``"alnum52"``, ``"cifar10"``, ...).
        names: Class names in index order; must be unique.
        folders: Optional on-disk folder name of each class, in the same order (for alnum52 the
            lowercase hex ASCII code of the character). Defaults to the class names.

    Example:
        >>> from alnumzoo import ALNUM52
        >>> ALNUM52.index("a"), ALNUM52[35], ALNUM52.folder("a")
        (35, 'a', '61')
    """

    name: str
    names: tuple[str, ...]
    folders: tuple[str, ...] = ()
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    _folder_index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = tuple(self.names)
        folders = tuple(self.folders) if self.folders else names
        if not names:
            raise ValueError(f"label map {self.name!r} needs at least one class name")
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"label map {self.name!r} has duplicate class names: {dupes}")
        if len(folders) != len(names):
            raise ValueError(
                f"label map {self.name!r}: expected {len(names)} folder names, got {len(folders)}"
            )
        if len(set(folders)) != len(folders):
            raise ValueError(f"label map {self.name!r} has duplicate folder names")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "folders", folders)
        object.__setattr__(self, "_index", {n: i for i, n in enumerate(names)})
        object.__setattr__(self, "_folder_index", {f: i for i, f in enumerate(folders)})

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __contains__(self, item: object) -> bool:
        return item in self._index

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[str, ...]: ...
    def __getitem__(self, index: int | slice) -> str | tuple[str, ...]:
        """Class name(s) at ``index``."""
        return self.names[index]

    @property
    def num_classes(self) -> int:
        """Number of classes."""
        return len(self.names)

    def index(self, name: str) -> int:
        """Index of the class called ``name``.

        Raises:
            KeyError: ``name`` is not a class of this map (the message lists the valid names).
        """
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(
                f"{name!r} is not a class of label map {self.name!r}; expected one of "
                f"{self._describe_names()}"
            ) from None

    def _describe_names(self) -> str:
        if all(len(n) == 1 for n in self.names):
            return "".join(self.names)
        return repr(list(self.names))

    def folder(self, index_or_name: int | str) -> str:
        """Folder name of a class, given its index or name."""
        i = index_or_name if isinstance(index_or_name, int) else self.index(index_or_name)
        return self.folders[i]

    def index_of_folder(self, folder: str) -> int:
        """Index of the class stored in ``folder``.

        Raises:
            KeyError: ``folder`` names no class of this map.
        """
        try:
            return self._folder_index[folder]
        except KeyError:
            raise KeyError(
                f"folder {folder!r} is not a class folder of label map {self.name!r}; "
                f"expected one of {list(self.folders)}"
            ) from None

    def encode(self, names: Iterable[str]) -> list[int]:
        """Indices of several class names."""
        return [self.index(n) for n in names]

    def decode(self, indices: Iterable[int] | Any) -> list[str]:
        """Class names of several indices (any iterable of ints, including a 1-D tensor)."""
        return [self.names[int(i)] for i in indices]

    def subset(self, names: Sequence[str], name: str | None = None) -> LabelMap:
        """A new map holding only ``names`` (in the order given), keeping their folder names."""
        idx = self.encode(names)
        return LabelMap(
            name or f"{self.name}-subset",
            tuple(self.names[i] for i in idx),
            tuple(self.folders[i] for i in idx),
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, inverse of [`from_dict`][alnumzoo.labels.LabelMap.from_dict]."""
        out: dict[str, Any] = {"name": self.name, "names": list(self.names)}
        if self.folders != self.names:
            out["folders"] = list(self.folders)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelMap:
        """Rebuild a map written by [`to_dict`][alnumzoo.labels.LabelMap.to_dict].

        Raises:
            ValueError: ``data`` lacks ``names`` or it is not a list of strings.
        """
        names = data.get("names") if isinstance(data, Mapping) else None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(
                f"expected a label map with a list of string 'names', got {str(data)[:200]}"
            )
        folders = data.get("folders") or ()
        if not isinstance(folders, list | tuple) or not all(isinstance(f, str) for f in folders):
            raise ValueError(f"a label map's 'folders' must be a list of strings, got {folders!r}")
        return cls(str(data.get("name", "labels")), tuple(names), tuple(folders))


def char_to_hex(char: str) -> str:
    """Lowercase hex ASCII code of a single character, as the course's folders name it."""
    if len(char) != 1:
        raise ValueError(f"expected a single character, got {char!r}")
    return f"{ord(char):x}"


def hex_to_char(code: str) -> str:
    """Character of a lowercase or uppercase hex ASCII code (``"61"`` -> ``"a"``)."""
    try:
        return chr(int(code, 16))
    except ValueError:
        raise ValueError(f"expected a hex ASCII code such as '41', got {code!r}") from None


_ALNUM52_CHARS = "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZabdefghijmnoqrtuy"

#: The 52 alphanumeric classes in the course's order; folders are the lowercase hex codes.
ALNUM52 = LabelMap("alnum52", tuple(_ALNUM52_CHARS), tuple(char_to_hex(c) for c in _ALNUM52_CHARS))

#: Fashion-MNIST classes in the data set's label order.
FASHION_MNIST = LabelMap(
    "fashion_mnist",
    (
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
)

#: CIFAR-10 classes in the data set's label order (folder names match torchvision's).
CIFAR10 = LabelMap(
    "cifar10",
    (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    ),
)

#: The dog breeds named in the EfficientNet-B2 report, in alphabetical (case-insensitive)
#: order as the report's loader sorted them. The report used 25 breeds; the 25th is illegible
#: in the surviving text, so only these 24 are named.
DOG_BREEDS = LabelMap(
    "stanford_dogs_report",
    tuple(
        sorted(
            (
                "Afghan_hound",
                "African_hunting_dog",
                "basenji",
                "black-and-tan_coonhound",
                "Blenheim_spaniel",
                "borzoi",
                "Chihuahua",
                "clumber",
                "dingo",
                "EntleBucher",
                "keeshond",
                "komondor",
                "Leonberg",
                "Maltese_dog",
                "Norwegian_elkhound",
                "otterhound",
                "Pomeranian",
                "Shih-Tzu",
                "Siberian_husky",
                "silky_terrier",
                "standard_schnauzer",
                "toy_poodle",
                "toy_terrier",
                "Welsh_springer_spaniel",
            ),
            key=str.lower,
        )
    ),
)


#: What a model constructor accepts as ``labels``: a label map, class names, or none.
LabelsLike = LabelMap | Sequence[str] | None


def resolve_labels(
    labels: LabelsLike, num_classes: int | None, default_labels: LabelMap | None
) -> tuple[int, LabelMap | None]:
    """Reconcile ``num_classes`` and ``labels`` given to a model constructor.

    Returns the class count and the label map to carry. Without explicit labels, the
    architecture's default label map is used when the class count matches it, and gives the
    count when there is none.

    Raises:
        ValueError: the two disagree, the class count is negative, or neither they nor a
            default label map give one.
    """
    if labels is not None and not isinstance(labels, LabelMap):
        labels = LabelMap("custom", tuple(labels))
    if num_classes is None:
        known = labels if labels is not None else default_labels
        if known is None:
            raise ValueError("num_classes is required: the model has no default labels")
        num_classes = len(known)
    if num_classes < 0:
        raise ValueError(
            f"num_classes must be positive (or 0 for a model without a classifier, which "
            f"returns its pooled features), got {num_classes}"
        )
    if labels is not None and len(labels) != num_classes:
        raise ValueError(
            f"labels has {len(labels)} classes but num_classes={num_classes}; give one or make "
            "them agree"
        )
    if labels is None and default_labels is not None and len(default_labels) == num_classes:
        labels = default_labels
    return num_classes, labels
