"""Open, migrate and guard the SQLite database, and keep working when the disk refuses writes.

WAL lets the UI read while a worker writes. A database that SQLite finds corrupt is reported as
``CorruptDatabase``; it is only ever moved aside (never deleted) and only when the learner says so.

A full disk, an exhausted quota, a read-only or unwritable folder are not damage. Then the
database carries on from an in-memory copy: reads see everything the learner did, each refused
write is queued in order, and every later write first replays the queue, so it all lands as soon
as the disk takes writes again. ``problem`` says what is wrong (``on_problem`` is called when it
starts, ``on_saved`` when everything has landed), and ``unsaved_report`` lists what never landed.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from tutor.store import files
from tutor.store.errors import (
    CorruptDatabase,
    NewerDatabase,
    StorageProblem,
    UnusableDatabase,
    describe_sqlite_error,
    is_damage,
)
from tutor.store.pending import (
    Params,
    PendingWrite,
    Statement,
    Writer,
    describe_statements,
    replay,
    report_lines,
    rollback_quietly,
    summarize,
)

__all__ = [
    "CorruptDatabase",
    "Database",
    "NewerDatabase",
    "UnusableDatabase",
    "move_aside",
    "open_database",
    "utc_now",
]


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string, as stored in every table."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Transaction:
    """A write transaction's ``Writer``: runs statements on the live connection, records them.

    When the disk refuses a statement or the commit, the database falls back to its in-memory
    copy and the statements run so far are applied there, so the body never sees the failure.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.statements: list[Statement] = []
        self.conn = db._live()

    def execute(self, sql: str, params: Params = (), /) -> sqlite3.Cursor:
        self.statements.append((sql, params))
        try:
            return self.conn.execute(sql, params)
        except sqlite3.Error as exc:
            if self.conn is self.db._memory or not self.db._fall_back(exc):
                raise
        return self._redo_in_memory()

    def _redo_in_memory(self) -> sqlite3.Cursor:
        self.conn = self.db._in_memory()
        cursor: sqlite3.Cursor | None = None
        for sql, params in self.statements:
            cursor = self.conn.execute(sql, params)
        assert cursor is not None
        return cursor

    def commit(self, what: str | None, keep: str) -> None:
        if self.conn is not self.db._memory:
            try:
                self.conn.commit()
                return
            except sqlite3.Error as exc:
                if not self.db._fall_back(exc):
                    raise
            self._redo_in_memory()
        self.conn.commit()
        if self.statements:
            description = what or describe_statements(self.statements)
            self.db._pending.append(PendingWrite(description, tuple(self.statements), keep))

    def rollback(self) -> None:
        rollback_quietly(self.conn)


class Database:
    """A thread-safe handle on the database: one connection, serialised by a lock.

    ``connection`` is an open, checked file connection; without one the handle starts on an
    in-memory copy of the file (``snapshot``), with ``problem`` saying why.
    """

    def __init__(
        self,
        path: Path,
        connection: sqlite3.Connection | None = None,
        *,
        problem: StorageProblem | None = None,
        snapshot: sqlite3.Connection | None = None,
        readable: bool = True,
    ) -> None:
        self.path = path
        self._lock = threading.RLock()
        if connection is None and snapshot is None:
            connection = files.connect(path)
        self._disk = connection
        self._memory = snapshot
        self._pending: list[PendingWrite] = []
        self._lost: list[str] = []
        self._closed = False
        self.problem = problem
        # False when even reading the file failed: the learner starts from empty progress.
        self.readable = readable
        # Called (from whichever thread wrote) when writes start failing and when all landed.
        self.on_problem: Callable[[StorageProblem], None] | None = None
        self.on_saved: Callable[[], None] | None = None

    # Reading --------------------------------------------------------------------------------

    def query(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        with self._lock:
            conn = self._live()
            try:
                return conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                if conn is self._memory or not self._fall_back(exc):
                    raise
            return self._in_memory().execute(sql, params).fetchall()

    @property
    def version(self) -> int:
        return int(self.query("PRAGMA user_version")[0][0])

    # Writing --------------------------------------------------------------------------------

    @contextmanager
    def transaction(self, what: str | None = None, keep: str = "") -> Iterator[Writer]:
        """A write transaction: committed on success, rolled back on error.

        ``what`` says in a learner's words what the write keeps ("an attempt at tensors.x"):
        it is what the learner is told when the write could not be saved; ``keep`` is text to
        hand back to them then (their code).
        """
        with self._lock:
            transaction = _Transaction(self)
            try:
                yield transaction
            except BaseException:
                transaction.rollback()
                raise
            transaction.commit(what, keep)
            if self._memory is not None:
                self._retry()

    def migrate(self) -> None:
        """Apply every migration the file has not seen, each in its own transaction."""
        with self._lock:
            files.migrate(self._live(), self.path)

    # Settings are tiny key/value pairs (device choice, theme...).
    def get_setting(self, key: str, default: str | None = None) -> str | None:
        rows = self.query("SELECT value FROM settings WHERE key = ?", (key,))
        return rows[0][0] if rows else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction(f"the setting {key} = {value}") as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # Pending writes -------------------------------------------------------------------------

    @property
    def pending(self) -> list[str]:
        """What the learner did that is not on disk yet, oldest first."""
        with self._lock:
            return [write.what for write in self._pending]

    def flush(self) -> bool:
        """Try the pending writes now; True when nothing is left unsaved."""
        with self._lock:
            if self._memory is not None and not self._closed:
                self._retry()
            return not self._pending and not self._lost

    def unsaved_report(self) -> str | None:
        """Every change that was not saved, for the learner; None when all of it was."""
        with self._lock:
            if not self._pending and not self._lost:
                return None
            lines: list[str] = []
            if self._pending:
                if self.problem is not None:
                    lines.append(self.problem.sentence("Progress not saved"))
                lines.append("These changes were lost when the tutor closed:")
                lines += report_lines(self._pending)
            if self._lost:
                lines.append("Progress that could not be replayed into the database:")
                lines += [f"  - {line}" for line in summarize(self._lost)]
            return "\n".join(lines)

    def close(self) -> None:
        """Try the pending writes a last time, then close; ``unsaved_report`` stays readable."""
        with self._lock:
            if self._closed:
                return
            self.flush()
            self._closed = True
            for conn in (self._memory, self._disk):
                if conn is not None:
                    conn.close()

    # Falling back and catching up -----------------------------------------------------------

    def _live(self) -> sqlite3.Connection:
        """The connection reads and writes go to: the in-memory copy while it exists."""
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        conn = self._memory if self._memory is not None else self._disk
        assert conn is not None
        return conn

    def _fall_back(self, exc: sqlite3.Error) -> bool:
        """On a storage error, switch to the in-memory copy; False for any other error."""
        problem = StorageProblem.from_exception(exc, self.path.parent, self.path)
        if problem is None:
            return False
        rollback_quietly(self._disk)
        self._set_problem(problem)
        return True

    def _in_memory(self) -> sqlite3.Connection:
        if self._memory is None:
            self._memory, self.readable = files.snapshot(self.path, self._disk)
        return self._memory

    def _set_problem(self, problem: StorageProblem) -> None:
        first = self.problem is None
        self.problem = problem
        if first and self.on_problem is not None:
            self.on_problem(problem)

    def _retry(self) -> None:
        """Replay the pending writes in order on a fresh file connection; stop at the first
        storage error. When all landed, reads and writes go back to the file.

        With nothing pending there is nothing to prove the disk takes writes again (a read-only
        disk opens fine), so the in-memory copy stays until a real write lands.
        """
        if not self._pending:
            return
        try:
            if self._disk is not None:
                self._disk.close()
            self._disk = None
            self._disk = files.open_writable(self.path, verify=False)
            while self._pending:
                write = self._pending[0]
                try:
                    replay(self._disk, write)
                except sqlite3.Error as exc:
                    if StorageProblem.from_exception(exc, self.path.parent, self.path) is not None:
                        raise
                    # Not the disk: this write can never land (say, the file was replaced).
                    self._lost.append(f"{write.what} ({describe_sqlite_error(exc)})")
                self._pending.pop(0)
        except (sqlite3.Error, OSError, UnusableDatabase) as exc:
            problem = StorageProblem.from_exception(exc, self.path.parent, self.path)
            if problem is not None:
                self.problem = problem
            return
        if self._memory is not None:
            self._memory.close()
            self._memory = None
        self.readable = True
        if self.problem is not None:
            self.problem = None
            if self.on_saved is not None:
                self.on_saved()


def open_database(path: Path | None = None) -> Database:
    """Open (creating and migrating as needed) the database.

    Raises ``CorruptDatabase`` only when SQLite finds the file damaged, and ``UnusableDatabase``
    for a file this tutor cannot use for another reason (a newer schema, not a file). A storage
    problem raises nothing: the database opens on an in-memory copy with ``problem`` set.
    """
    if path is None:
        from tutor.paths import database_path

        # The folder is made below, where a folder that cannot be made is a storage problem.
        path = database_path(create=False)
    try:
        return Database(path, files.open_writable(path))
    except UnusableDatabase:
        raise
    except (sqlite3.Error, OSError) as exc:
        if isinstance(exc, sqlite3.Error) and is_damage(exc):
            raise CorruptDatabase(path, describe_sqlite_error(exc)) from None
        problem = StorageProblem.from_exception(exc, path.parent, path)
        if problem is None:
            detail = describe_sqlite_error(exc) if isinstance(exc, sqlite3.Error) else str(exc)
            raise UnusableDatabase(
                path, f"The progress database {path} cannot be opened ({detail})."
            ) from None
    copy, readable = files.snapshot(path, None)
    return Database(path, None, problem=problem, snapshot=copy, readable=readable)


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
