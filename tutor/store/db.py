"""Open, migrate and guard the SQLite database.

WAL lets the UI read while a worker writes. A database that SQLite calls corrupt is reported as
``CorruptDatabase``; it is only ever moved aside (never deleted) and only when the learner says so.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from tutor.store.migrations import MIGRATIONS


class CorruptDatabase(Exception):
    """The progress database cannot be read; carries its path and SQLite's words."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"The progress database {path} is damaged ({detail}).")
        self.path = path
        self.detail = detail


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string, as stored in every table."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Database:
    """A thread-safe handle on the database: one connection, serialised by a lock."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10)
        self._conn.row_factory = sqlite3.Row

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error."""
        with self._lock, self._conn:
            yield self._conn

    def query(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def version(self) -> int:
        return int(self.query("PRAGMA user_version")[0][0])

    def migrate(self) -> None:
        """Apply every migration the file has not seen, each in its own transaction."""
        current = self.version
        if current > len(MIGRATIONS):
            raise CorruptDatabase(
                self.path, f"schema version {current} is newer than this tutor; upgrade the tutor"
            )
        for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
            with self._lock:
                self._conn.executescript(
                    f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;"
                )

    # Settings are tiny key/value pairs (device choice, theme...).
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def open_database(path: Path | None = None) -> Database:
    """Open (creating and migrating as needed) the database; raise ``CorruptDatabase`` if damaged."""
    if path is None:
        from tutor.paths import database_path

        path = database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    db: Database | None = None
    try:
        db = Database(path)
        db.query("PRAGMA journal_mode=WAL")
        check = db.query("PRAGMA quick_check")[0][0]
        if check != "ok":
            raise CorruptDatabase(path, check)
        db.migrate()
        return db
    except sqlite3.DatabaseError as exc:
        if db is not None:
            db.close()
        raise CorruptDatabase(path, str(exc)) from None
    except CorruptDatabase:
        if db is not None:
            db.close()
        raise


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL files) out of the way; returns the new name."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    return target
