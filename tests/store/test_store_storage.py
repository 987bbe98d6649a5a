"""Storage errors are not damage: injected disk faults keep writes in memory and replay them.

The faults are injected into the database's file connections (SQLite result codes) and into
folder creation (OS errors); ``test_full_disk.py`` does the same on a real full file system.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tutor.store import (
    CorruptDatabase,
    StorageProblem,
    files,
    open_database,
)
from tutor.store.db import Database
from tutor.store.drafts import load_draft, save_draft
from tutor.store.errors import storage_kind
from tutor.store.progress import Progress

FULL, IOERR_WRITE, READONLY, CANTOPEN, CORRUPT = 13, 778, 8, 14, 11


def sqlite_error(code: int, name: str, text: str) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(text)
    exc.sqlite_errorcode = code  # type: ignore[attr-defined]
    exc.sqlite_errorname = name  # type: ignore[attr-defined]
    return exc


def disk_full() -> sqlite3.OperationalError:
    return sqlite_error(FULL, "SQLITE_FULL", "database or disk is full")


def io_error() -> sqlite3.OperationalError:
    return sqlite_error(IOERR_WRITE, "SQLITE_IOERR_WRITE", "disk I/O error")


def read_only() -> sqlite3.OperationalError:
    return sqlite_error(READONLY, "SQLITE_READONLY", "attempt to write a readonly database")


WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class Fault:
    """Which error the next writes meet (None: the disk takes them)."""

    def __init__(self) -> None:
        self.error: Callable[[], Exception] | None = None
        self.on_commit = True  # SQLite in WAL mode mostly fails at commit, when pages are written


class FaultyConnection:
    """A file connection whose writes fail while ``fault.error`` is set."""

    def __init__(self, real: sqlite3.Connection, fault: Fault) -> None:
        self.real = real
        self.fault = fault

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        if self.fault.error and not self.fault.on_commit and sql.lstrip().startswith(WRITES):
            raise self.fault.error()
        return self.real.execute(sql, params)

    def commit(self) -> None:
        if self.fault.error and self.fault.on_commit and self.real.in_transaction:
            raise self.fault.error()
        self.real.commit()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def fault(monkeypatch: pytest.MonkeyPatch) -> Fault:
    """Every file connection the store opens from now on obeys the returned fault."""
    state = Fault()
    real_connect = files.connect
    monkeypatch.setattr(files, "connect", lambda path: FaultyConnection(real_connect(path), state))
    return state


@pytest.fixture
def store(fault: Fault, tutor_env: Path) -> Iterator[Database]:
    database = open_database()
    yield database
    database.close()


def on_disk(tutor_env: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(tutor_env / "progress.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# Classification ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "full"),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), "quota"),
        (OSError(errno.EROFS, "Read-only file system"), "read-only"),
        (OSError(errno.EACCES, "Permission denied"), "permission"),
        (OSError(errno.EIO, "Input/output error"), "io"),
        (disk_full(), "full"),
        (io_error(), "io"),
        (read_only(), "read-only"),
        (sqlite_error(CORRUPT, "SQLITE_CORRUPT", "database disk image is malformed"), None),
        (sqlite_error(26, "SQLITE_NOTADB", "file is not a database"), None),
        (sqlite3.OperationalError("no such table: x"), None),
    ],
)
def test_storage_errors_are_classified_by_code(
    exc: Exception, kind: str | None, tmp_path: Path
) -> None:
    assert storage_kind(exc, tmp_path) == kind


def test_an_io_error_on_a_disk_without_space_is_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite reports a full disk while growing its shared-memory index as an I/O error.
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda _: usage._replace(free=0))
    assert storage_kind(io_error(), tmp_path) == "full"


def test_cannot_open_means_permission_only_when_the_folder_is_not_writable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cantopen = sqlite_error(CANTOPEN, "SQLITE_CANTOPEN", "unable to open database file")
    assert storage_kind(cantopen, tmp_path) is None
    monkeypatch.setattr("os.access", lambda *_: False)
    assert storage_kind(cantopen, tmp_path) == "permission"


def test_a_database_file_another_user_owns_is_no_read_only_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file left by ``sudo`` in the learner's own folder: SQLite says "readonly database", but
    the disk is writable; the learner is told which file is not theirs and how to get it back."""
    database = tmp_path / "progress.sqlite3"
    database.write_bytes(b"")
    (tmp_path / "progress.sqlite3-wal").write_bytes(b"")
    real_access = os.access

    def access(path: Any, mode: int, **kwargs: Any) -> bool:
        return not str(path).endswith("-wal") and real_access(path, mode, **kwargs)

    monkeypatch.setattr("os.access", access)
    assert storage_kind(read_only(), tmp_path) == "read-only"  # the file is not known
    assert storage_kind(read_only(), tmp_path, database) == "file-permission"
    problem = StorageProblem.from_exception(read_only(), tmp_path, database)
    assert problem is not None
    sentence = problem.sentence("The attempt was not saved")
    assert "read-only file system" not in sentence
    assert f"you have no permission to write {tmp_path / 'progress.sqlite3-wal'}" in sentence
    assert "chown" in sentence and sentence.endswith(".") and "\n" not in sentence
    # Without a file that is not writable, a refused write stays a read-only disk.
    monkeypatch.setattr("os.access", real_access)
    assert storage_kind(read_only(), tmp_path, database) == "read-only"


def test_the_sentence_names_the_folder_its_free_space_and_what_to_do(tmp_path: Path) -> None:
    problem = StorageProblem.from_exception(OSError(errno.EDQUOT, "quota"), tmp_path)
    assert problem is not None
    sentence = problem.sentence("The attempt was not saved")
    assert sentence.startswith("The attempt was not saved: your disk quota for ")
    assert str(tmp_path) in sentence and " free on the disk" in sentence
    assert "quota -s" in sentence and sentence.endswith(".") and "\n" not in sentence


# Writes the disk refuses ---------------------------------------------------------------------


@pytest.mark.parametrize(("error", "kind"), [(disk_full, "full"), (io_error, "io")])
def test_refused_writes_are_kept_read_back_and_replayed_in_order(
    store: Database, fault: Fault, tutor_env: Path, error: Callable[[], Exception], kind: str
) -> None:
    problems: list[StorageProblem] = []
    saved: list[bool] = []
    store.on_problem = problems.append
    store.on_saved = lambda: saved.append(True)
    progress = Progress(store)
    progress.mark("tensors.neuron-sum", "seen", seconds=2.0)
    fault.error = error
    progress.record_attempt("tensors.neuron-sum", "y = 1", passed=False)
    progress.record_attempt("tensors.neuron-sum", "y = 2", passed=True)
    progress.mark("tensors.neuron-sum", "solved", seconds=3.0)
    save_draft(store, "tensors.neuron-sum", "y = 2")
    # Reads see everything the learner did; the file has none of it yet.
    record = progress.step("tensors.neuron-sum")
    assert record is not None and (record.status, record.attempts) == ("solved", 2)
    assert record.seconds == pytest.approx(5.0)
    assert load_draft(store, "tensors.neuron-sum") == "y = 2"
    assert on_disk(tutor_env, "SELECT COUNT(*) FROM attempts") == [(0,)]
    assert store.pending == [
        "an attempt at tensors.neuron-sum (failed)",
        "an attempt at tensors.neuron-sum (passed)",
        "step tensors.neuron-sum solved (3 s spent)",
        "your code in tensors.neuron-sum",
    ]
    assert [p.kind for p in problems] == [kind]  # said once, not once per write
    assert saved == []
    # Room again: the next write lands the queue first, in order, then itself.
    fault.error = None
    progress.record_hint("tensors.neuron-sum")
    assert store.pending == [] and store.problem is None and saved == [True]
    assert on_disk(tutor_env, "SELECT code, passed FROM attempts ORDER BY id") == [
        ("y = 1", 0),
        ("y = 2", 1),
    ]
    assert on_disk(
        tutor_env, "SELECT status, attempts, hints_used, seconds FROM step_progress"
    ) == [("solved", 2, 1, 5.0)]
    assert on_disk(tutor_env, "SELECT code FROM drafts") == [("y = 2",)]


def test_a_write_refused_at_its_first_statement_is_kept_whole(
    store: Database, fault: Fault, tutor_env: Path
) -> None:
    fault.error, fault.on_commit = read_only, False
    Progress(store).set_current("tensors", "neuron-mm")
    assert store.problem is not None and store.problem.kind == "read-only"
    assert Progress(store).current("tensors") == "neuron-mm"
    assert Progress(store).last_lesson() == "tensors"  # the second statement ran in memory too
    fault.error = None
    assert store.flush()
    assert on_disk(tutor_env, "SELECT lesson_id, current_step FROM lesson_progress") == [
        ("tensors", "neuron-mm")
    ]


def test_closing_with_writes_pending_reports_exactly_what_was_not_saved(
    store: Database, fault: Fault
) -> None:
    fault.error = disk_full
    progress = Progress(store)
    for _ in range(3):
        progress.record_attempt("tensors.two-layer", "h = 1", passed=False)
    store.set_setting("device", "cpu")
    save_draft(store, "tensors.two-layer", "h = 0")
    save_draft(store, "tensors.two-layer", "h = activation(features @ W1 + B1)\noutput = h")
    store.close()
    report = store.unsaved_report()
    assert report is not None
    assert "is full (" in report and " free)" in report
    assert "  - an attempt at tensors.two-layer (failed) (3 times)\n" in report
    assert "  - the setting device = cpu\n" in report
    # The code itself is handed back, its latest version, ready to copy.
    assert report.endswith(
        "  - your code in tensors.two-layer:\n"
        "      h = activation(features @ W1 + B1)\n"
        "      output = h"
    )


def test_closing_when_space_came_back_saves_everything(
    store: Database, fault: Fault, tutor_env: Path
) -> None:
    fault.error = disk_full
    Progress(store).record_attempt("tensors.two-layer", "h = 1", passed=False)
    fault.error = None
    store.close()
    assert store.unsaved_report() is None
    assert on_disk(tutor_env, "SELECT COUNT(*) FROM attempts") == [(1,)]


def test_other_errors_still_raise(store: Database) -> None:
    with (
        pytest.raises(sqlite3.OperationalError, match="no such table"),
        store.transaction() as conn,
    ):
        conn.execute("INSERT INTO nowhere VALUES (1)")
    assert store.pending == [] and store.problem is None


# Opening -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [(errno.ENOSPC, "full"), (errno.EDQUOT, "quota"), (errno.EROFS, "read-only")],
)
def test_a_data_folder_that_cannot_be_made_opens_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, kind: str
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(code, "refused", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    db = open_database(tmp_path / "missing" / "progress.sqlite3")
    assert db.problem is not None and db.problem.kind == kind
    assert not db.readable
    Progress(db).mark("tensors.intro", "seen")
    assert Progress(db).statuses() == {"tensors.intro": "seen"}
    db.close()
    assert "step tensors.intro seen" in (db.unsaved_report() or "")


def test_a_disk_that_refuses_the_first_write_opens_from_a_read_only_copy(
    tutor_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_database()
    Progress(first).set_current("tensors", "neuron-sum")
    first.close()

    def no_wal(path: Path, verify: bool = True) -> sqlite3.Connection:
        raise disk_full()

    # As on a real full disk, where SQLite cannot grow the WAL index and even opening fails.
    monkeypatch.setattr(files, "open_writable", no_wal)
    db = open_database()
    assert db.problem is not None and db.problem.kind == "full" and db.readable
    assert Progress(db).current("tensors") == "neuron-sum"
    db.close()


def test_damage_is_still_damage(tutor_env: Path) -> None:
    path = tutor_env / "progress.sqlite3"
    db = open_database()
    progress = Progress(db)
    for n in range(400):
        progress.record_attempt(f"tensors.step-{n}", "x = 1" * 40, passed=False)
    db.close()
    data = bytearray(path.read_bytes())
    page = 4096
    assert len(data) > 8 * page
    data[3 * page : 6 * page] = b"\xa5" * (3 * page)  # scribble over b-tree pages
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptDatabase, match="is damaged"):
        open_database()


def test_the_command_line_words_other_file_errors_as_storage_problems(tmp_path: Path) -> None:
    from tutor.cli import describe_os_error

    target = tmp_path / "runs" / "x"
    sentence = describe_os_error(OSError(errno.ENOSPC, "No space left on device", str(target)))
    assert sentence.startswith(f"Cannot write {target}: the disk holding {target} is full (")
    assert sentence.endswith("set PYTORCH_TUTOR_HOME to a folder on another disk.")
    other = describe_os_error(OSError(errno.ENOTDIR, "Not a directory", str(target)))
    assert other.startswith(f"cannot use {target}: Not a directory.")


def test_what_the_app_could_not_save_is_printed_after_it_closes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tutor.cli.app_cmd import run_app
    from tutor.ui.app import TutorApp

    def run(self: TutorApp) -> None:
        self.unsaved_report = "Progress not saved: ...\n  - an attempt at tensors.x (failed)"

    monkeypatch.setattr(TutorApp, "run", run)
    assert run_app() == 0
    assert capsys.readouterr().err == (
        "Progress not saved: ...\n  - an attempt at tensors.x (failed)\n"
    )
