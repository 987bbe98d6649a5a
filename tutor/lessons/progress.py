"""How far a learner is through a lesson, from the step statuses in the database."""

from __future__ import annotations

from tutor.lessons.model import Lesson, Step


def step_done(step: Step, status: str | None) -> bool:
    """A concept page counts once seen; exercises and training once solved or skipped."""
    if status is None:
        return False
    if step.kind == "concept":
        return True
    return status in ("solved", "skipped")


def lesson_done_count(lesson: Lesson, statuses: dict[str, str]) -> int:
    return sum(step_done(step, statuses.get(step.full_id)) for step in lesson.steps)
