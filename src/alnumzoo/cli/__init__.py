"""The ``alnumzoo`` command line: list, info, predict, train, evaluate, render, push, export.

Exit codes: 0 success, 1 runtime failure (one line on stderr saying why), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from alnumzoo._version import __version__
from alnumzoo.cli import catalog, data, deploy, hub, run

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``alnumzoo`` command."""
    parser = argparse.ArgumentParser(
        prog="alnumzoo",
        description="Small, fast image classifiers with a time-budgeted trainer.",
        epilog="Run 'alnumzoo COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"alnumzoo {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (catalog, run, data, hub, deploy):
        module.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error)."""
    args = build_parser().parse_args(argv)
    with warnings.catch_warnings():
        # Warnings are for the user of the command: one line each, no Python source lines.
        warnings.showwarning = _one_line_warning(args.command)
        return _run(args)


def _one_line_warning(command: str) -> Callable[..., None]:
    def show(
        message: Warning | str, category: type[Warning], *args: object, **kwargs: object
    ) -> None:
        print(f"alnumzoo {command}: warning: {message}", file=sys.stderr)

    return show


def _run(args: argparse.Namespace) -> int:
    try:
        code: int = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt as exc:
        print(f"alnumzoo {args.command}: interrupted: {exc}", file=sys.stderr)
        return 1
    except (KeyError, ValueError, OSError, RuntimeError, ImportError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        first_line = str(message).strip().splitlines()[0] if str(message).strip() else type(exc)
        print(f"alnumzoo {args.command}: error: {first_line}", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
