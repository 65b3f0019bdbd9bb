"""Weights on the Hugging Face Hub: save, load (verified, offline-safe) and push."""

from alnumzoo.hub.config import CONFIG_NAME, WEIGHTS_NAME, build_from_config, model_config
from alnumzoo.hub.files import WeightsIntegrityError, sha256_file, verify_sha256
from alnumzoo.hub.load import LoadReport, from_pretrained, load_state_file
from alnumzoo.hub.push import push_to_hub
from alnumzoo.hub.save import model_card, save_pretrained

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
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
