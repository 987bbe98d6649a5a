"""Questions and sessions: distractors, masking, hints, ratings from answers and timing."""

from __future__ import annotations

import io
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from fsrs import Rating

from tutor.lessons.model import Glossary, Term
from tutor.quiz.plain import run_plain
from tutor.quiz.questions import (
    MASK,
    Mode,
    build_question,
    distractors,
    masked_definition,
    typed_hint,
)
from tutor.quiz.rating import fast_limit, rate
from tutor.quiz.scheduler import QuizScheduler
from tutor.quiz.session import InvalidAnswer, QuizSession
from tutor.quiz.source import QuizError, load_quiz_glossary
from tutor.store.db import Database

FIXTURE = Path(__file__).parents[1] / "fixtures" / "quiz"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


class Timer:
    """A monotonic timer moved by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def get(glossary: Glossary, name: str) -> Term:
    found = glossary.lookup(name)
    assert found is not None
    return found


def session(
    db: Database, glossary: Glossary, mode: Mode = "choice", count: int = 5, **kw: Any
) -> QuizSession:
    scheduler = QuizScheduler(db, glossary, lambda: T0, fuzz=False)
    return QuizSession(scheduler, mode, count, rng=random.Random(3), **kw)


@pytest.mark.parametrize("seed", range(25))
def test_choices_never_show_the_right_one_twice(glossary: Glossary, seed: int) -> None:
    rng = random.Random(seed)
    for item in glossary.terms:
        question = build_question(item, glossary, "choice", rng)
        assert len(question.choices) == 4
        assert len(set(question.choices)) == 4
        assert [t.id for t in question.choice_terms].count(item.id) == 1
        assert question.choice_terms[question.answer_index].id == item.id


def test_distractors_prefer_related_terms_then_same_kind(glossary: Glossary) -> None:
    sgd = get(glossary, "SGD")
    picked = distractors(sgd, glossary, 2, random.Random(0), by="definition")
    assert {t.term for t in picked} == {"step", "step size (learning rate)"}
    torch_sum = get(glossary, "torch.sum")
    picked = distractors(torch_sum, glossary, 3, random.Random(0), by="definition")
    assert picked[0].term == "torch.mm"  # the only related term
    assert all(t.kind == "api" for t in picked)  # then the same kind


def test_distractors_skip_duplicate_definitions(glossary: Glossary) -> None:
    twin = Term(
        id="twin", term="twin", definition=get(glossary, "epoch").definition, related=("epoch",)
    )
    doubled = Glossary((*glossary.terms, twin))
    for seed in range(10):
        question = build_question(twin, doubled, "choice", random.Random(seed))
        assert len(set(question.choices)) == len(question.choices)
        assert "epoch" not in {t.id for t in question.choice_terms}


def test_small_glossaries_give_fewer_choices(glossary: Glossary) -> None:
    small = Glossary(glossary.terms[:2])
    question = build_question(small.terms[0], small, "choice", random.Random(0))
    assert len(question.choices) == 2


def test_definitions_hide_the_terms_names(glossary: Glossary) -> None:
    tensor = get(glossary, "Tensor")
    masked = masked_definition(tensor)
    assert "tensor" not in masked.lower() and MASK in masked
    question = build_question(tensor, glossary, "typed", random.Random(0))
    assert "tensors" not in question.prompt.lower()


def test_code_questions_show_the_example(glossary: Glossary) -> None:
    question = build_question(get(glossary, "backpropagation"), glossary, "code", random.Random(1))
    assert question.snippet == "loss.backward()"
    assert question.choices[question.answer_index] == "backpropagation"
    with pytest.raises(ValueError):
        build_question(get(glossary, "overfitting"), glossary, "code", random.Random(1))


def test_typed_hint_shows_the_shape(glossary: Glossary) -> None:
    assert typed_hint(get(glossary, "batch size")) == "b____ s___"
    assert typed_hint(get(glossary, "torch.sum")) == "t____.s__"


@pytest.mark.parametrize(
    ("correct", "hinted", "seconds", "mode", "typed", "rating"),
    [
        (False, False, 1, "choice", "", Rating.Again),
        (False, True, 1, "typed", "x", Rating.Again),
        (True, True, 1, "choice", "", Rating.Hard),
        (True, False, 7.9, "choice", "", Rating.Easy),
        (True, False, 8.1, "choice", "", Rating.Good),
        (True, False, 9.5, "code", "", Rating.Easy),
        (True, False, 12, "typed", "stochastic gradient descent", Rating.Easy),
        (True, False, 12, "typed", "sgd", Rating.Good),
    ],
)
def test_rating_from_the_answer(
    correct: bool, hinted: bool, seconds: float, mode: str, typed: str, rating: Rating
) -> None:
    assert rate(correct, hinted, seconds, mode, typed) == rating


def test_typed_answers_get_more_time_when_longer() -> None:
    assert fast_limit("typed", "sgd") < fast_limit("typed", "stochastic gradient descent")
    assert fast_limit("choice") == 8.0


def test_a_choice_session_rates_and_stores_each_answer(db: Database, glossary: Glossary) -> None:
    timer = Timer()
    quiz = session(db, glossary, count=3, timer=timer)
    assert quiz.position == "1/3"
    first = quiz.question
    assert first is not None
    timer.t += 20
    feedback = quiz.answer(str(first.answer_index + 1))
    assert feedback.correct and feedback.rating == Rating.Good
    assert feedback.steps == first.term.steps and feedback.due_in == "in 10 minutes"
    assert quiz.answer("1") is feedback  # a second answer changes nothing
    quiz.advance()
    second = quiz.question
    assert second is not None
    wrong = next(i for i in range(4) if i != second.answer_index)
    feedback = quiz.answer(f"{wrong + 1}")
    assert not feedback.correct and feedback.rating == Rating.Again
    assert "You picked the meaning of" in feedback.note
    quiz.advance()
    third = quiz.question
    assert third is not None
    hint = quiz.hint()
    assert len(quiz.hidden) == 2
    assert third.answer_index not in quiz.hidden and "It is one of" in hint
    hidden = next(iter(quiz.hidden))
    with pytest.raises(InvalidAnswer):
        quiz.answer(str(hidden + 1))  # a hidden choice is no answer
    feedback = quiz.answer(str(third.answer_index + 1))
    assert feedback.correct and feedback.rating == Rating.Hard
    assert quiz.advance() is None and quiz.finished
    assert quiz.summary.asked == 3 and quiz.summary.right == 2 and quiz.summary.hinted == 1
    assert len(db.query("SELECT id FROM review_log")) == 3


@pytest.mark.parametrize("junk", ["", "   ", "0", "5", "99", "abc", "١٢٣"])
def test_no_answer_in_choice_mode_is_not_counted(
    db: Database, glossary: Glossary, junk: str
) -> None:
    quiz = session(db, glossary)
    with pytest.raises(InvalidAnswer):
        quiz.answer(junk)
    assert quiz.summary.asked == 0 and not db.query("SELECT id FROM review_log")


def test_full_width_digits_pick_a_choice(db: Database, glossary: Glossary) -> None:
    quiz = session(db, glossary)
    assert quiz.question is not None
    number = "１２３４"[quiz.question.answer_index]
    assert quiz.answer(number).correct


def test_typed_session_accepts_aliases_and_names_other_terms(
    db: Database, glossary: Glossary
) -> None:
    quiz = session(db, glossary, mode="typed", count=14)
    seen = 0
    while quiz.question is not None:
        item = quiz.question.term
        if item.term == "stochastic gradient descent (SGD)":
            assert quiz.answer("sgd").correct
            seen += 1
        elif item.term == "batch size":
            feedback = quiz.answer("batch")
            assert not feedback.correct and "names “batch”" in feedback.note
            seen += 1
        else:
            with pytest.raises(InvalidAnswer):
                quiz.answer("  ")
            assert quiz.answer(item.term + "\u0301\x00").correct  # stray combining mark, NUL
        quiz.advance()
    assert seen == 2
    assert quiz.summary.asked == 10  # the daily limit of new terms


def test_code_session_accepts_a_number_or_the_name(db: Database, glossary: Glossary) -> None:
    quiz = session(db, glossary, mode="code", count=2)
    question = quiz.question
    assert question is not None and question.snippet
    assert quiz.answer(question.term.term.upper()).correct
    quiz.advance()
    question = quiz.question
    assert question is not None
    assert quiz.answer(str(question.answer_index + 1)).correct


def test_an_empty_session_says_when_to_come_back(db: Database, glossary: Glossary) -> None:
    db.set_setting("quiz.new_per_day", "1")
    quiz = session(db, glossary)
    assert quiz.question is not None
    quiz.answer(str(quiz.question.answer_index + 1))
    again = session(db, glossary)
    assert again.finished
    assert "next review is in 8 days" in again.empty_reason()


def test_plain_loop_reads_until_end_of_input(db: Database, glossary: Glossary) -> None:
    quiz = session(db, glossary, count=3)
    assert quiz.question is not None
    right = quiz.question.answer_index + 1
    out = io.StringIO()
    summary = run_plain(quiz, io.StringIO(f"?\nfoo\n{right}\n"), out)
    text = out.getvalue()
    assert "It is one of" in text and "Type a number from 1 to 4" in text and "Right." in text
    assert "Taught in: tensors.intro" in text
    assert summary.asked == 1 and text.rstrip().endswith("(ratings: Hard 1).")


def test_empty_or_broken_glossaries_are_refused(tmp_path: Path) -> None:
    with pytest.raises(QuizError, match="No glossary found"):
        load_quiz_glossary(tmp_path)
    (tmp_path / "glossary.toml").write_text("# nothing\n")
    with pytest.raises(QuizError, match="no usable terms"):
        load_quiz_glossary(tmp_path)
    (tmp_path / "glossary.toml").write_text("[[terms]\n")
    with pytest.raises(QuizError, match="invalid TOML"):
        load_quiz_glossary(tmp_path / "glossary.toml")
