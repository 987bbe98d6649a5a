"""Writes kept in memory while they cannot reach the disk, and how they are described.

A transaction's body sees a ``Writer``: it runs each statement on the live connection and records
it, so that a write the disk refused can be replayed later, statement for statement, in order.
Every statement a store function writes is self-contained (its values, times included, are bound
parameters; counters are increments), so replaying it later gives what writing it now would have.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Params = Sequence[Any] | dict[str, Any]
Statement = tuple[str, Params]


class Writer(Protocol):
    """What a write transaction's body is given: ``execute`` like a sqlite3 connection."""

    def execute(self, sql: str, params: Params = ..., /) -> sqlite3.Cursor: ...


@dataclass(frozen=True)
class PendingWrite:
    """One transaction the disk has not taken yet: its statements and what it means to a learner.

    ``keep`` is text worth handing back if the write never lands (the learner's code).
    """

    what: str
    statements: tuple[Statement, ...]
    keep: str = ""


_TABLE = re.compile(r"\b(?:INTO|UPDATE|FROM)\s+([A-Za-z_]+)", re.IGNORECASE)


def describe_statements(statements: Iterable[Statement]) -> str:
    """A plain description of a write whose caller gave none: the tables it changes."""
    tables: list[str] = []
    for sql, _ in statements:
        for table in _TABLE.findall(sql):
            if table not in tables:
                tables.append(table)
    return f"a change to {', '.join(tables)}" if tables else "a change"


def summarize(whats: Iterable[str]) -> list[str]:
    """One line per distinct description, in first-seen order, with a count when repeated."""
    counts: dict[str, int] = {}
    for what in whats:
        counts[what] = counts.get(what, 0) + 1
    return [what if n == 1 else f"{what} ({n} times)" for what, n in counts.items()]


def report_lines(writes: Sequence[PendingWrite]) -> list[str]:
    """The writes as a list for the learner: one line per kind of change, and below a change
    that carries text (their code) its latest version, indented, ready to copy."""
    latest = {write.what: write.keep for write in writes if write.keep}
    lines: list[str] = []
    whats = [write.what for write in writes]
    for line, what in zip(summarize(whats), dict.fromkeys(whats), strict=True):
        keep = latest.get(what, "")
        # Saved code replaces the earlier versions: how often it was saved does not matter.
        lines.append(f"  - {what}:" if keep else f"  - {line}")
        lines += [f"      {text}" for text in keep.rstrip().splitlines()]
    return lines


def replay(conn: sqlite3.Connection, write: PendingWrite) -> None:
    """Apply one pending write on ``conn`` as one transaction (rolled back if any part fails)."""
    try:
        for sql, params in write.statements:
            conn.execute(sql, params)
        conn.commit()
    except BaseException:
        rollback_quietly(conn)
        raise


def rollback_quietly(conn: sqlite3.Connection | None) -> None:
    """Roll back whatever is open; a connection already broken has nothing left to undo."""
    if conn is None:
        return
    try:
        conn.rollback()
    except sqlite3.Error:
        pass
