"""Quiz state in the database: one FSRS card per term (the package's JSON) and the append-only
review log.

A card's id is derived from its term id, never from the clock, so a card rebuilt from the log is
the same card. A card whose JSON cannot be read is rebuilt from the log rather than lost.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from fsrs import Card, Rating, ReviewLog, Scheduler

from tutor.quiz.clock import iso, parse_iso
from tutor.store.db import Database
from tutor.store.pending import Writer


def card_id_for(term_id: str) -> int:
    """A stable card id for a term: 48 bits of its SHA-256 (fits SQLite and JSON integers)."""
    return int(hashlib.sha256(term_id.encode()).hexdigest()[:12], 16)


def new_card(term_id: str, due: datetime) -> Card:
    """A fresh card for a term, due at ``due``."""
    return Card(card_id=card_id_for(term_id), due=due)


@dataclass(frozen=True)
class Review:
    """One row of the review log."""

    term_id: str
    rating: int
    reviewed_at: datetime
    mode: str
    correct: bool
    seconds: float


class CardStore:
    """Reads and writes cards and review rows; a review and its card change in one transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def load(self, term_id: str, scheduler: Scheduler) -> Card | None:
        """The term's card, None when it has none; a damaged card is rebuilt from the log."""
        rows = self.db.query("SELECT card_json FROM cards WHERE term_id = ?", (term_id,))
        if not rows:
            return None
        try:
            card = Card.from_json(rows[0][0])
            if card.due.tzinfo is None:
                raise ValueError("naive due date")
            return card
        except (ValueError, KeyError, TypeError, json.JSONDecodeError):
            return self.rebuild(term_id, scheduler)

    def rebuild(self, term_id: str, scheduler: Scheduler) -> Card:
        """Replay the term's logged ratings through the scheduler (fuzz may differ; memory won't)."""
        reviews = self.reviews(term_id)
        card_id = card_id_for(term_id)
        logs = [ReviewLog(card_id, Rating(r.rating), r.reviewed_at, None) for r in reviews]
        start = reviews[0].reviewed_at if reviews else None
        card = new_card(term_id, start) if start else Card(card_id=card_id)
        return scheduler.reschedule_card(card, logs) if logs else card

    def save(self, term_id: str, card: Card) -> None:
        """Store a card on its own (used when an exercise makes a term due)."""
        with self.db.transaction(f"the quiz card for {term_id!r} made due") as conn:
            self._upsert(conn, term_id, card)

    def record(self, review: Review, card: Card, log: ReviewLog) -> None:
        """Append the review and store the card it produced, atomically."""
        with self.db.transaction(f"a quiz review of {review.term_id!r}") as conn:
            self._upsert(conn, review.term_id, card)
            conn.execute(
                "INSERT INTO review_log(term_id, rating, reviewed_at, mode, correct, seconds, "
                "log_json) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    review.term_id,
                    review.rating,
                    iso(review.reviewed_at),
                    review.mode,
                    int(review.correct),
                    round(review.seconds, 3),
                    log.to_json(),
                ),
            )

    @staticmethod
    def _upsert(conn: Writer, term_id: str, card: Card) -> None:
        conn.execute(
            "INSERT INTO cards(term_id, card_json, due) VALUES (?, ?, ?) "
            "ON CONFLICT(term_id) DO UPDATE SET card_json = excluded.card_json, due = excluded.due",
            (term_id, card.to_json(), iso(card.due)),
        )

    def dues(self) -> dict[str, datetime]:
        """Every card's due time by term id."""
        result: dict[str, datetime] = {}
        for term_id, due in self.db.query("SELECT term_id, due FROM cards"):
            moment = parse_iso(due)
            if moment is not None:
                result[term_id] = moment
        return result

    def reviews(self, term_id: str | None = None, since: datetime | None = None) -> list[Review]:
        """Logged reviews in order, optionally of one term and from ``since`` on."""
        sql = "SELECT term_id, rating, reviewed_at, mode, correct, seconds FROM review_log"
        where: list[str] = []
        params: list[str] = []
        if term_id is not None:
            where.append("term_id = ?")
            params.append(term_id)
        if since is not None:
            where.append("reviewed_at >= ?")
            params.append(iso(since))
        if where:
            sql += " WHERE " + " AND ".join(where)
        result = []
        for row in self.db.query(sql + " ORDER BY reviewed_at, id", tuple(params)):
            moment = parse_iso(row[2])
            if moment is None:
                continue
            result.append(Review(row[0], int(row[1]), moment, row[3], bool(row[4]), float(row[5])))
        return result

    def first_reviewed_since(self, since: datetime) -> int:
        """How many terms had their very first review at or after ``since`` (new cards used up)."""
        rows = self.db.query(
            "SELECT COUNT(*) FROM (SELECT term_id FROM review_log GROUP BY term_id "
            "HAVING MIN(reviewed_at) >= ?)",
            (iso(since),),
        )
        return int(rows[0][0])

    def latest_review(self) -> datetime | None:
        """The time of the newest logged review, if any."""
        rows = self.db.query("SELECT MAX(reviewed_at) FROM review_log")
        return parse_iso(rows[0][0]) if rows and rows[0][0] else None
