"""Connections to the database file: writable, read-only fallbacks, and in-memory copies.

On a full disk SQLite cannot even read a WAL database in the usual way (its shared-memory index
cannot grow), and in a folder that cannot be written it cannot create that index. The read-only
fallbacks here still read the learner's progress in those cases: ``mode=ro`` where the index
exists, then ``immutable=1`` where no write-ahead log holds newer data (with one, an immutable
read would see stale pages and could even call a healthy file corrupt).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tutor.store.errors import CorruptDatabase, NewerDatabase, is_damage
from tutor.store.migrations import MIGRATIONS

BUSY_TIMEOUT_S = 10


def connect(path: Path) -> sqlite3.Connection:
    """A read-write connection to ``path`` (created when missing), shared between threads."""
    conn = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    conn.row_factory = sqlite3.Row
    return conn


def memory() -> sqlite3.Connection:
    """An empty in-memory database with the same row type as a file connection."""
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def check(conn: sqlite3.Connection, path: Path) -> None:
    """Run SQLite's quick integrity check; raise ``CorruptDatabase`` when it finds damage."""
    result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise CorruptDatabase(path, str(result))


def migrate(conn: sqlite3.Connection, path: Path) -> None:
    """Apply every migration the database has not seen, each in its own transaction."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if current > len(MIGRATIONS):
        raise NewerDatabase(path, current)
    for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")


def open_writable(path: Path, *, verify: bool = True) -> sqlite3.Connection:
    """Open, switch to WAL, check (unless ``verify`` is False: a reopen to retry writes) and
    migrate; the connection is closed again on any error."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = connect(path)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        if verify:
            check(conn, path)
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _read_only_uris(path: Path) -> list[str]:
    uri = path.resolve().as_uri()
    uris = [f"{uri}?mode=ro"]
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        uris.append(f"{uri}?mode=ro&immutable=1")
    return uris


def copy_into(target: sqlite3.Connection, path: Path, source: sqlite3.Connection | None) -> bool:
    """Copy the database into ``target`` from ``source`` or, failing that, a read-only open.

    Returns whether anything was copied. Damage found on the way raises ``CorruptDatabase``;
    anything else (the disk, permissions) just moves on to the next way of reading.
    """
    if source is not None:
        try:
            source.backup(target)
            return True
        except sqlite3.Error:
            pass
    if not path.exists():
        return False
    for uri in _read_only_uris(path):
        try:
            reader = sqlite3.connect(uri, uri=True)
        except sqlite3.Error:
            continue
        try:
            check(reader, path)
            reader.backup(target)
            return True
        except sqlite3.Error as exc:
            if is_damage(exc):
                raise CorruptDatabase(path, str(exc)) from None
        finally:
            reader.close()
    return False


def snapshot(path: Path, source: sqlite3.Connection | None) -> tuple[sqlite3.Connection, bool]:
    """An in-memory copy of the database, migrated; and whether the file could be read at all."""
    copy = memory()
    try:
        readable = copy_into(copy, path, source)
        migrate(copy, path)
    except BaseException:
        copy.close()
        raise
    return copy, readable
