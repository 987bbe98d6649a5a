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
    if args.command is None:
        from tutor.cli.app_cmd import run_app

        return run_app()
    module = importlib.import_module(f"tutor.cli.{COMMANDS[args.command]}")
    try:
        return int(module.run(args))
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        print(f"pytorch-tutor {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
