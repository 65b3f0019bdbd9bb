"""``alnumzoo push``: upload a saved model folder to the Hugging Face Hub."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["add_commands"]


def _cmd_push(args: argparse.Namespace) -> int:
    from alnumzoo.hub import push_to_hub

    options = {"token": args.token, "private": args.private, "revision": args.revision}
    commit = push_to_hub(args.folder, args.repo_id, commit_message=args.message, **options)
    print(f"pushed {args.folder} to {args.repo_id}: {commit}")
    return 0


def add_commands(sub: Any) -> None:
    """Register ``push``."""
    p = sub.add_parser("push", help="upload a save_pretrained folder to the Hugging Face Hub")
    p.add_argument("folder", help="folder with model.safetensors, config.json, README.md")
    p.add_argument("repo_id", help="Hub repository, org/name")
    p.add_argument("--token", help="Hub token (default: the logged-in one / HF_TOKEN)")
    p.add_argument("--private", action="store_true", help="create the repository private")
    p.add_argument("--revision", help="branch to commit to (default: main)")
    p.add_argument("--message", default="Upload alnumzoo model", help="commit message")
    p.set_defaults(func=_cmd_push)
