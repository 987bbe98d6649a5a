"""The progress database: migrations, WAL, progress records, damage detection, atomic writes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tutor.atomic import atomic_write_text
from tutor.store import CorruptDatabase, NewerDatabase, move_aside, open_database
from tutor.store.migrations import MIGRATIONS
from tutor.store.progress import Progress


def test_new_database_is_migrated_and_in_wal(tutor_env: Path) -> None:
    db = open_database()
    assert db.path == tutor_env / "progress.sqlite3"
    assert db.version == len(MIGRATIONS)
    assert db.query("PRAGMA journal_mode")[0][0] == "wal"
    db.close()
    again = open_database()  # migrations do not run twice
    assert again.version == len(MIGRATIONS)


def test_progress_round_trip() -> None:
    progress = Progress(open_database())
    assert progress.last_lesson() is None
    progress.set_current("tensors", "neuron-sum")
    progress.set_current("training", "loop")
    assert progress.current("tensors") == "neuron-sum"
    assert progress.last_lesson() == "training"
    progress.record_attempt("tensors.neuron-sum", "y = 1", passed=False)
    progress.record_hint("tensors.neuron-sum")
    progress.record_attempt("tensors.neuron-sum", "y = 2", passed=True)
    progress.mark("tensors.neuron-sum", "solved", seconds=12.5)
    progress.mark("tensors.neuron-sum", "seen", seconds=1.0)
    record = progress.step("tensors.neuron-sum")
    assert record is not None
    assert (record.status, record.attempts, record.hints_used) == ("solved", 2, 1)
    assert record.seconds == pytest.approx(13.5)
    progress.mark("tensors.two-layer", "skipped")
    progress.mark("tensors.two-layer", "seen")
    assert progress.statuses()["tensors.two-layer"] == "skipped"
    with pytest.raises(ValueError):
        progress.mark("x.y", "done")


def test_garbage_file_is_reported_not_overwritten(tutor_env: Path) -> None:
    path = tutor_env / "progress.sqlite3"
    path.write_bytes(b"not sqlite at all" * 64)
    with pytest.raises(CorruptDatabase) as caught:
        open_database()
    assert str(path) in str(caught.value)
    assert path.read_bytes().startswith(b"not sqlite")
    moved = move_aside(path)
    assert not path.exists() and moved.read_bytes().startswith(b"not sqlite")
    assert open_database().version == len(MIGRATIONS)


def test_newer_schema_is_refused(tutor_env: Path) -> None:
    path = tutor_env / "progress.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    conn.close()
    with pytest.raises(NewerDatabase, match="newer than this tutor") as caught:
        open_database()
    # A newer schema is healthy: it is never called damaged, so moving it aside is not offered.
    assert not isinstance(caught.value, CorruptDatabase)


def test_atomic_write_leaves_old_file_on_failure(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "state" / "state.json"
    atomic_write_text(target, "old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tutor.atomic.os.replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]
