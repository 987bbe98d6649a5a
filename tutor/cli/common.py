"""Helpers shared by subcommands: printing errors in one sentence, JSON lines, the database."""

from __future__ import annotations

import json
import sys
from typing import Any

from tutor.store import CorruptDatabase, Database, UnusableDatabase, open_database


def fail(message: str, code: int = 1) -> int:
    """Print one clear sentence to stderr and return ``code``."""
    print(f"pytorch-tutor: {message}", file=sys.stderr)
    return code


def print_json(obj: Any) -> None:
    """One JSON object on one line, flushed (for ``--json`` streams)."""
    print(json.dumps(obj, ensure_ascii=False), flush=True)


def database_or_none() -> Database | None:
    """The progress database, or None (with a sentence on stderr) when it is damaged or unusable.

    A full disk or a read-only folder is not a reason for None: the database then opens on an
    in-memory copy, and ``close_database`` says what could not be saved.
    """
    try:
        return open_database()
    except CorruptDatabase as exc:
        fail(f"{exc} Start the app to move it aside, or move the file away yourself.")
    except UnusableDatabase as exc:
        fail(str(exc))
    return None


def close_database(db: Database, what: str) -> bool:
    """Close ``db``; if writes could not be saved, print one sentence starting with ``what``
    (e.g. "The attempt was not saved") naming the folder, its free space and what to do.

    Returns True when everything was saved.
    """
    db.close()
    if db.unsaved_report() is None:
        return True
    if db.problem is not None:
        fail(db.problem.sentence(what))
    else:
        fail(f"{what}: {'; '.join(db.pending) or 'the database refused it'}.")
    return False
