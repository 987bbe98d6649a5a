"""Exercise drafts: the code a learner left in a step's editor, kept until they come back."""

from __future__ import annotations

from tutor.store.db import Database, utc_now


def save_draft(db: Database, step_id: str, code: str) -> None:
    """Keep ``code`` as the step's draft, replacing any earlier one."""
    with db.transaction(f"your code in {step_id}", keep=code) as conn:
        conn.execute(
            "INSERT INTO drafts(step_id, code, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(step_id) DO UPDATE SET code = excluded.code, "
            "updated_at = excluded.updated_at",
            (step_id, code, utc_now()),
        )


def load_draft(db: Database, step_id: str) -> str | None:
    """The step's draft, or None when the learner left none."""
    rows = db.query("SELECT code FROM drafts WHERE step_id = ?", (step_id,))
    return str(rows[0][0]) if rows else None


def clear_draft(db: Database, step_id: str) -> None:
    """Forget the step's draft (the editor shows the starter next time)."""
    with db.transaction(f"resetting your code in {step_id}") as conn:
        conn.execute("DELETE FROM drafts WHERE step_id = ?", (step_id,))
