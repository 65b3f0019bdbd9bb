"""save_pretrained / from_pretrained / push_to_hub: round trips, adaptation, strictness,
integrity and offline behaviour, on real Hugging Face cache layouts."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import load_file, save_file

import alnumzoo
from alnumzoo import ALNUM52, BottleneckCNN, LiteResNet, ZooModel
from alnumzoo.hub import WeightsIntegrityError, sha256_file
from alnumzoo.models import registry
from alnumzoo.models.registry import HubWeights

SMALL = ["bottleneck_cnn", "lite_resnet", "crnn", "cifar_cnn", "efficientnet_b2"]


def _trained(name: str) -> ZooModel:
    torch.manual_seed(1)
    model = alnumzoo.create_model(name)
    assert isinstance(model, ZooModel)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
        for b in model.buffers():
            if b.dtype.is_floating_point:
                b.add_(0.1)
    return model.eval()


def _input(model: ZooModel) -> torch.Tensor:
    h, w = model.input_size or (64, 64)
    return torch.rand(3, model.in_chans, h, w)


@pytest.mark.parametrize("name", SMALL)
def test_round_trip_every_architecture(name: str, tmp_path: Path) -> None:
    model = _trained(name)
    folder = alnumzoo.save_pretrained(model, tmp_path / name)
    assert sorted(p.name for p in folder.iterdir()) == [
        "README.md",
        "config.json",
        "model.safetensors",
    ]
    config = json.loads((folder / "config.json").read_text())
    assert config["architecture"] == model.arch
    # Each fact once, in timm's keys: the class count beside the constructor arguments.
    rebuilt = {**config["model_args"], "num_classes": config["num_classes"]}
    assert rebuilt == json.loads(json.dumps(model.init_args))
    assert "num_classes" not in config["pretrained_cfg"]
    assert config["label_names"] == (list(model.labels.names) if model.labels else None)
    assert config["pretrained_cfg"]["std"] == [1.0] * model.in_chans  # normalisation is inside
    loaded = alnumzoo.from_pretrained(folder)
    assert type(loaded) is type(model)
    assert not loaded.training
    assert loaded.labels == model.labels
    assert loaded.record == model.record  # the typed record is read back, not recomputed
    x = _input(model)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    report = loaded.load_report
    assert report.source == "local"
    assert report.sha256 == sha256_file(folder / "model.safetensors")
    assert report.adapted == []


def test_model_card_and_classmethods(tmp_path: Path) -> None:
    model = _trained("bottleneck_cnn")
    model.save_pretrained(tmp_path / "m")
    card = (tmp_path / "m" / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: alnumzoo\nlicense: mit")
    assert "## Intended use and limits" in card
    assert "366,792 parameters" in card
    assert isinstance(BottleneckCNN.from_pretrained(tmp_path / "m"), BottleneckCNN)
    with pytest.raises(TypeError, match="holds a BottleneckCNN, not a LiteResNet"):
        LiteResNet.from_pretrained(tmp_path / "m")


def test_new_head_keeps_backbone_and_shared_label_rows(tmp_path: Path) -> None:
    model = _trained("bottleneck_cnn")
    model.save_pretrained(tmp_path / "m")
    with pytest.warns(UserWarning, match="head fc2 re-initialised for 10 classes"):
        digits = alnumzoo.from_pretrained(tmp_path / "m", labels=list("0123456789"))
    assert digits.num_classes == 10
    assert torch.equal(digits.layer2[3].weight, model.layer2[3].weight)
    assert torch.equal(digits.fc2.weight, model.fc2.weight[:10])  # digits are rows 0..9
    assert "kept the pretrained rows of 10 shared labels" in digits.load_report.adapted[0]
    mixed = alnumzoo.from_pretrained(tmp_path / "m", labels=["a", "new", "Z"])
    assert torch.equal(mixed.fc2.weight[0], model.fc2.weight[ALNUM52.index("a")])
    assert torch.equal(mixed.fc2.weight[2], model.fc2.weight[ALNUM52.index("Z")])
    assert not torch.equal(mixed.fc2.weight[1], model.fc2.weight[1])
    fresh = alnumzoo.from_pretrained(tmp_path / "m", num_classes=5)
    assert fresh.fc2.out_features == 5
    assert fresh.labels is None


def test_in_chans_adapts_first_conv(tmp_path: Path) -> None:
    model = _trained("lite_resnet")
    model.save_pretrained(tmp_path / "m")
    with pytest.warns(UserWarning, match="first conv conv1 adapted from 1 to 3"):
        rgb = alnumzoo.from_pretrained(tmp_path / "m", in_chans=3)
    assert rgb.conv1.weight.shape[1] == 3
    gray = torch.rand(2, 1, 90, 90)
    with torch.no_grad():
        # Repeating the grey channel over RGB gives the same features (weights split 3 ways).
        assert torch.allclose(rgb(gray.repeat(1, 3, 1, 1)), model(gray), atol=1e-4)


def test_strict_errors_list_the_keys(tmp_path: Path) -> None:
    _trained("cifar_cnn").save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    state = load_file(str(weights))
    del state["fc3.bias"]
    state["extra.weight"] = torch.zeros(1)
    state["fc1.weight"] = torch.zeros(3, 3)
    save_file(state, str(weights))
    with pytest.raises(ValueError, match=r"missing keys \['fc3.bias'\]") as exc:
        alnumzoo.from_pretrained(tmp_path / "m")
    assert "unexpected keys ['extra.weight']" in str(exc.value)
    assert "fc1.weight: file (3, 3) vs model (100, 2048)" in str(exc.value)


def test_corrupt_and_pickle_files(tmp_path: Path) -> None:
    model = _trained("crnn")
    model.save_pretrained(tmp_path / "m")
    weights = tmp_path / "m" / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        alnumzoo.from_pretrained(tmp_path / "m")
    weights.write_text("hello")
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        alnumzoo.from_pretrained(tmp_path / "m")
    torch.save(model.state_dict(), tmp_path / "m" / "model.pth")
    with pytest.raises(ValueError, match="allow_pickle_formats=True"):
        alnumzoo.from_pretrained(tmp_path / "m", weights_name="model.pth")
    loaded = alnumzoo.from_pretrained(
        tmp_path / "m", weights_name="model.pth", allow_pickle_formats=True
    )
    x = torch.rand(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    with pytest.raises(FileNotFoundError, match=r"expected config\.json"):
        alnumzoo.from_pretrained(tmp_path)


def _cache_repo(cache: Path, repo_id: str, commit: str, folder: Path) -> None:
    """Lay out a repository exactly as huggingface_hub's cache stores it."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    shutil.copytree(folder, repo / "snapshots" / commit)


COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def cached_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, ZooModel, str]:
    model = _trained("bottleneck_cnn")
    model.save_pretrained(tmp_path / "src")
    cache = tmp_path / "cache"
    _cache_repo(cache, "alnumzoo/test-bcnn", COMMIT, tmp_path / "src")
    digest = sha256_file(tmp_path / "src" / "model.safetensors")
    entry = replace(
        alnumzoo.get_model_entry("bottleneck_cnn.alnum52"),
        name="bottleneck_cnn.unit_test",
        weights=HubWeights("alnumzoo/test-bcnn", COMMIT, digest),
    )
    monkeypatch.setitem(registry._REGISTRY, entry.name, entry)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache, model, digest


def test_registry_name_loads_offline_from_cache_verified(
    cached_repo: tuple[Path, ZooModel, str],
) -> None:
    cache, model, digest = cached_repo
    loaded = alnumzoo.from_pretrained("bottleneck_cnn.unit_test", cache_dir=cache)
    report = loaded.load_report
    assert (report.source, report.location, report.revision) == (
        "registry",
        "alnumzoo/test-bcnn",
        COMMIT,
    )
    assert report.verified
    assert report.sha256 == digest
    x = torch.rand(2, 1, 100, 100)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    via_create = alnumzoo.create_model("bottleneck_cnn.unit_test", pretrained=True, cache_dir=cache)
    assert via_create.load_report.verified
    assert "bottleneck_cnn.unit_test" in alnumzoo.list_models(pretrained=True)
    by_repo = alnumzoo.from_pretrained(f"alnumzoo/test-bcnn@{COMMIT}", cache_dir=cache)
    assert by_repo.load_report.source == "hub"
    assert by_repo.load_report.revision == COMMIT
    assert not by_repo.load_report.verified


def test_sha256_mismatch_names_both_digests(cached_repo: tuple[Path, ZooModel, str]) -> None:
    cache, _, digest = cached_repo
    cached = next(cache.rglob("model.safetensors"))
    state = load_file(str(cached))
    state["fc2.bias"] = state["fc2.bias"] + 1
    save_file(state, str(cached))
    with pytest.raises(WeightsIntegrityError) as exc:
        alnumzoo.from_pretrained("bottleneck_cnn.unit_test", cache_dir=cache)
    message = str(exc.value)
    assert digest in message
    assert sha256_file(cached) in message
    assert str(cached) in message


def test_offline_without_cache_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError) as exc:
        alnumzoo.from_pretrained("someorg/missing-model", cache_dir=tmp_path)
    message = str(exc.value)
    assert "config.json of someorg/missing-model" in message
    assert "hf download someorg/missing-model config.json" in message
    with pytest.raises(FileNotFoundError, match="no pretrained weights are published"):
        alnumzoo.from_pretrained("crnn")
    with pytest.raises(FileNotFoundError, match="not a folder, a registry name or a Hub"):
        alnumzoo.from_pretrained("not a repo/with spaces here")


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def create_repo(self, repo_id: str, **kwargs: Any) -> None:
        self.calls.append(("create_repo", {"repo_id": repo_id, **kwargs}))

    def upload_folder(self, **kwargs: Any) -> str:
        files = sorted(p.name for p in Path(kwargs["folder_path"]).iterdir())
        self.calls.append(("upload_folder", {**kwargs, "files": files}))
        return "commit-info"


def test_push_to_hub_creates_repo_and_uploads(tmp_path: Path) -> None:
    api = FakeApi()
    result = alnumzoo.push_to_hub(
        _trained("crnn"),
        "me/crnn",
        private=True,
        revision="dev",
        commit_message="hi",
        api=api,  # type: ignore[arg-type]
    )
    assert result == "commit-info"
    (create, create_kw), (upload, upload_kw) = api.calls
    assert create == "create_repo"
    assert create_kw["repo_id"] == "me/crnn"
    assert create_kw["private"] is True
    assert create_kw["exist_ok"] is True
    assert upload == "upload_folder"
    assert upload_kw["files"] == ["README.md", "config.json", "model.safetensors"]
    assert (upload_kw["revision"], upload_kw["commit_message"]) == ("dev", "hi")
    with pytest.raises(FileNotFoundError, match=r"expected model\.safetensors"):
        alnumzoo.push_to_hub(tmp_path, "me/x", api=api)  # type: ignore[arg-type]


def test_rgb_stem_to_grey_sums_channels(tmp_path: Path) -> None:
    model = _trained("cifar_cnn")
    model.save_pretrained(tmp_path / "m")
    with pytest.warns(UserWarning, match="from 3 to 1 input channels"):
        grey = alnumzoo.from_pretrained(tmp_path / "m", in_chans=1)
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        assert torch.allclose(grey(x), model(x.repeat(1, 3, 1, 1)), atol=1e-4)


def test_timm_imagenet_variant_goes_through_timm(monkeypatch: pytest.MonkeyPatch) -> None:
    """``efficientnet_b2.ra_in1k`` is timm's to load: from_pretrained asks the builder for
    ``pretrained=True`` (timm downloads) and keeps the requested head."""
    from alnumzoo.models import registry

    calls: list[dict[str, object]] = []

    def fake_builder(**kwargs: object) -> alnumzoo.EfficientNetB2:
        calls.append(kwargs)
        return alnumzoo.EfficientNetB2(num_classes=int(kwargs["num_classes"]))  # type: ignore[call-overload]

    entry = registry._REGISTRY["efficientnet_b2.ra_in1k"]
    monkeypatch.setitem(registry._REGISTRY, entry.name, replace(entry, builder=fake_builder))
    # As if timm's file were in the Hugging Face cache (offline, nothing else is tried).
    monkeypatch.setattr(
        "huggingface_hub.try_to_load_from_cache", lambda repo, name: f"/cache/{repo}/{name}"
    )
    model = alnumzoo.from_pretrained("efficientnet_b2.ra_in1k", num_classes=7)
    assert calls == [{"normalize": True, "num_classes": 7, "pretrained": True}]
    assert model.num_classes == 7
    assert model.load_report is not None
    assert model.load_report.source == "timm"
    assert not model.training


def test_revision_on_a_registry_name_is_not_ignored(tmp_path: Path) -> None:
    # Another revision than the pin cannot come from the package copy: it is fetched from the
    # Hub (here: offline, nothing cached), and the error says which revision was asked for.
    with pytest.raises(FileNotFoundError, match=r"revision v0\.0\.1.*hf download"):
        alnumzoo.from_pretrained(
            "crnn.fashion_mnist", revision="v0.0.1", local_files_only=True, cache_dir=tmp_path
        )
    # Even the pin's own branch name goes to the Hub: "main" moves, the shipped copy does not.
    with pytest.raises(FileNotFoundError, match=r"revision main.*hf download"):
        alnumzoo.from_pretrained(
            "crnn.fashion_mnist", revision="main", local_files_only=True, cache_dir=tmp_path
        )


def test_push_names_the_repository_in_the_card_and_the_model_can_push_itself() -> None:
    uploads: list[dict[str, str]] = []

    class FakeApi:
        def create_repo(self, *args: object, **kwargs: object) -> None:
            pass

        def upload_folder(self, **kwargs: object) -> str:
            folder = Path(str(kwargs["folder_path"]))
            uploads.append(
                {p.name: p.read_text() for p in folder.iterdir() if p.suffix != ".safetensors"}
            )
            return "commit"

    model = alnumzoo.create_model("crnn")
    model.push_to_hub("me/crnn-fashion", api=FakeApi())
    card = uploads[0]["README.md"]
    assert 'alnumzoo.from_pretrained("me/crnn-fashion")' in card
    assert "<org>" not in card
    assert "\n# me/crnn-fashion\n" in card
    config = json.loads(uploads[0]["config.json"])
    assert config["pretrained_cfg"]["input_size"] == [1, 28, 28]


def test_card_of_a_trained_model_has_its_numbers(tmp_path: Path) -> None:
    from alnumzoo.hub.save import model_card

    model = alnumzoo.create_model("crnn")
    card = model_card(
        model,
        repo_id="me/x",
        datasets=("fashion_mnist",),
        metrics={"top1": 91.25},
        eval_split="test",
        recipe="`default` recipe",
    )
    text = str(card)
    assert card.data.to_dict()["model-index"][0]["results"][0]["metrics"][0]["value"] == 91.25
    assert "| top1 | 91.25 |" in text
    assert "`default` recipe" in text
    assert "Not evaluated" not in text


@pytest.mark.parametrize(
    ("name", "revision", "expected"),
    [
        ("org/name@../../../tmp/x", None, "is not a Hub revision"),
        ("org/name", "../../../tmp/x", "is not a Hub revision"),
        ("lite_resnet.alnum52_48", "../escape", "is not a Hub revision"),
        ("org/name@refs/../../x", None, "is not a Hub revision"),
        ("org/name@.git", None, "is not a Hub revision"),
        ("o" * 200 + "/name", None, "is not a Hub repository id"),
        ("org/na..me", None, "is not a Hub repository id"),
    ],
)
def test_hub_references_are_checked_before_any_request(
    name: str, revision: str | None, expected: str, tmp_path: Path
) -> None:
    # Nothing listens on this endpoint: a request would fail with a connection error, so the
    # ValueError shows the reference was refused before any.
    with pytest.raises(ValueError, match=expected):
        alnumzoo.from_pretrained(
            name, revision=revision, cache_dir=tmp_path, endpoint="http://127.0.0.1:9"
        )
    assert not any(tmp_path.rglob("*"))


def test_an_unreachable_hub_fails_at_once_in_one_line(tmp_path: Path) -> None:
    import time

    from alnumzoo.hub.resolve import hub_reachable

    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    assert not hub_reachable(dead)
    started = time.monotonic()
    with pytest.raises(FileNotFoundError, match=r"\(no connection\)\. With network, run: hf"):
        alnumzoo.from_pretrained(
            "someorg/somemodel", cache_dir=tmp_path, endpoint=dead, local_files_only=False
        )
    with pytest.raises(FileNotFoundError, match="timm's weights timm/efficientnet_b2"):
        alnumzoo.from_pretrained("efficientnet_b2.ra_in1k")
    assert time.monotonic() - started < 10


def test_a_server_etag_that_is_not_a_hash_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import http.server
    import threading

    import huggingface_hub.constants

    # conftest keeps huggingface_hub offline; this test talks to 127.0.0.1 only.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)

    class Evil(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("X-Repo-Commit", "a" * 40)
            self.send_header("ETag", '"../../../../escaped"')
            self.send_header("Content-Length", "10")
            self.end_headers()

        do_GET = do_HEAD  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with pytest.raises(ValueError, match="is not a content hash"):
            alnumzoo.from_pretrained(
                "org/name", endpoint=endpoint, cache_dir=tmp_path / "hf", local_files_only=False
            )
    finally:
        server.shutdown()
    assert not list(tmp_path.rglob("*escaped*"))
