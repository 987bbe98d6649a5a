"""Schema migrations, applied in order; ``PRAGMA user_version`` records how many have run.

Append new migrations; never edit one that has shipped.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: lesson progress, exercise attempts, settings, quiz cards and the review log.
    """
    CREATE TABLE lesson_progress (
        lesson_id TEXT PRIMARY KEY,
        current_step TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE step_progress (
        step_id TEXT PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'seen',
        attempts INTEGER NOT NULL DEFAULT 0,
        hints_used INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE attempts (
        id INTEGER PRIMARY KEY,
        step_id TEXT NOT NULL,
        at TEXT NOT NULL,
        passed INTEGER NOT NULL,
        code TEXT NOT NULL
    );
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE cards (
        term_id TEXT PRIMARY KEY,
        card_json TEXT NOT NULL,
        due TEXT NOT NULL
    );
    CREATE TABLE review_log (
        id INTEGER PRIMARY KEY,
        term_id TEXT NOT NULL,
        rating INTEGER NOT NULL,
        reviewed_at TEXT NOT NULL,
        mode TEXT NOT NULL DEFAULT '',
        correct INTEGER NOT NULL DEFAULT 0,
        seconds REAL NOT NULL DEFAULT 0,
        log_json TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX review_log_term ON review_log(term_id);
    """,
    # 2: the learner's unfinished code per exercise step, kept across visits.
    """
    CREATE TABLE drafts (
        step_id TEXT PRIMARY KEY,
        code TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
]
