"""Upload a saved model folder to the Hugging Face Hub."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alnumzoo.hub.config import CONFIG_NAME, SAVED_FILES, WEIGHTS_NAME
from alnumzoo.hub.resolve import hub_reachable
from alnumzoo.hub.save import model_card, save_pretrained
from alnumzoo.models.base import ZooModel

if TYPE_CHECKING:
    from huggingface_hub import HfApi

__all__ = ["push_to_hub"]


def push_to_hub(
    model_or_dir: ZooModel | str | Path,
    repo_id: str,
    *,
    token: str | None = None,
    private: bool = False,
    revision: str | None = None,
    commit_message: str = "Upload alnumzoo model",
    api: HfApi | None = None,
) -> Any:
    """Create ``repo_id`` if needed and upload a model (saved first) or a saved folder.

    Uses ``HfApi.create_repo(exist_ok=True)`` then ``HfApi.upload_folder``, uploading only the
    files ``save_pretrained`` writes (`SAVED_FILES`), never
    leftovers such as temporary files.

    Args:
        model_or_dir: A model (saved first, its model card naming ``repo_id``), or a folder
            written by [`save_pretrained`][alnumzoo.hub.save.save_pretrained].
        repo_id: Target repository (``org/name``).
        token: Hub token (default: the logged-in one).
        private: Create the repository as private.
        revision: Branch to commit to.
        commit_message: Commit message.
        api: An ``HfApi`` to use (tests pass a fake one).

    Returns:
        The ``CommitInfo`` of the upload (its ``oid`` is the new commit).

    Raises:
        FileNotFoundError: the folder lacks ``model.safetensors`` or ``config.json``.
    """
    from huggingface_hub import HfApi

    api = api or HfApi(token=token)
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(model_or_dir, ZooModel):
            card = model_card(model_or_dir, repo_id=repo_id)
            folder = save_pretrained(model_or_dir, Path(tmp) / "model", card=card)
        else:
            folder = Path(model_or_dir)
            for needed in (WEIGHTS_NAME, CONFIG_NAME):
                if not (folder / needed).is_file():
                    raise FileNotFoundError(f"expected {needed} in {folder} (run save_pretrained)")
        endpoint = getattr(api, "endpoint", None)
        if isinstance(api, HfApi) and not hub_reachable(endpoint):
            # Found in two seconds, not after a minute of retries and a 75-line traceback.
            raise ConnectionError(
                f"cannot reach the Hub at {endpoint or 'the default endpoint'} to push {repo_id}; "
                "check the network (or HF_ENDPOINT) and try again"
            )
        api.create_repo(repo_id, token=token, private=private, exist_ok=True, repo_type="model")
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            allow_patterns=[name for name in SAVED_FILES if (folder / name).is_file()],
            token=token,
            revision=revision,
            commit_message=commit_message,
            repo_type="model",
        )
