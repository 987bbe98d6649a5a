"""Which terms to ask and what an answer does to their cards, with FSRS.

Due cards come first (oldest due first), then new terms up to a daily limit. The clock is
injected; a clock reading earlier than the newest review is taken as that review's time, so a
clock that jumps back never schedules into the past or breaks FSRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Card, Rating, Scheduler

from tutor.lessons.model import Glossary, Term
from tutor.quiz.cards import CardStore, Review, new_card
from tutor.quiz.clock import Clock, as_utc, system_clock
from tutor.quiz.rating import rate
from tutor.store.db import Database

NEW_PER_DAY_KEY = "quiz.new_per_day"
DEFAULT_NEW_PER_DAY = 10


def start_of_day(moment: datetime) -> datetime:
    """The learner's local midnight before ``moment``, in UTC: "today" follows the learner's day."""
    local = as_utc(moment).astimezone()
    return as_utc(local.replace(hour=0, minute=0, second=0, microsecond=0))


@dataclass(frozen=True)
class Outcome:
    """What one answer did: its rating and the card's next due time."""

    rating: Rating
    due: datetime
    card: Card


class QuizScheduler:
    """Picks terms for a session and records answers as FSRS reviews."""

    def __init__(
        self,
        db: Database,
        glossary: Glossary,
        clock: Clock = system_clock,
        *,
        new_per_day: int | None = None,
        fuzz: bool = True,
    ) -> None:
        self.db = db
        self.glossary = glossary
        self.clock = clock
        self.store = CardStore(db)
        # Fuzz spreads reviews of cards learned together; tests turn it off to compare with FSRS.
        self.fsrs = Scheduler(enable_fuzzing=fuzz)
        if new_per_day is None:
            setting = db.get_setting(NEW_PER_DAY_KEY)
            new_per_day = int(setting) if setting and setting.isdigit() else DEFAULT_NEW_PER_DAY
        self.new_per_day = max(0, new_per_day)

    def now(self) -> datetime:
        """The clock's time in UTC, never earlier than the newest logged review."""
        moment = as_utc(self.clock())
        latest = self.store.latest_review()
        return max(moment, latest) if latest else moment

    def eligible(self, mode: str) -> list[Term]:
        """Terms a question of ``mode`` can be built for (code needs an example)."""
        if mode == "code":
            return [t for t in self.glossary.terms if t.example.strip()]
        return list(self.glossary.terms)

    def new_left_today(self, now: datetime | None = None) -> int:
        """How many never-seen terms may still be introduced today."""
        now = now or self.now()
        used = self.store.first_reviewed_since(start_of_day(now))
        return max(0, self.new_per_day - used)

    def pick(self, count: int, mode: str = "choice") -> list[Term]:
        """Up to ``count`` terms: due ones first, oldest due first, then new ones within the limit."""
        now = self.now()
        dues = self.store.dues()
        terms = self.eligible(mode)
        due = sorted(
            (t for t in terms if t.id in dues and dues[t.id] <= now), key=lambda t: dues[t.id]
        )
        new = [t for t in terms if t.id not in dues][: self.new_left_today(now)]
        return [*due, *new][: max(0, count)]

    def next_due(self) -> datetime | None:
        """When the next card falls due after now, or None without cards."""
        now = self.now()
        later = [d for d in self.store.dues().values() if d > now]
        return min(later) if later else None

    def card(self, term: Term) -> Card | None:
        """The term's card, or None when it was never reviewed nor fed."""
        return self.store.load(term.id, self.fsrs)

    def record(
        self,
        term: Term,
        *,
        correct: bool,
        hinted: bool = False,
        seconds: float = 0.0,
        mode: str = "choice",
        typed: str = "",
    ) -> Outcome:
        """Rate an answer, review the term's card with FSRS, store the card and log the review."""
        now = self.now()
        card = self.store.load(term.id, self.fsrs) or new_card(term.id, now)
        if card.last_review is not None and now < card.last_review:
            now = card.last_review
        rating = rate(correct, hinted, seconds, mode, typed)
        duration = int(max(0.0, seconds) * 1000)
        card, log = self.fsrs.review_card(card, rating, now, review_duration=duration)
        review = Review(term.id, int(rating), now, mode, correct, max(0.0, seconds))
        self.store.record(review, card, log)
        return Outcome(rating, card.due, card)

    def make_due(self, term: Term, now: datetime | None = None) -> None:
        """Bring a term's card forward to now (a new card for a term never quizzed)."""
        now = now or self.now()
        card = self.store.load(term.id, self.fsrs)
        if card is None:
            card = new_card(term.id, now)
        elif card.due > now:
            card.due = now
        self.store.save(term.id, card)


def describe_interval(delta: timedelta) -> str:
    """A short human wording of an interval: "in 10 minutes", "in 3 days"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return "in a minute" if seconds >= 30 else "now"
    if seconds < 90 * 60:
        return f"in {round(seconds / 60)} minutes"
    if seconds < 36 * 3600:
        return f"in {round(seconds / 3600)} hours"
    days = round(seconds / 86400)
    return "in 1 day" if days == 1 else f"in {days} days"
