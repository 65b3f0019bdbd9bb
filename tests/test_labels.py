"""Label maps: the 52 classes in SPEC order with their hex folder codes, and the other sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alnumzoo import ALNUM52, CIFAR10, DOG_BREEDS, FASHION_MNIST, LabelMap, char_to_hex, hex_to_char

SHARED_LABELS = Path(__file__).resolve().parents[2] / "shared" / "data" / "alnum52_label_dict.json"


def test_alnum52_order_and_size() -> None:
    assert "".join(ALNUM52) == "0123456789ABCDEFGHIJKLMNPQRSTUVWXYZabdefghijmnoqrtuy"
    assert len(ALNUM52) == 52
    assert "O" not in ALNUM52
    assert "o" in ALNUM52
    for dropped in "cklpsvwxz":
        assert dropped not in ALNUM52


def test_alnum52_round_trip_all_52() -> None:
    for i, char in enumerate(ALNUM52):
        code = ALNUM52.folder(i)
        assert code == f"{ord(char):x}"
        assert hex_to_char(code) == char
        assert char_to_hex(char) == code
        assert ALNUM52.index(char) == i
        assert ALNUM52.index_of_folder(code) == i
        assert ALNUM52.folder(char) == code
        assert ALNUM52[i] == char
    assert ALNUM52.folder("A") == "41"
    assert ALNUM52.folder("y") == "79"


@pytest.mark.skipif(not SHARED_LABELS.exists(), reason="../shared is not beside this checkout")
def test_alnum52_matches_course_label_dict() -> None:
    course = json.loads(SHARED_LABELS.read_text())
    assert course["index_to_char"] == "".join(ALNUM52)
    assert course["hex_to_index"] == {ALNUM52.folder(i): i for i in range(52)}


def test_errors_name_what_was_expected() -> None:
    with pytest.raises(KeyError, match=r"'O' is not a class.*0123456789ABC"):
        ALNUM52.index("O")
    with pytest.raises(KeyError, match="'4f' is not a class folder"):
        ALNUM52.index_of_folder("4f")
    with pytest.raises(ValueError, match="single character"):
        char_to_hex("ab")
    with pytest.raises(ValueError, match="hex ASCII code"):
        hex_to_char("zz")
    with pytest.raises(ValueError, match="duplicate class names"):
        LabelMap("x", ("a", "a"))
    with pytest.raises(ValueError, match="expected 2 folder names"):
        LabelMap("x", ("a", "b"), ("f",))


def test_encode_decode_subset_and_dict_round_trip() -> None:
    assert ALNUM52.decode(ALNUM52.encode("HeRo0")) == list("HeRo0")
    digits = ALNUM52.subset(list("0123456789"), name="digits")
    assert digits.folders[0] == "30"
    assert digits.index("7") == 7
    for m in (ALNUM52, FASHION_MNIST, CIFAR10, DOG_BREEDS, digits):
        assert LabelMap.from_dict(json.loads(json.dumps(m.to_dict()))) == m
    with pytest.raises(ValueError, match="list of string 'names'"):
        LabelMap.from_dict({"names": [1, 2]})


def test_other_label_sets() -> None:
    assert FASHION_MNIST[9] == "Ankle boot"
    assert CIFAR10.index("truck") == 9
    assert len(DOG_BREEDS) == 24
    assert list(DOG_BREEDS) == sorted(DOG_BREEDS, key=str.lower)
    assert DOG_BREEDS[0] == "Afghan_hound"


def test_resolve_labels_reconciles_count_names_and_default() -> None:
    from alnumzoo.labels import resolve_labels

    assert resolve_labels(None, None, CIFAR10) == (10, CIFAR10)
    assert resolve_labels(None, 3, CIFAR10) == (3, None)
    n, named = resolve_labels(["cat", "dog"], None, CIFAR10)
    assert n == 2
    assert named is not None
    assert named.names == ("cat", "dog")
    assert resolve_labels(None, 0, CIFAR10) == (0, None)
    with pytest.raises(ValueError, match="num_classes is required"):
        resolve_labels(None, None, None)
    with pytest.raises(ValueError, match="num_classes must be positive"):
        resolve_labels(None, -1, None)
