"""The bad-input corpus: every hostile or broken input gets a clear error of a known type (or a
one-line CLI error and exit code), never a hang, a memory blow-up, a silent substitution or a
traceback, and leaves nothing behind."""

from __future__ import annotations

import io
import json
import math
import multiprocessing
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from _tiny import tiny_cifar
from PIL import Image

import alnumzoo
from alnumzoo import fit
from alnumzoo.cli import main
from alnumzoo.data import (
    Alnum52Folder,
    Alnum52Rendered,
    DatasetFormatError,
    UnsafeArrayError,
    load_image_array,
)
from alnumzoo.hub import WeightsIntegrityError
from alnumzoo.training import CheckpointError, load_checkpoint, save_checkpoint

# --------------------------------------------------------------------------- helpers


def _npy_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    holder = np.empty((), dtype=object)
    holder[()] = obj
    np.save(buf, holder, allow_pickle=True)
    return buf.getvalue()


class _AllocateWithoutData:
    """Pickles as a direct ``numpy.ndarray(shape, 'u1')`` call: memory with no data behind it."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape

    def __reduce__(self) -> tuple[object, tuple[object, ...]]:
        return (np.ndarray, (self.shape, "u1"))


def _course_tree(root: Path, write: Callable[[Path], None]) -> Path:
    """A course-layout root whose only file, train/41/0_41.npy, is made by ``write``."""
    folder = root / "train" / "41"
    folder.mkdir(parents=True)
    write(folder / "0_41.npy")
    return root


def _forged_header(path: Path) -> None:
    buf = io.BytesIO()
    np.save(buf, np.zeros((1, 10, 10), np.uint8))
    data = buf.getvalue().replace(b"(1, 10, 10)", b"(1, 9999, 9)")
    path.write_bytes(data)


def _truncated_npz(path: Path) -> None:
    buf = io.BytesIO()
    np.savez(buf, image=np.zeros((1, 100, 100), np.uint8))
    path.write_bytes(buf.getvalue()[:200])


def _nan_pixel(path: Path) -> None:
    image = np.full((1, 100, 100), 0.5, np.float32)
    image[0, 3, 4] = np.nan
    np.save(path, image)


def _inf_pixel(path: Path) -> None:
    image = np.full((1, 100, 100), 0.5, np.float32)
    image[0, 0, 0] = np.inf
    np.save(path, {"image": image}, allow_pickle=True)


READER_CASES: dict[str, tuple[Callable[[Path], None], type[Exception], str]] = {
    "symlink to /dev/zero": (
        lambda p: p.symlink_to("/dev/zero"), DatasetFormatError, "expected a regular file"),
    "fifo": (lambda p: os.mkfifo(p), DatasetFormatError, "expected a regular file"),
    "folder named like the file": (
        lambda p: p.mkdir(), DatasetFormatError, "expected a regular file, found a directory"),
    "pickle allocating 900 MB without data": (
        lambda p: p.write_bytes(_npy_bytes({"image": _AllocateWithoutData((1, 30000, 30000))})),
        UnsafeArrayError, r"numpy\.ndarray.*without data"),
    "pickle allocating 100x100 uninitialised": (
        lambda p: p.write_bytes(_npy_bytes({"image": _AllocateWithoutData((1, 100, 100))})),
        UnsafeArrayError, "without data"),
    "forged header": (_forged_header, DatasetFormatError, "truncated or forged"),
    "truncated npz": (_truncated_npz, DatasetFormatError, "not a readable .npy/.npz"),
    "nan pixel": (_nan_pixel, DatasetFormatError, r"1 pixel\(s\) are NaN or infinite"),
    "inf pixel in pickled dict": (_inf_pixel, DatasetFormatError, "NaN or infinite"),
    "empty file": (lambda p: p.write_bytes(b""), DatasetFormatError, "not a readable"),
    "missing file behind a dangling link": (
        lambda p: p.symlink_to(p.parent / "gone.npy"), DatasetFormatError, "cannot open"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(READER_CASES))
def test_course_reader_refuses(case: str, tmp_path: Path) -> None:
    write, error, message = READER_CASES[case]
    root = _course_tree(tmp_path / "data", write)
    start = time.perf_counter()
    with pytest.raises(error, match=message) as caught:
        Alnum52Folder(root, "train")
    assert "0_41.npy" in str(caught.value)  # the message names the file
    assert time.perf_counter() - start < 10  # no hang, no unbounded read


@pytest.mark.parametrize("case", ["truncated npz", "nan pixel", "symlink to /dev/zero"])
def test_cli_gives_one_line_for_bad_data(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _course_tree(tmp_path / "data", READER_CASES[case][0])
    (root / "valid").mkdir()
    shutil.copytree(root / "train" / "41", root / "valid" / "41", symlinks=True)
    assert main(["evaluate", "bottleneck_cnn.alnum52", "--data", f"alnum52:{root}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("alnumzoo evaluate: error: ")
    assert "0_41.npy" in err[0]


def test_oversized_file_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("alnumzoo.data.safe_npy.MAX_IMAGE_FILE_BYTES", 1000)
    np.save(tmp_path / "big.npy", np.zeros((1, 100, 100), np.uint8))
    with pytest.raises(DatasetFormatError, match=r"10,128 bytes is over the 1,000-byte limit"):
        load_image_array(tmp_path / "big.npy")


def test_manifest_missing_keys_names_them(tmp_path: Path) -> None:
    np.save(tmp_path / "images.npy", np.zeros((52, 8, 8), np.uint8))
    (tmp_path / "manifest.json").write_text(json.dumps({"splits": {"train": {"per_class": 1}}}))
    with pytest.raises(DatasetFormatError, match=r"manifest\.json: expected 'splits'.*'start'"):
        Alnum52Rendered(tmp_path, "train")
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(DatasetFormatError, match="not valid JSON"):
        Alnum52Rendered(tmp_path, "train")


# --------------------------------------------------------------------------- images


def _bomb(path: Path) -> None:
    Image.new("L", (12000, 12000)).save(path, optimize=True)  # 144 Mpx: over 2x Pillow's limit


IMAGE_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "decompression bomb": (_bomb, "decompression bomb"),
    "not an image": (lambda p: p.write_bytes(b"GIF89a broken"), "not a readable image"),
    "truncated png": (
        lambda p: (Image.new("L", (64, 64), 9).save(p), p.write_bytes(p.read_bytes()[:60])),
        "not a readable image"),
    "fifo": (lambda p: os.mkfifo(p), "expected a regular file"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(IMAGE_CASES))
def test_predict_refuses_bad_images_in_api_and_cli(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, message = IMAGE_CASES[case]
    path = tmp_path / "input.png"
    make(path)
    model = alnumzoo.from_pretrained("crnn.fashion_mnist")
    with pytest.raises(DatasetFormatError, match=message):
        alnumzoo.predict(model, path)
    assert main(["predict", "crnn.fashion_mnist", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert message.split()[0] in err[0]


def test_empty_image_object_is_refused() -> None:
    model = alnumzoo.from_pretrained("crnn.fashion_mnist")
    with pytest.raises(DatasetFormatError, match="empty"):
        alnumzoo.predict(model, Image.new("L", (0, 0)))


def test_sixteen_bit_and_float_images_keep_their_grey_level(tmp_path: Path) -> None:
    from alnumzoo.inference._predict import load_image

    Image.fromarray(np.full((28, 28), 32768, np.uint16)).save(tmp_path / "grey16.png")
    Image.fromarray(np.full((28, 28), 0.5, np.float32), mode="F").save(tmp_path / "half.tiff")
    for name in ("grey16.png", "half.tiff"):
        tensor, notes = load_image(tmp_path / name, {"input_size": [1, 28, 28]})
        assert float(tensor.mean()) == pytest.approx(0.5, abs=0.01), name
        assert any("8 bits" in n for n in notes)
    nan = np.full((28, 28), 0.5, np.float32)
    nan[0, 0] = np.nan
    Image.fromarray(nan, mode="F").save(tmp_path / "nan.tiff")
    with pytest.raises(DatasetFormatError, match="NaN"):
        load_image(tmp_path / "nan.tiff", {"input_size": [1, 28, 28]})


# --------------------------------------------------------------------------- hub


@pytest.fixture
def in_tmp_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_folder_named_like_a_registry_name_never_shadows_it(in_tmp_cwd: Path) -> None:
    torch.manual_seed(0)
    impostor = alnumzoo.create_model("crnn")
    alnumzoo.save_pretrained(impostor, in_tmp_cwd / "crnn.fashion_mnist")
    with pytest.warns(UserWarning, match=r"pass '\./crnn\.fashion_mnist' to load the folder"):
        model = alnumzoo.from_pretrained("crnn.fashion_mnist")
    assert model.load_report is not None
    assert model.load_report.source == "embedded"
    assert model.load_report.verified
    local = alnumzoo.from_pretrained("./crnn.fashion_mnist")
    assert local.load_report is not None
    assert local.load_report.source == "local"
    # A bare name that is not in the registry is not silently taken as a folder either.
    alnumzoo.save_pretrained(impostor, in_tmp_cwd / "mine")
    with pytest.raises(FileNotFoundError, match=r"spell it as a path: '\./mine'"):
        alnumzoo.from_pretrained("mine")


def _tampered_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit: Callable[[dict], None]
) -> None:  # type: ignore[type-arg]
    from alnumzoo.hub import resolve as hub_resolve

    original = hub_resolve.embedded_weights_dir("crnn.fashion_mnist")
    copy = tmp_path / "weights" / "crnn.fashion_mnist"
    shutil.copytree(original, copy)
    config = json.loads((copy / "config.json").read_text())
    edit(config)
    (copy / "config.json").write_text(json.dumps(config, indent=2))
    monkeypatch.setattr(
        hub_resolve, "embedded_weights_dir", lambda name: tmp_path / "weights" / name
    )


def test_config_is_inside_the_pin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def swap_labels(config: dict) -> None:  # type: ignore[type-arg]
        names = config["label_names"]
        names[5], names[4] = names[4], names[5]  # 'Sandal' <-> 'Coat'

    _tampered_copy(tmp_path, monkeypatch, swap_labels)
    with pytest.raises(WeightsIntegrityError, match=r"sha256 mismatch for .*config\.json"):
        alnumzoo.from_pretrained("crnn.fashion_mnist")


@pytest.mark.parametrize(
    ("init_args", "message"),
    [
        ({"checkpoint_path": "/etc/passwd"}, r"may not set \['checkpoint_path'\]"),
        ({"pretrained": True}, r"may not set \['pretrained'\]"),
        ({"no_such_argument": 1}, r"model_args \['no_such_argument'\] are not arguments of"),
        ({"hidden_size": "wide"}, "cannot build"),
    ],
)
def test_config_init_args_are_checked(
    init_args: dict[str, object], message: str, tmp_path: Path
) -> None:
    folder = alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["model_args"].update(init_args)
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message):
        alnumzoo.from_pretrained(folder)


def test_timm_config_cannot_fetch_or_read_files(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    folder = tmp_path / "m"
    folder.mkdir()
    save_file({"x": torch.zeros(1)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({
        "architecture": "efficientnet_b2",
        "init_args": {"num_classes": 3, "checkpoint_path": "/etc/shadow"},
    }))  # fmt: skip
    with pytest.raises(ValueError, match="checkpoint_path"):
        alnumzoo.from_pretrained(folder)


def test_strict_means_strict_for_the_head(tmp_path: Path) -> None:
    folder = alnumzoo.save_pretrained(alnumzoo.create_model("bottleneck_cnn"), tmp_path / "m")
    config = json.loads((folder / "config.json").read_text())
    config["num_classes"] = 10
    config["labels"] = config["label_names"] = None
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"shape mismatches .*fc2\.weight"):
        alnumzoo.from_pretrained(folder)
    with pytest.warns(UserWarning, match="re-initialised"):
        relaxed = alnumzoo.from_pretrained(folder, strict=False)
    assert relaxed.num_classes == 10


def test_push_uploads_only_the_saved_files(tmp_path: Path) -> None:
    folder = alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")
    (folder / ".model.safetensors.1.abc.tmp").write_bytes(b"x" * 100)
    (folder / "notes.txt").write_text("private")
    calls: list[dict[str, object]] = []

    class FakeApi:
        def create_repo(self, *args: object, **kwargs: object) -> None:
            pass

        def upload_folder(self, **kwargs: object) -> str:
            calls.append(kwargs)
            return "commit"

    alnumzoo.push_to_hub(folder, "me/model", api=FakeApi())  # type: ignore[arg-type]
    assert calls[0]["allow_patterns"] == ["model.safetensors", "config.json", "README.md"]


def test_saved_files_respect_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        folder = alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")
        save_checkpoint(tmp_path / "ck.pt", {"step": 1})
    finally:
        os.umask(old)
    for path in [*folder.iterdir(), tmp_path / "ck.pt"]:
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert folder.stat().st_mode & 0o777 == 0o755


def test_stale_temp_files_of_dead_writers_are_cleaned(tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale_ck = tmp_path / f".ck.pt.{dead}.abc123.tmp"
    stale_ck.write_bytes(b"x" * 1000)
    live_ck = tmp_path / f".ck.pt.{os.getpid()}.def456.tmp"  # a writer still running: kept
    live_ck.write_bytes(b"x")
    save_checkpoint(tmp_path / "ck.pt", {"step": 1})
    assert not stale_ck.exists()
    assert live_ck.exists()
    stale_dir = tmp_path / f".m.{dead}.xyz.partial"
    stale_dir.mkdir()
    (stale_dir / "model.safetensors").write_bytes(b"x" * 1000)
    alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")
    assert not stale_dir.exists()


def _save_forever(target: Path, ready: Any) -> None:
    torch.set_num_threads(1)  # a forked child must not enter the parent's OpenMP pool
    models = [alnumzoo.create_model("bottleneck_cnn"), alnumzoo.create_model("bottleneck_cnn")]
    with torch.no_grad():
        for p in models[1].parameters():
            p.add_(1.0)
    ready.set()
    i = 0
    while True:
        alnumzoo.save_pretrained(models[i % 2], target)
        i += 1


@pytest.mark.slow  # end to end: a killed process
def test_kill_during_save_leaves_a_loadable_folder_or_none(tmp_path: Path) -> None:
    # Forked writers start at once (torch is already imported), so 20 kills take seconds.
    context = multiprocessing.get_context("fork")
    target = tmp_path / "model"
    rng = np.random.default_rng(0)
    for _ in range(20):
        ready = context.Event()
        writer = context.Process(target=_save_forever, args=(target, ready))
        writer.start()
        assert ready.wait(30)
        time.sleep(float(rng.uniform(0.0, 0.3)))
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        if target.exists():
            model = alnumzoo.from_pretrained(target)  # complete: loads with strict checks
            assert model.load_report is not None
    # The next save removes whatever the killed writers left behind.
    alnumzoo.save_pretrained(alnumzoo.create_model("bottleneck_cnn"), target)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "model"]
    assert leftovers == []
    assert sorted(p.name for p in target.iterdir()) == [
        "README.md", "config.json", "model.safetensors",
    ]  # fmt: skip


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"max_steps": 0}, "max_steps must be a positive integer"),
        ({"eval_every": 0}, "eval_every must be a positive integer"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"eval_batch_size": -1}, "eval_batch_size must be a positive integer"),
        ({"workers": -1}, "workers must be a non-negative integer"),
        ({"devices": 0}, "devices must be a positive integer"),
        ({"lr": math.nan}, "lr must be a positive, finite number"),
        ({"lr": -0.1}, "lr must be a positive, finite number"),
        ({"reserve": math.inf}, "reserve must be a non-negative, finite"),
        ({"budget": math.inf}, "budget must be a positive, finite"),
        ({"budget": "inf"}, "budget must be"),
        ({"target": 1.5}, r"target is an accuracy in \(0, 1\]"),
    ],
)
def test_fit_validates_every_number(
    kwargs: dict[str, object], message: str, tmp_path: Path
) -> None:
    ck = tmp_path / "ck.pt"
    with pytest.raises(ValueError, match=message):
        fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(32), checkpoint=ck,
            progress=False, **kwargs)  # type: ignore[arg-type]  # fmt: skip
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_fit_refuses_a_model_that_does_not_fit_the_classes(tmp_path: Path) -> None:
    model = alnumzoo.create_model("cifar_cnn", num_classes=4)
    with pytest.raises(ValueError, match="the model has 4 outputs but the training data has 10"):
        fit(model, tiny_cifar(32), epochs=1, progress=False)


def test_fit_refuses_an_empty_validation_set() -> None:
    empty = tiny_cifar(10).subset(torch.arange(0))
    with pytest.raises(ValueError, match="the validation set is empty"):
        fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(32), empty, epochs=1, progress=False)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"batch_size": 16}, "batch_size: 32 then, 16 now"),
        ({"lr": 0.01}, "lr: "),
        ({"data": 48}, "train_size: 64 then, 48 now"),
        ({"data_seed": 1}, "train_fingerprint"),
    ],
)
def test_resume_refuses_a_changed_run(
    change: dict[str, int | float], message: str, tmp_path: Path
) -> None:
    ck = tmp_path / "ck.pt"
    base: dict[str, object] = {"epochs": 3, "batch_size": 32, "checkpoint": ck, "progress": False}
    torch.manual_seed(0)
    fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(64), max_steps=1, **base)  # type: ignore[arg-type]
    data = tiny_cifar(int(change.get("data", 64)), seed=int(change.get("data_seed", 0)))
    kwargs = {**base, **{k: v for k, v in change.items() if k in ("batch_size", "lr")}}
    with pytest.raises(CheckpointError, match=message):
        fit(alnumzoo.create_model("cifar_cnn"), data, resume=ck, max_steps=2, **kwargs)  # type: ignore[arg-type]
    history = fit(alnumzoo.create_model("cifar_cnn"), data, resume=ck, max_steps=2,
                  resume_anyway=True, **kwargs)  # type: ignore[arg-type]  # fmt: skip
    assert history.steps == 2
    if "lr" in change:  # the run goes on at the new rate, as the checkpoint then records
        state = load_checkpoint(ck)
        assert state["run"]["lr"] == change["lr"]
        assert set(state["scheduler"]["base_lrs"]) == {change["lr"]}
        rates = [g["lr"] for g in state["optimizer"]["param_groups"]]
        assert rates == pytest.approx(state["scheduler"]["_last_lr"])
        assert 0 < max(rates) <= change["lr"]  # the old base rate would give 0.0175 here


# --------------------------------------------------------------------------- CLI


def test_cli_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    usage_errors = [
        ["predict", "crnn.fashion_mnist", "x.png", "--topk", "0"],
        ["evaluate", "crnn.fashion_mnist", "--data", "fashion-mnist", "--batch-size", "-3"],
    ]
    for argv in usage_errors:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
        assert "expected a positive integer" in capsys.readouterr().err


def _cifar_root(tmp_path: Path) -> Path:
    data = tiny_cifar(20)
    for split in ("train", "test"):
        for i in range(len(data)):
            folder = tmp_path / "cifar" / split / alnumzoo.CIFAR10.names[int(data.targets[i])]
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(data.images[i].permute(1, 2, 0).numpy()).save(folder / f"{i}.png")
    return tmp_path / "cifar"


def test_cli_train_errors_are_one_line_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _cifar_root(tmp_path)
    out = tmp_path / "out"
    # A 10-class CIFAR model on CIFAR is fine; a 52-class one is refused before training.
    code = main(["train", "bottleneck_cnn", "--data", f"cifar10:{root}", "--epochs", "1",
                 "--out", str(out), "--quiet"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "the model has 52 outputs but the training data has 10 classes" in err[0]
    assert main(["evaluate", "bottleneck_cnn.alnum52", "--data", f"cifar10:{root}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "the model has 52 outputs but the evaluation data has 10 classes" in err[0]
    assert not out.exists()
    code = main(["train", "cifar_cnn", "--data", f"cifar10:{root}", "--epochs", "1",
                 "--out", str(out), "--resume", "--quiet"])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "no checkpoint at" in err[0]
    assert not out.exists()


def test_truncated_npz_through_the_public_reader(tmp_path: Path) -> None:
    _truncated_npz(tmp_path / "x.npz")
    with pytest.raises(DatasetFormatError, match=r"x\.npz is not a readable"):
        load_image_array(tmp_path / "x.npz")
    with zipfile.ZipFile(tmp_path / "other.npz", "w") as archive:
        archive.writestr("label.npy", b"")
    with pytest.raises(UnsafeArrayError, match="expected an 'image' array"):
        load_image_array(tmp_path / "other.npz")


def test_pickle_needing_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps({"image": Exploit()})
    assert b"system" in payload
    (tmp_path / "evil.npy").write_bytes(_npy_bytes({"image": Exploit()}))
    with pytest.raises(UnsafeArrayError, match="refusing to unpickle"):
        load_image_array(tmp_path / "evil.npy")
    assert not marker.exists()


# --- Weights folders that load and then fail, or fail raw (second hostile round) -------------


def _saved_crnn(tmp_path: Path) -> Path:
    return alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")


def _edit_config(folder: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    config = json.loads((folder / "config.json").read_text())
    change(config)
    (folder / "config.json").write_text(json.dumps(config))


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("uint8", "tensors of the wrong kind"),
        ("bool", "tensors of the wrong kind"),
        ("nan", "NaN or infinite"),
        ("inf", "NaN or infinite"),
    ],
)
def test_weights_of_the_wrong_kind_or_not_finite_are_refused(
    case: str, expected: str, tmp_path: Path
) -> None:
    from safetensors.torch import load_file, save_file

    folder = _saved_crnn(tmp_path)
    state = load_file(str(folder / "model.safetensors"))
    key = "fc.weight"
    if case == "uint8":
        state[key] = state[key].to(torch.uint8)
    elif case == "bool":
        state[key] = state[key] > 0
    else:
        state[key][0, 0] = float(case)
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ValueError, match=expected):
        alnumzoo.from_pretrained(folder)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda c: c.update(num_classes=10**9), r"num_classes must be an integer"),
        (lambda c: c.update(num_classes=-3), r"num_classes must be an integer"),
        (lambda c: c["model_args"].update(input_size=[1e300, 28]), r"input_size must be an"),
        (lambda c: c["model_args"].update(input_size=[2000, 2000, 5] * 10), r"has 30 entries"),
        (lambda c: c["model_args"].update(in_chans="3"), r"in_chans must be an integer"),
        (lambda c: c.update(labels=["a", "b"]), r"'labels' must be an object"),
        (lambda c: c.update(labels="abc"), r"'labels' must be an object"),
        (lambda c: c["labels"].update(folders=7), r"'folders' must be a list of strings"),
    ],
)
def test_configs_that_would_allocate_or_crash_are_refused(
    change: Callable[[dict[str, Any]], Any], expected: str, tmp_path: Path
) -> None:
    folder = _saved_crnn(tmp_path)
    _edit_config(folder, change)
    with pytest.raises(ValueError, match=expected):
        alnumzoo.from_pretrained(folder)


def test_config_files_too_large_deep_or_not_utf8_are_refused(tmp_path: Path) -> None:
    folder = _saved_crnn(tmp_path)
    config = folder / "config.json"
    config.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        alnumzoo.from_pretrained(folder)
    config.write_bytes(b'{"architecture": "crnn\xff\xfe"}')
    with pytest.raises(ValueError, match=r"expected an alnumzoo config\.json"):
        alnumzoo.from_pretrained(folder)
    config.write_text(json.dumps({"architecture": "crnn", "pad": "x" * (2 << 20)}))
    with pytest.raises(ValueError, match=r"a config\.json is at most 1,048,576"):
        alnumzoo.from_pretrained(folder)


def test_path_spellings_mean_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing_model is not a folder"):
        alnumzoo.from_pretrained("./missing_model")
    monkeypatch.setenv("HOME", str(tmp_path))
    _saved_crnn(tmp_path)
    assert alnumzoo.from_pretrained("~/m").arch == "crnn"


# --- Resume: damaged or edited checkpoints fail before anything is restored -----------------


def _checkpointed_run(tmp_path: Path) -> Path:
    ck = tmp_path / "ck.pt"
    fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(64), epochs=1, batch_size=32,
        checkpoint=ck, progress=False)  # fmt: skip
    return ck


def test_checkpoint_with_damaged_bytes_fails_its_crc(tmp_path: Path) -> None:
    ck = _checkpointed_run(tmp_path)
    data = bytearray(ck.read_bytes())
    with zipfile.ZipFile(ck) as archive:
        member = max(archive.infolist(), key=lambda m: m.file_size)
    start = member.header_offset + 30 + len(member.filename) + len(member.extra) + 64
    data[start : start + 64] = bytes(64)
    ck.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="fails its CRC check"):
        fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(64), epochs=2, batch_size=32,
            checkpoint=ck, resume=True, progress=False)  # fmt: skip


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s.pop("rng"), r"has no 'rng'"),
        (lambda s: s.pop("spent_s"), r"has no 'spent_s'"),
        (lambda s: s.update(step="abc"), r"'step' must be a step >= 0"),
        (lambda s: s.update(spent_s=float("nan")), r"'spent_s' must be a finite number"),
        (lambda s: s.update(spent_s=-1e9), r"'spent_s' must be a finite number"),
        (lambda s: s.update(best_state={"x": "not a tensor"}), r"'best_state' must be"),
        (
            lambda s: s["model"].update(
                {"fc3.weight": torch.zeros(4, 50), "fc3.bias": torch.zeros(4)}
            ),
            r"the checkpoint's model does not fit this model",
        ),
    ],
)
def test_edited_checkpoints_are_refused_by_field(
    edit: Callable[[dict[str, Any]], Any], expected: str, tmp_path: Path
) -> None:
    ck = _checkpointed_run(tmp_path)
    state = torch.load(ck, weights_only=True)
    edit(state)
    save_checkpoint(ck, {k: v for k, v in state.items() if k != "format"})
    started = time.monotonic()
    with pytest.raises(CheckpointError, match=expected):
        fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(64), budget=5, batch_size=32,
            checkpoint=ck, resume=True, progress=False)  # fmt: skip
    assert time.monotonic() - started < 30


def test_checkpoint_path_that_is_a_folder_fails_before_training(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a folder; give a file path"):
        fit(alnumzoo.create_model("cifar_cnn"), tiny_cifar(64), epochs=1, checkpoint=tmp_path)


class _LabelledList(torch.utils.data.Dataset[tuple[torch.Tensor, int]]):
    def __init__(self, labels: list[int]) -> None:
        self.labels_list = labels

    def __len__(self) -> int:
        return len(self.labels_list)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return torch.rand(3, 32, 32), self.labels_list[i]


@pytest.mark.parametrize("bad", [-1, -100, 10, 12])
def test_out_of_range_labels_are_named_at_the_data_boundary(bad: int) -> None:
    data = _LabelledList([0, 1, 2, bad, 4, 5, 6, 7])
    with pytest.raises(ValueError, match=rf"label {bad} in the training data is outside \[0, 10\)"):
        fit(alnumzoo.create_model("cifar_cnn"), data, epochs=1, batch_size=4, progress=False)
    images = torch.rand(8, 3, 32, 32)
    targets = torch.tensor([0, 1, 2, bad, 4, 5, 6, 7])
    with pytest.raises(ValueError, match=rf"label {bad} in the evaluation data is outside"):
        alnumzoo.evaluate(alnumzoo.create_model("cifar_cnn"), (images, targets))


# --- Disks and links ------------------------------------------------------------------------


def test_save_through_a_folder_link_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "v1"
    real.mkdir()
    link = tmp_path / "latest"
    link.symlink_to(real)
    alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), link)
    assert link.is_symlink()
    assert (real / "model.safetensors").is_file()
    assert not [p.name for p in tmp_path.iterdir() if p.name not in ("v1", "latest")]
    assert alnumzoo.from_pretrained(link).arch == "crnn"


def test_save_into_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    here = tmp_path / "work"
    here.mkdir()
    (here / "notes.txt").write_text("mine")
    monkeypatch.chdir(here)
    alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), ".")
    assert Path.cwd() == here  # the folder was not swapped out from under the process
    assert (here / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in here.iterdir()) == [
        "README.md", "config.json", "model.safetensors", "notes.txt"
    ]  # fmt: skip
    assert alnumzoo.from_pretrained("./").arch == "crnn"


def test_a_full_disk_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from safetensors import SafetensorError

    def full(*args: object, **kwargs: object) -> None:
        raise SafetensorError("No space left on device (os error 28)")

    monkeypatch.setattr("alnumzoo.hub.save.save_file", full)
    with pytest.raises(OSError, match=r"cannot write .*m/model\.safetensors: No space left"):
        alnumzoo.save_pretrained(alnumzoo.create_model("crnn"), tmp_path / "m")
    assert not list(tmp_path.iterdir())  # nothing half-written left behind


@pytest.mark.slow  # end to end: two processes
def test_concurrent_saves_to_one_folder_all_succeed(tmp_path: Path) -> None:
    script = (
        "import sys, alnumzoo\n"
        "m = alnumzoo.create_model('crnn')\n"
        "for _ in range(15):\n"
        "    alnumzoo.save_pretrained(m, sys.argv[1])\n"
    )
    command = [sys.executable, "-c", script, str(tmp_path / "m")]
    procs = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    errors = [p.communicate(timeout=300)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert alnumzoo.from_pretrained(tmp_path / "m").arch == "crnn"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]



def test_a_huge_or_headerless_weights_file_is_refused_before_hashing(tmp_path: Path) -> None:
    folder = _saved_crnn(tmp_path)
    weights = folder / "model.safetensors"
    weights.unlink()
    huge = tmp_path / "sparse.bin"
    with open(huge, "wb") as f:
        f.truncate(20 << 30)  # 20 GiB, sparse: hashing it would read 20 GiB of zeros
    weights.symlink_to(huge)
    started = time.monotonic()
    with pytest.raises(ValueError, match=r"is 21,474,836,480 bytes; weights in this zoo"):
        alnumzoo.from_pretrained(folder)
    assert time.monotonic() - started < 5
    weights.unlink()
    weights.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        alnumzoo.from_pretrained(folder)


def test_a_folder_named_in_non_utf8_bytes_saves_and_loads(tmp_path: Path) -> None:
    """A folder whose name is bytes from another locale (not UTF-8) round-trips; the card shows
    the name with escapes."""
    folder = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9_model"))
    try:
        folder.mkdir()
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses non-UTF-8 names")
    torch.manual_seed(0)
    model = alnumzoo.create_model("cifar_cnn")
    alnumzoo.save_pretrained(model, folder)
    loaded = alnumzoo.from_pretrained(folder)
    for key, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    assert "./caf\\xe9_model" in (folder / "README.md").read_text(encoding="utf-8")
