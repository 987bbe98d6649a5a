"""Lesson progress: where the learner is in each lesson, and what became of each step."""

from __future__ import annotations

from dataclasses import dataclass

from tutor.store.db import Database, utc_now

STATUSES = ("seen", "solved", "skipped")
LAST_LESSON_KEY = "last_lesson"


@dataclass(frozen=True)
class StepRecord:
    """What is known about one step: status, attempts, hints used and time spent."""

    step_id: str
    status: str
    attempts: int
    hints_used: int
    seconds: float


class Progress:
    """Reads and writes progress rows; every write is one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def set_current(self, lesson_id: str, step_id: str) -> None:
        """Remember the step the learner is on, and that this lesson was the last one open."""
        with self.db.transaction(f"your place in lesson {lesson_id} ({step_id})") as conn:
            conn.execute(
                "INSERT INTO lesson_progress(lesson_id, current_step, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(lesson_id) DO UPDATE SET current_step = excluded.current_step, "
                "updated_at = excluded.updated_at",
                (lesson_id, step_id, utc_now()),
            )
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (LAST_LESSON_KEY, lesson_id),
            )

    def current(self, lesson_id: str) -> str | None:
        rows = self.db.query(
            "SELECT current_step FROM lesson_progress WHERE lesson_id = ?", (lesson_id,)
        )
        return rows[0][0] if rows else None

    def last_lesson(self) -> str | None:
        return self.db.get_setting(LAST_LESSON_KEY)

    def mark(self, step_id: str, status: str, *, seconds: float = 0.0) -> None:
        """Record that a step was seen, solved or skipped. Solved is never downgraded."""
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        what = f"step {step_id} {status}" + (f" ({seconds:.0f} s spent)" if seconds >= 1 else "")
        with self.db.transaction(what) as conn:
            conn.execute(
                "INSERT INTO step_progress(step_id, status, seconds, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(step_id) DO UPDATE SET "
                "status = CASE WHEN step_progress.status = 'solved' THEN 'solved' "
                "WHEN step_progress.status = 'skipped' AND excluded.status = 'seen' THEN 'skipped' "
                "ELSE excluded.status END, "
                "seconds = step_progress.seconds + excluded.seconds, updated_at = excluded.updated_at",
                (step_id, status, seconds, utc_now()),
            )

    def record_attempt(self, step_id: str, code: str, passed: bool) -> None:
        """Append an attempt and count it on the step."""
        now = utc_now()
        verdict = "passed" if passed else "failed"
        with self.db.transaction(f"an attempt at {step_id} ({verdict})") as conn:
            conn.execute(
                "INSERT INTO attempts(step_id, at, passed, code) VALUES (?, ?, ?, ?)",
                (step_id, now, int(passed), code),
            )
            conn.execute(
                "INSERT INTO step_progress(step_id, status, attempts, updated_at) VALUES (?, ?, 1, ?) "
                "ON CONFLICT(step_id) DO UPDATE SET attempts = step_progress.attempts + 1, "
                "updated_at = excluded.updated_at",
                (step_id, "seen", now),
            )

    def record_hint(self, step_id: str) -> None:
        with self.db.transaction(f"a hint shown on {step_id}") as conn:
            conn.execute(
                "INSERT INTO step_progress(step_id, status, hints_used, updated_at) "
                "VALUES (?, 'seen', 1, ?) ON CONFLICT(step_id) DO UPDATE SET "
                "hints_used = step_progress.hints_used + 1, updated_at = excluded.updated_at",
                (step_id, utc_now()),
            )

    def step(self, step_id: str) -> StepRecord | None:
        rows = self.db.query("SELECT * FROM step_progress WHERE step_id = ?", (step_id,))
        if not rows:
            return None
        row = rows[0]
        return StepRecord(
            row["step_id"], row["status"], row["attempts"], row["hints_used"], row["seconds"]
        )

    def statuses(self) -> dict[str, str]:
        """Every step id with a record, mapped to its status."""
        return {
            row[0]: row[1] for row in self.db.query("SELECT step_id, status FROM step_progress")
        }
