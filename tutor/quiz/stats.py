"""Numbers for the stats view: due today, retention, streak and the hardest terms."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from tutor.quiz.scheduler import QuizScheduler, start_of_day

RETENTION_DAYS = 30
HARDEST = 5


@dataclass(frozen=True)
class HardTerm:
    """A term often missed: how many answers were wrong out of how many."""

    term: str
    wrong: int
    answered: int


@dataclass(frozen=True)
class QuizStats:
    """A snapshot of the learner's review state."""

    terms: int
    cards: int
    due_now: int
    due_today: int
    new_left_today: int
    reviews: int
    retention: float | None
    streak_days: int
    hardest: list[HardTerm] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The stats as short lines, for the plain terminal and the stats screen."""
        retention = "no reviews yet" if self.retention is None else f"{self.retention:.0%}"
        lines = [
            f"Due now: {self.due_now}   due today: {self.due_today}   "
            f"new today: {self.new_left_today} left",
            f"Terms: {self.terms}   with cards: {self.cards}   reviews: {self.reviews}",
            f"Retention (last {RETENTION_DAYS} days): {retention}",
            f"Streak: {self.streak_days} day{'s' if self.streak_days != 1 else ''}",
        ]
        if self.hardest:
            lines.append("Hardest terms:")
            lines.extend(f"  {h.term}: {h.wrong} wrong of {h.answered}" for h in self.hardest)
        return lines


def streak(days: set[date], today: date) -> int:
    """Consecutive days with a review, ending today (or yesterday: the streak lives all today)."""
    current = today if today in days else today - timedelta(days=1)
    count = 0
    while current in days:
        count += 1
        current -= timedelta(days=1)
    return count


def _local_day(moment: datetime) -> date:
    return moment.astimezone().date()


def compute_stats(scheduler: QuizScheduler) -> QuizStats:
    """Gather the stats from the cards and the review log."""
    now = scheduler.now()
    end_of_today = start_of_day(now) + timedelta(days=1)
    known = {t.id: t for t in scheduler.glossary.terms}
    dues = {tid: d for tid, d in scheduler.store.dues().items() if tid in known}
    reviews = scheduler.store.reviews()
    recent = [r for r in reviews if r.reviewed_at >= now - timedelta(days=RETENTION_DAYS)]
    retention = sum(r.correct for r in recent) / len(recent) if recent else None
    answered: Counter[str] = Counter(r.term_id for r in reviews if r.term_id in known)
    wrong: Counter[str] = Counter(
        r.term_id for r in reviews if r.term_id in known and not r.correct
    )
    hardest = [
        HardTerm(known[tid].term, n, answered[tid])
        for tid, n in sorted(
            wrong.items(), key=lambda kv: (-kv[1] / answered[kv[0]], -kv[1], kv[0])
        )
    ][:HARDEST]
    return QuizStats(
        terms=len(known),
        cards=len(dues),
        due_now=sum(d <= now for d in dues.values()),
        due_today=sum(d < end_of_today for d in dues.values()),
        new_left_today=min(scheduler.new_left_today(now), len(known) - len(dues)),
        reviews=len(reviews),
        retention=retention,
        streak_days=streak({_local_day(r.reviewed_at) for r in reviews}, _local_day(now)),
        hardest=hardest,
    )
