"""Exercises feed the quiz: failing an exercise makes the glossary terms it links due now.

A plain function so the exercise panel and ``pytorch-tutor answer`` can call it without the app.
It does not log a review: the learner answered no quiz question, so FSRS's memory estimate stays;
only the due date moves forward, and a term never quizzed gets a card that is due at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tutor.lessons.model import Glossary
from tutor.quiz.clock import as_utc, system_clock
from tutor.quiz.scheduler import QuizScheduler
from tutor.store.db import Database


def exercise_failed(
    db: Database,
    glossary: Glossary,
    term_names: Iterable[str],
    now: datetime | None = None,
) -> list[str]:
    """Make each named term (name, alias or id) due at ``now``; return the term ids changed.

    Unknown names are skipped (``lint`` reports them), so a typo in a lesson never breaks a check.
    """

    def clock() -> datetime:
        return as_utc(now) if now is not None else system_clock()

    scheduler = QuizScheduler(db, glossary, clock=clock)
    moment = scheduler.now()
    changed: list[str] = []
    for name in term_names:
        term = glossary.lookup(name)
        if term is None or term.id in changed:
            continue
        scheduler.make_due(term, moment)
        changed.append(term.id)
    return changed
