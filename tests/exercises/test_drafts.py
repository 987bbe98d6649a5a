"""Drafts survive closing the database, replace each other, and can be cleared."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tutor.store import open_database
from tutor.store.drafts import clear_draft, load_draft, save_draft
from tutor.store.migrations import MIGRATIONS


def test_save_load_replace_and_clear() -> None:
    db = open_database()
    assert db.version == len(MIGRATIONS)
    assert load_draft(db, "tensors.neuron-sum") is None
    save_draft(db, "tensors.neuron-sum", "y = 1\n")
    save_draft(db, "tensors.other", "z = 2\n")
    save_draft(db, "tensors.neuron-sum", "y = 2\n")
    db.close()

    db = open_database()
    assert load_draft(db, "tensors.neuron-sum") == "y = 2\n"
    assert load_draft(db, "tensors.other") == "z = 2\n"
    clear_draft(db, "tensors.neuron-sum")
    assert load_draft(db, "tensors.neuron-sum") is None
    assert load_draft(db, "tensors.other") == "z = 2\n"
    clear_draft(db, "tensors.missing")  # clearing nothing is fine
    db.close()


def test_existing_database_gains_the_drafts_table(tmp_path: Path) -> None:

    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    conn.execute("INSERT INTO settings(key, value) VALUES ('last_lesson', 'tensors')")
    conn.commit()
    conn.close()

    db = open_database(path)
    assert db.version == len(MIGRATIONS)
    assert db.get_setting("last_lesson") == "tensors"
    save_draft(db, "a.b", "x = 1")
    assert load_draft(db, "a.b") == "x = 1"
    db.close()
