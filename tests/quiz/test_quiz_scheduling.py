"""Scheduling with FSRS under a fixed clock: due dates move as FSRS says for each rating, due
cards come before new ones, the daily limit holds, the log is append-only UTC, a backwards clock
is taken as now, and failed exercises make their terms due."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from fsrs import Card, Rating, Scheduler

from tutor.lessons.model import Glossary, Term
from tutor.quiz.cards import card_id_for
from tutor.quiz.feed import exercise_failed
from tutor.quiz.rating import rate
from tutor.quiz.scheduler import QuizScheduler
from tutor.store.db import Database

FIXTURE = Path(__file__).parents[1] / "fixtures" / "quiz"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def make(db: Database, glossary: Glossary, clock: FakeClock, **kwargs: int) -> QuizScheduler:
    return QuizScheduler(db, glossary, clock, fuzz=False, **kwargs)


def term(glossary: Glossary, name: str) -> Term:
    found = glossary.lookup(name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("correct", "hinted", "seconds", "rating", "interval"),
    [
        (False, False, 3.0, Rating.Again, timedelta(minutes=1)),
        (True, True, 3.0, Rating.Hard, timedelta(minutes=5, seconds=30)),
        (True, False, 20.0, Rating.Good, timedelta(minutes=10)),
        (True, False, 3.0, Rating.Easy, timedelta(days=8)),
    ],
)
def test_first_review_moves_due_as_fsrs_says(
    db: Database,
    glossary: Glossary,
    correct: bool,
    hinted: bool,
    seconds: float,
    rating: Rating,
    interval: timedelta,
) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    outcome = scheduler.record(
        term(glossary, "epoch"), correct=correct, hinted=hinted, seconds=seconds
    )
    assert outcome.rating == rating
    assert outcome.due - T0 == interval
    expected, _ = Scheduler(enable_fuzzing=False).review_card(Card(card_id=1, due=T0), rating, T0)
    assert outcome.due == expected.due


def test_a_sequence_of_reviews_matches_fsrs(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    epoch = term(glossary, "epoch")
    reference = Scheduler(enable_fuzzing=False)
    card = Card(card_id=card_id_for(epoch.id), due=T0)
    for correct, seconds in [(True, 30.0), (True, 30.0), (False, 2.0), (True, 30.0), (True, 2.0)]:
        clock.now = card.due  # review exactly when due
        outcome = scheduler.record(epoch, correct=correct, seconds=seconds)
        card, _ = reference.review_card(card, rate(correct, False, seconds, "choice"), clock.now)
        assert outcome.due == card.due
        stored = scheduler.card(epoch)
        assert stored is not None and stored.to_dict() == card.to_dict()
    assert card.due - T0 > timedelta(days=1)


def test_card_state_is_the_packages_json_keyed_by_term(db: Database, glossary: Glossary) -> None:
    scheduler = make(db, glossary, FakeClock())
    scheduler.record(term(glossary, "SGD"), correct=True, seconds=30)
    rows = db.query("SELECT term_id, card_json, due FROM cards")
    assert [r["term_id"] for r in rows] == ["stochastic-gradient-descent-sgd"]
    card = Card.from_json(rows[0]["card_json"])
    assert card.card_id == card_id_for("stochastic-gradient-descent-sgd")
    assert rows[0]["due"] == "2026-03-02T09:10:00+00:00"


def test_review_log_is_append_only_with_utc_times(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    tensor = term(glossary, "Tensor")
    scheduler.record(tensor, correct=False, seconds=4, mode="typed")
    clock.advance(minutes=2)
    scheduler.record(tensor, correct=True, seconds=30, mode="typed")
    rows = db.query("SELECT term_id, rating, reviewed_at, mode, correct, log_json FROM review_log")
    assert [(r["rating"], r["correct"], r["mode"]) for r in rows] == [
        (1, 0, "typed"),
        (3, 1, "typed"),
    ]
    assert [r["reviewed_at"] for r in rows] == [
        "2026-03-02T09:00:00+00:00",
        "2026-03-02T09:02:00+00:00",
    ]
    assert json.loads(rows[0]["log_json"])["rating"] == 1


def test_due_cards_come_first_then_new_ones(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    scheduler.record(term(glossary, "overfitting"), correct=False)  # due in 1 minute
    scheduler.record(term(glossary, "epoch"), correct=True, seconds=30)  # due in 10 minutes
    clock.advance(minutes=30)
    picked = scheduler.pick(4)
    assert [t.term for t in picked[:2]] == ["overfitting", "epoch"]  # the oldest due first
    assert all(t.id not in ("overfitting", "epoch") for t in picked[2:])
    assert picked[2].term == "Tensor"  # then new terms in glossary order


def test_new_terms_are_limited_per_day(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock, new_per_day=3)
    first = scheduler.pick(10)
    assert len(first) == 3
    for item in first:
        scheduler.record(item, correct=True, seconds=1)  # Easy: gone for days
    assert scheduler.pick(10) == []
    assert scheduler.new_left_today() == 0
    clock.advance(days=1)
    assert len(scheduler.pick(10)) == 3


def test_new_per_day_comes_from_the_settings(db: Database, glossary: Glossary) -> None:
    db.set_setting("quiz.new_per_day", "2")
    assert len(QuizScheduler(db, glossary, FakeClock()).pick(10)) == 2


def test_code_mode_only_picks_terms_with_examples(db: Database, glossary: Glossary) -> None:
    picked = make(db, glossary, FakeClock()).pick(20, "code")
    assert picked and all(t.example for t in picked)
    assert "overfitting" not in {t.id for t in picked}


def test_a_clock_going_backwards_is_taken_as_now(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    tensor = term(glossary, "Tensor")
    scheduler.record(tensor, correct=True, seconds=30)
    clock.now = T0 - timedelta(days=3)  # the clock jumps back
    assert scheduler.now() == T0
    outcome = scheduler.record(tensor, correct=True, seconds=30)
    assert outcome.due >= T0
    times = [r[0] for r in db.query("SELECT reviewed_at FROM review_log ORDER BY id")]
    assert times == sorted(times) and times[-1] == "2026-03-02T09:00:00+00:00"


def test_naive_and_other_zones_are_converted_to_utc(db: Database, glossary: Glossary) -> None:
    east = timezone(timedelta(hours=2))
    clock = FakeClock(datetime(2026, 3, 2, 11, 0, tzinfo=east))
    outcome = make(db, glossary, clock).record(term(glossary, "batch"), correct=True, seconds=30)
    assert outcome.due == T0 + timedelta(minutes=10)
    naive = FakeClock(datetime(2026, 3, 2, 9, 30))
    outcome = make(db, glossary, naive).record(term(glossary, "batch"), correct=True, seconds=30)
    assert outcome.due.tzinfo is not None


def test_a_damaged_card_is_rebuilt_from_the_log(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    epoch = term(glossary, "epoch")
    scheduler.record(epoch, correct=True, seconds=30)
    good = scheduler.card(epoch)
    with db.transaction() as conn:
        conn.execute("UPDATE cards SET card_json = '{broken' WHERE term_id = 'epoch'")
    rebuilt = scheduler.card(epoch)
    assert rebuilt is not None and good is not None
    assert rebuilt.due == good.due and rebuilt.stability == good.stability


def test_failed_exercise_makes_terms_due_now(db: Database, glossary: Glossary) -> None:
    clock = FakeClock()
    scheduler = make(db, glossary, clock)
    scheduler.record(term(glossary, "torch.sum"), correct=True, seconds=1)  # Easy: due in 8 days
    clock.advance(hours=1)
    changed = exercise_failed(
        db, glossary, ["torch.sum", "SGD", "no such term", "sgd"], now=clock.now
    )
    assert changed == ["torch-sum", "stochastic-gradient-descent-sgd"]
    due = scheduler.store.dues()
    assert due["torch-sum"] == clock.now
    assert due["stochastic-gradient-descent-sgd"] == clock.now
    # Both come first now, and neither used up a new-term slot nor logged a review.
    assert {t.id for t in scheduler.pick(2)} == {"torch-sum", "stochastic-gradient-descent-sgd"}
    assert len(db.query("SELECT id FROM review_log")) == 1
    # The memory state of the reviewed card is kept.
    card = scheduler.card(term(glossary, "torch.sum"))
    assert card is not None and card.stability is not None and card.stability > 5


def test_failed_exercise_uses_the_real_clock_by_default(db: Database, glossary: Glossary) -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    assert exercise_failed(db, glossary, ["epoch"]) == ["epoch"]
    due = QuizScheduler(db, glossary).store.dues()["epoch"]
    assert before <= due <= datetime.now(timezone.utc) + timedelta(seconds=1)
