"""Pilot tests of the quiz screen at 80x24: a choice round, a typed round, hints, stats."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from pathlib import Path

from textual.app import App
from textual.widgets import Input, Static

from tutor.lessons.model import Glossary
from tutor.quiz.questions import Mode
from tutor.store.db import Database
from tutor.ui.screens.quiz import QuizApp, QuizScreen, QuizStatsScreen

FIXTURE = Path(__file__).parents[1] / "fixtures" / "quiz"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
LESSON = """
id = "tensors"
title = "Tensors"
summary = "The lesson the fixture's Tensor term points at."

[[steps]]
id = "intro"
kind = "concept"
title = "Tensors"
text = "A [[Tensor]] holds numbers."
"""


def text_of(app: App[None], selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def make_app(glossary: Glossary, db: Database, mode: Mode = "choice", count: int = 2) -> QuizApp:
    return QuizApp(glossary, db, mode=mode, count=count, clock=lambda: T0, rng=random.Random(5))


async def test_a_choice_round(glossary: Glossary, db: Database) -> None:
    app = make_app(glossary, db)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, QuizScreen) and screen.session is not None
        question = screen.session.question
        assert question is not None and question.term.term == "Tensor"
        assert "What does “Tensor” mean?" in text_of(app, "#quiz-prompt")
        assert "1/2" in text_of(app, "#quiz-status")
        assert text_of(app, f"#choice-{question.answer_index + 1}").startswith(
            f"{question.answer_index + 1}. A multi-dimensional array"
        )
        assert not app.screen.query_one("#quiz-input", Input).display
        await pilot.press(str(question.answer_index + 1))
        feedback = text_of(app, "#quiz-feedback")
        assert feedback.startswith("Right.") and "Taught in: tensors.intro" in feedback
        await pilot.press("n")
        second = screen.session.question
        assert second is not None and second.term.term == "neural network"
        await pilot.press("h")
        assert "It is one of" in text_of(app, "#quiz-note")
        hidden = next(iter(screen.session.hidden))
        assert text_of(app, f"#choice-{hidden + 1}") == f"{hidden + 1}. —"
        await pilot.press(str(hidden + 1))  # a hidden choice does nothing but say so
        assert screen.session.feedback is None and "Pick one of" in text_of(app, "#quiz-note")
        wrong = next(
            i for i in range(4) if i != second.answer_index and i not in screen.session.hidden
        )
        await pilot.press(str(wrong + 1))
        assert text_of(app, "#quiz-feedback").startswith(
            "Not quite: the answer is “neural network”"
        )
        await pilot.press("enter")
        assert screen.session.finished
        assert "Done. 1 of 2 right, 1 with a hint" in text_of(app, "#quiz-prompt")
    ratings = [r[0] for r in db.query("SELECT rating FROM review_log ORDER BY id")]
    assert ratings == [4, 1]  # Easy (fast and right), Again


async def test_a_typed_round_and_mode_switch(glossary: Glossary, db: Database) -> None:
    app = make_app(glossary, db, mode="code", count=1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, QuizScreen) and screen.session is not None
        assert screen.session.mode == "code"
        assert app.screen.query_one("#quiz-snippet", Static).display
        assert app.screen.query_one("#quiz-input", Input).has_focus
        await pilot.press("f3")  # F3 switches mode even from the answer box
        assert screen.session.mode == "choice" and db.get_setting("quiz.mode") == "choice"
        await pilot.press("m")
        assert screen.session.mode == "typed"
        text_input = app.screen.query_one("#quiz-input", Input)
        assert text_input.display and text_input.has_focus
        assert "Which term is this?" in text_of(app, "#quiz-prompt")
        await pilot.press("question_mark", "enter")
        assert "The term looks like: T_____" in text_of(app, "#quiz-note")
        await pilot.press(*"tensors", "enter")
        assert text_of(app, "#quiz-feedback").startswith("Right.")
        assert not text_input.display
        assert screen.session.summary.hinted == 1
        await pilot.press("m")
        assert screen.session.mode == "code"
        await pilot.press("escape", "m")  # escape leaves the answer box, then m works
        assert screen.session.mode == "choice"


async def test_stats_view(glossary: Glossary, db: Database) -> None:
    app = make_app(glossary, db, count=1)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, QuizScreen) and screen.session is not None
        question = screen.session.question
        assert question is not None
        await pilot.press(str(question.answer_index + 1), "s")
        assert isinstance(app.screen, QuizStatsScreen)
        stats = text_of(app, "#quiz-stats-text")
        assert "Due now: 0" in stats and "reviews: 1" in stats and "Streak: 1 day" in stats
        await pilot.press("escape")
        assert app.screen is screen


async def test_the_quiz_on_its_own_is_styled_like_the_app(glossary: Glossary, db: Database) -> None:
    """``quiz --lessons DIR`` runs the quiz app alone; the screens' rules live in app.tcss."""
    app = make_app(glossary, db, count=1)
    async with app.run_test(size=(80, 24)) as pilot:
        status = app.screen.query_one("#quiz-status")
        assert status.region.height == 1
        assert app.screen.query_one("#quiz-prompt").styles.text_style.bold
        await pilot.press("s")
        assert isinstance(app.screen, QuizStatsScreen)
        box = app.screen.query_one("#quiz-stats")
        assert box.region.width == 72 and box.styles.border_top[0] == "round"


async def test_an_empty_glossary_says_so(db: Database) -> None:
    app = make_app(Glossary(), db)
    async with app.run_test(size=(80, 24)):
        assert "no terms yet" in text_of(app, "#quiz-prompt")


async def test_in_the_full_app_o_opens_the_teaching_step(tmp_path: Path) -> None:
    from tutor.lessons import load_catalog
    from tutor.ui.app import TutorApp

    lessons = tmp_path / "lessons"
    lessons.mkdir()
    (lessons / "glossary.toml").write_text((FIXTURE / "glossary.toml").read_text())
    (lessons / "01-tensors.toml").write_text(LESSON)
    catalog = load_catalog([lessons])
    assert [lesson.id for lesson in catalog.lessons] == ["tensors"]
    app = TutorApp(catalog=catalog, db_path=tmp_path / "db.sqlite3", start="quiz")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QuizScreen) and screen.session is not None
        question = screen.session.question
        assert question is not None and question.term.term == "Tensor"
        await pilot.press(str(question.answer_index + 1))
        assert "(o opens it)" in text_of(app, "#quiz-feedback")
        await pilot.press("o")
        await pilot.pause()
        assert type(app.screen).__name__ == "ReaderScreen"
