"""Helpers shared by subcommands: printing errors in one sentence, JSON lines, the database."""

from __future__ import annotations

import json
import sys
from typing import Any

from tutor.store import CorruptDatabase, Database, open_database


def fail(message: str, code: int = 1) -> int:
    """Print one clear sentence to stderr and return ``code``."""
    print(f"pytorch-tutor: {message}", file=sys.stderr)
    return code


def print_json(obj: Any) -> None:
    """One JSON object on one line, flushed (for ``--json`` streams)."""
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def database_or_none() -> Database | None:
    """The progress database, or None (with a sentence on stderr) when it is damaged."""
    try:
        return open_database()
    except CorruptDatabase as exc:
        fail(f"{exc} Start the app to move it aside, or move the file away yourself.")
        return None
