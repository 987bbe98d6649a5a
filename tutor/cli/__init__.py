"""The command line: ``pytorch-tutor`` starts the app; subcommands work headless.

Each subcommand lives in its own module with ``add_parser(subparsers)`` and ``run(args) -> int``.
Parsing never imports Textual or torch; a subcommand imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tutor import __version__

# Subcommand name -> module under tutor.cli. Order is the order of the help text.
COMMANDS = {
    "lessons": "lessons_cmd",
    "lint": "lint_cmd",
    "answer": "answer_cmd",
    "train": "train_cmd",
    "runs": "runs_cmd",
    "doctor": "doctor_cmd",
    "quiz": "quiz_cmd",
}


class UsageError(Exception):
    """Bad arguments that argparse cannot see; reported as usage with exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pytorch-tutor",
        description="A terminal tutor for the course Introduction to PyTorch. "
        "With no command, starts the app.",
    )
    parser.add_argument("--version", action="version", version=f"pytorch-tutor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS.values():
        module = importlib.import_module(f"tutor.cli.{module_name}")
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``pytorch-tutor`` and ``python -m tutor``; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            from tutor.cli.app_cmd import run_app

            return run_app()
        module = importlib.import_module(f"tutor.cli.{COMMANDS[args.command]}")
        return int(module.run(args))
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"pytorch-tutor {args.command or ''}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        # The contract's codes are 0, 1 and 2: an interrupted command did not finish.
        print("pytorch-tutor: interrupted.", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0
    except OSError as exc:
        # A data folder that cannot be created or written (PYTORCH_TUTOR_HOME on a file, a
        # read-only disk, a full disk): one sentence naming the path, never a traceback.
        print(f"pytorch-tutor: {describe_os_error(exc)}", file=sys.stderr)
        return 1


def describe_os_error(exc: OSError) -> str:
    """One sentence for a failed file operation: a storage problem names the folder, its free
    space and what to do; anything else names the path and the system's words."""
    from pathlib import Path

    from tutor.store.errors import StorageProblem

    path = Path(exc.filename) if exc.filename else None
    if path is not None:
        folder = path if path.is_dir() or not path.exists() else path.parent
        problem = StorageProblem.from_exception(exc, folder)
        if problem is not None:
            return problem.sentence(f"Cannot write {path}")
    where = f" {path}" if path is not None else ""
    return (
        f"cannot use{where}: {exc.strerror or exc}. Check that the folder exists and is writable "
        "(PYTORCH_TUTOR_HOME and PYTORCH_TUTOR_DATA move it)."
    )
