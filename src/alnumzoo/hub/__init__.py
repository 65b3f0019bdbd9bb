"""Weights on the Hugging Face Hub: save, load (verified, offline-safe) and push."""

from alnumzoo.hub.config import CONFIG_NAME, WEIGHTS_NAME, build_from_config, model_config
from alnumzoo.hub.files import WeightsIntegrityError, sha256_file, verify_sha256
from alnumzoo.hub.load import from_pretrained, load_state_file
from alnumzoo.hub.push import push_to_hub
from alnumzoo.hub.save import model_card, save_pretrained
from alnumzoo.hub.transfer import DownloadRefusedError
from alnumzoo.models.base import connect_hub
from alnumzoo.models.provenance import LoadReport

connect_hub(
    from_pretrained=from_pretrained, save_pretrained=save_pretrained, push_to_hub=push_to_hub
)

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "DownloadRefusedError",
    "LoadReport",
    "WeightsIntegrityError",
    "build_from_config",
    "from_pretrained",
    "load_state_file",
    "model_card",
    "model_config",
    "push_to_hub",
    "save_pretrained",
    "sha256_file",
    "verify_sha256",
]
