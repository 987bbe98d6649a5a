"""One sitting of the quiz: the terms picked, the question in hand, hints, answers and a summary.

The app's quiz screen and the plain terminal quiz both drive this class, so they rate and store
answers the same way. Time spent on a question is measured with an injectable monotonic timer.
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from fsrs import Rating

from tutor.lessons.links import plain
from tutor.lessons.model import Term
from tutor.quiz.matching import check_typed
from tutor.quiz.questions import Mode, Question, build_question, choices_to_hide, typed_hint
from tutor.quiz.scheduler import QuizScheduler, describe_interval

MAX_ANSWER_CHARS = 200


class InvalidAnswer(Exception):
    """Input that is no answer (an empty line, a number out of range); it is not counted."""


@dataclass(frozen=True)
class Feedback:
    """What the learner sees after an answer: right or not, the right term and its definition,
    the steps that teach it, and when the term comes back."""

    correct: bool
    question: Question
    given: str
    note: str
    rating: Rating
    due: datetime
    due_in: str

    @property
    def term(self) -> Term:
        return self.question.term

    @property
    def definition(self) -> str:
        return plain(self.term.definition).strip()

    @property
    def steps(self) -> tuple[str, ...]:
        return self.term.steps


@dataclass
class Summary:
    """Counts for the end of a session."""

    asked: int = 0
    right: int = 0
    hinted: int = 0
    ratings: Counter[str] = field(default_factory=Counter)

    def text(self) -> str:
        if not self.asked:
            return "No questions answered."
        parts = ", ".join(f"{name} {n}" for name, n in sorted(self.ratings.items()))
        hints = f", {self.hinted} with a hint" if self.hinted else ""
        return f"{self.right} of {self.asked} right{hints} (ratings: {parts})."


def _digit(text: str) -> int | None:
    """A choice number typed as ``2``, ``2.``, ``(2)`` or a full-width digit; else None."""
    folded = unicodedata.normalize("NFKC", text).strip().strip(".)(")
    return int(folded) if folded.isdecimal() and len(folded) <= 2 else None


class QuizSession:
    """Asks up to ``count`` picked terms in ``mode``; call ``answer`` then ``advance``."""

    def __init__(
        self,
        scheduler: QuizScheduler,
        mode: Mode = "choice",
        count: int = 10,
        *,
        rng: random.Random | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.scheduler = scheduler
        self.glossary = scheduler.glossary
        self.mode: Mode = mode
        self.rng = rng or random.Random()
        self.timer = timer
        self.terms: list[Term] = scheduler.pick(count, mode)
        self.index = 0
        self.summary = Summary()
        self.question: Question | None = None
        self.hinted = False
        self.hidden: set[int] = set()
        self.feedback: Feedback | None = None
        self._started = 0.0
        self._prepare()

    @property
    def finished(self) -> bool:
        return self.question is None

    @property
    def position(self) -> str:
        """``3/10`` for the question in hand."""
        return f"{min(self.index + 1, len(self.terms))}/{len(self.terms)}"

    def empty_reason(self) -> str:
        """Why a session has no questions, with when to come back."""
        if self.mode == "code" and not self.scheduler.eligible("code"):
            return "No glossary term has a code example; try another mode."
        upcoming = self.scheduler.next_due()
        if upcoming is None:
            return "Nothing to review: no new terms are left for today."
        when = describe_interval(upcoming - self.scheduler.now())
        return f"Nothing is due and today's new terms are done; the next review is {when}."

    def _prepare(self) -> None:
        self.hinted = False
        self.hidden = set()
        self.feedback = None
        if self.index >= len(self.terms):
            self.question = None
            return
        term = self.terms[self.index]
        self.question = build_question(term, self.glossary, self.mode, self.rng)
        self._started = self.timer()

    def hint(self) -> str:
        """Give a hint (the answer will rate Hard at best): hide wrong choices, or show the shape
        of the term."""
        question = self.question
        if question is None or self.feedback is not None:
            return ""
        self.hinted = True
        if question.choices:
            self.hidden = choices_to_hide(question, self.rng)
            left = ", ".join(
                str(i + 1) for i in range(len(question.choices)) if i not in self.hidden
            )
            shape = (
                f" The term looks like: {typed_hint(question.term)}"
                if question.mode == "code"
                else ""
            )
            return f"It is one of {left}.{shape}"
        return f"The term looks like: {typed_hint(question.term)}"

    def answer(self, text: str) -> Feedback:
        """Check an answer, rate it, update the card and return the feedback.

        Raises ``InvalidAnswer`` for input that is no answer; nothing is recorded then.
        """
        question = self.question
        if question is None:
            raise InvalidAnswer("The quiz is over.")
        if self.feedback is not None:
            return self.feedback
        text = text[:MAX_ANSWER_CHARS]
        seconds = max(0.0, self.timer() - self._started)
        number = _digit(text) if question.choices else None
        typed = ""
        note = ""
        if number is not None:
            if not 1 <= number <= len(question.choices) or (number - 1) in self.hidden:
                shown = [str(i + 1) for i in range(len(question.choices)) if i not in self.hidden]
                raise InvalidAnswer(f"Pick one of {', '.join(shown)}.")
            correct = number - 1 == question.answer_index
            given = question.choice_terms[number - 1].term
            if not correct and question.mode == "choice":
                note = f"You picked the meaning of “{given}”."
        elif question.accepts_text:
            typed = text.strip()
            if not typed:
                raise InvalidAnswer("Type the term, or ? for a hint.")
            verdict = check_typed(typed, question.term, self.glossary)
            correct = verdict.accepted
            given = typed
            if verdict.other is not None and not correct:
                note = f"“{typed}” names “{verdict.other.term}”, a different term."
            elif correct and verdict.typos:
                note = f"Accepted; it is spelled “{question.term.term}”."
        else:
            raise InvalidAnswer(
                f"Type a number from 1 to {len(question.choices)}, or ? for a hint."
            )
        outcome = self.scheduler.record(
            question.term,
            correct=correct,
            hinted=self.hinted,
            seconds=seconds,
            mode=question.mode,
            typed=typed,
        )
        self.summary.asked += 1
        self.summary.right += int(correct)
        self.summary.hinted += int(self.hinted)
        self.summary.ratings[outcome.rating.name] += 1
        due_in = describe_interval(outcome.due - self.scheduler.now())
        self.feedback = Feedback(
            correct, question, given, note, outcome.rating, outcome.due, due_in
        )
        return self.feedback

    def switch_mode(self, mode: Mode) -> None:
        """Ask the rest of the sitting in ``mode``: the count goes on, answers so far stay counted.

        An answered question in hand counts as done; the unanswered one is asked again in the new
        mode. The terms still to come are picked anew, since a mode may not suit every term (code
        needs an example); a term already asked in this sitting is not asked twice.
        """
        if mode == self.mode:
            return
        done = self.index + (1 if self.feedback is not None else 0)
        total = len(self.terms)
        self.mode = mode
        asked = {term.id for term in self.terms[:done]}
        fresh = [t for t in self.scheduler.pick(total + len(asked), mode) if t.id not in asked]
        self.terms = [*self.terms[:done], *fresh[: max(0, total - done)]]
        self.index = done
        self._prepare()

    def advance(self) -> Question | None:
        """Move to the next question (after an answer, or skipping one unanswered)."""
        self.index += 1
        self._prepare()
        return self.question
