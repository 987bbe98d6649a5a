"""The quiz screen (key r in the app) and its stats view.

1-4 pick a choice, enter submits a typed answer (``?`` as the answer asks for a hint), h or F2
gives a hint, m or F3 switches mode, s opens the stats, n or enter moves on after an answer, o opens the
step that teaches the term. Questions, rating
and storage come from ``tutor.quiz``; this module only shows them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.syntax import Syntax
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Input, Static

from tutor.quiz.clock import Clock, system_clock
from tutor.quiz.questions import MODES, Mode, parse_mode
from tutor.quiz.scheduler import QuizScheduler
from tutor.quiz.session import InvalidAnswer, QuizSession
from tutor.quiz.stats import compute_stats
from tutor.ui.widgets.footer import FittingFooter

if TYPE_CHECKING:
    from tutor.lessons.model import Glossary
    from tutor.store.db import Database

MODE_KEY = "quiz.mode"
COUNT_KEY = "quiz.count"
DEFAULT_COUNT = 10
MODE_NAMES = {
    "choice": "term → definition",
    "typed": "definition → term",
    "code": "code → concept",
}


class QuizScreen(Screen[None]):
    """One quiz session at a time; a new one starts on a mode switch or after the last question."""

    BINDINGS = [
        Binding("1", "pick(1)", "Pick", show=False),
        Binding("2", "pick(2)", "Pick", show=False),
        Binding("3", "pick(3)", "Pick", show=False),
        Binding("4", "pick(4)", "Pick", show=False),
        Binding("h", "hint", "Hint"),
        # F2/F3 also work while the answer box has focus (it takes every printable key).
        Binding("f2", "hint", "Hint", show=False),
        Binding("f3", "switch_mode", "Mode", show=False),
        Binding("n,enter", "next", "Next"),
        Binding("m", "switch_mode", "Mode"),
        Binding("o", "open_step", "Open step"),
        Binding("s", "stats", "Stats"),
        Binding("escape", "leave", "Back"),
    ]

    def __init__(
        self,
        glossary: Glossary | None = None,
        db: Database | None = None,
        *,
        mode: Mode | None = None,
        count: int | None = None,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        step_title: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self._step_title_given = step_title
        self._glossary = glossary
        self._db = db
        self._mode: Mode | None = mode
        self._count = count
        self.clock = clock
        self.rng = rng or random.Random()
        self.session: QuizSession | None = None
        self.scheduler: QuizScheduler | None = None
        self.message = ""

    def compose(self) -> ComposeResult:
        yield Static(id="quiz-status", markup=False)
        with VerticalScroll(id="quiz-body"):
            yield Static(id="quiz-prompt", markup=False)
            yield Static(id="quiz-snippet", markup=False)
            for number in range(1, 5):
                yield Static(id=f"choice-{number}", classes="quiz-choice", markup=False)
            yield Input(
                id="quiz-input",
                placeholder="type the term, enter · ? or F2 hint · F3 mode · escape for keys",
            )
            yield Static(id="quiz-note", markup=False)
            yield Static(id="quiz-feedback", markup=False)
        yield FittingFooter()

    # Setup ---------------------------------------------------------------------------------------

    @property
    def glossary(self) -> Glossary:
        if self._glossary is None:
            self._glossary = self.app.catalog.glossary  # type: ignore[attr-defined]
        return self._glossary

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = self.app.db  # type: ignore[attr-defined]
        return self._db

    def _step_title(self, step_id: str) -> str:
        """``Tensors › A neuron's sum`` for a step id, from the app's catalog when it has one."""
        if self._step_title_given is not None:
            return self._step_title_given(step_id)
        catalog = getattr(self.app, "catalog", None)
        return catalog.step_title(step_id) if catalog is not None else step_id

    def on_mount(self) -> None:
        if self._mode is None:
            self._mode = parse_mode(self.db.get_setting(MODE_KEY))
        if self._count is None:
            saved_count = self.db.get_setting(COUNT_KEY, "")
            self._count = (
                int(saved_count) if saved_count and saved_count.isdigit() else DEFAULT_COUNT
            )
        self.start_session()

    def start_session(self) -> None:
        """A fresh session in the current mode (due terms first, then today's new ones)."""
        self.message = ""
        if not self.glossary.terms:
            self.session = None
            self.message = "The glossary has no terms yet, so there is nothing to review."
            self.refresh_view()
            return
        self.scheduler = QuizScheduler(self.db, self.glossary, self.clock)
        self.session = QuizSession(
            self.scheduler, self._mode or "choice", self._count or DEFAULT_COUNT, rng=self.rng
        )
        self.refresh_view()

    # Drawing -------------------------------------------------------------------------------------

    def refresh_view(self) -> None:
        """Redraw every part from the session's state."""
        session = self.session
        mode = self._mode or "choice"
        status = f"Glossary review · {MODE_NAMES[mode]}"
        if session is not None and not session.finished:
            status += f" · question {session.position}"
        status += " · m mode · s stats"
        self.query_one("#quiz-status", Static).update(Text(status))
        prompt = self.query_one("#quiz-prompt", Static)
        snippet = self.query_one("#quiz-snippet", Static)
        text_input = self.query_one("#quiz-input", Input)
        note = self.query_one("#quiz-note", Static)
        feedback_view = self.query_one("#quiz-feedback", Static)
        question = session.question if session is not None else None
        if question is None:
            if session is None:
                prompt.update(Text(self.message))
            elif session.summary.asked:
                prompt.update(Text(f"Done. {session.summary.text()} Press n for another round."))
            else:
                prompt.update(Text(session.empty_reason()))
            snippet.display = False
            text_input.display = False
            for number in range(1, 5):
                self.query_one(f"#choice-{number}", Static).display = False
            note.update(Text(self.message))
            feedback_view.display = bool(session and session.feedback)
            return
        assert session is not None
        prompt.update(Text(question.prompt))
        snippet.display = bool(question.snippet)
        if question.snippet:
            snippet.update(Syntax(question.snippet, "python", theme="ansi_dark", word_wrap=True))
        for number in range(1, 5):
            choice = self.query_one(f"#choice-{number}", Static)
            index = number - 1
            choice.display = index < len(question.choices)
            if index < len(question.choices):
                hidden = index in session.hidden
                label = "—" if hidden else question.choices[index]
                choice.set_class(hidden, "hidden-choice")
                choice.update(Text(f"{number}. {label}"))
        answered = session.feedback is not None
        text_input.display = question.accepts_text and not answered
        text_input.disabled = answered
        note.update(Text(self.message))
        feedback_view.display = answered
        if session.feedback is not None:
            feedback_view.update(self._feedback_text())
            feedback_view.scroll_visible()
        elif question.accepts_text and not text_input.has_focus:
            text_input.focus()

    def _feedback_text(self) -> Text:
        assert self.session is not None and self.session.feedback is not None
        feedback = self.session.feedback
        term = feedback.term
        text = Text()
        if feedback.correct:
            text.append("Right. ", style="bold green")
        else:
            text.append(f"Not quite: the answer is “{term.term}”. ", style="bold red")
        text.append(feedback.note)
        text.append(f"\n{term.term}: ", style="bold")
        text.append(feedback.definition)
        if feedback.steps:
            taught = "; ".join(self._step_title(step) for step in feedback.steps)
            text.append(f"\nTaught in: {taught}", style="italic")
            if hasattr(self.app, "open_step"):
                text.append(" (o opens it)", style="dim")
        text.append(f"\nRated {feedback.rating.name}; back {feedback.due_in}. ", style="dim")
        text.append("n or enter: next", style="dim")
        return text

    # Actions -------------------------------------------------------------------------------------

    def _submit(self, answer: str) -> None:
        if self.session is None or self.session.finished:
            return
        try:
            self.session.answer(answer)
            self.message = ""
        except InvalidAnswer as exc:
            self.message = str(exc)
        self.refresh_view()
        if self.session.feedback is not None:
            self.set_focus(None)

    def action_pick(self, number: int) -> None:
        """Pick choice ``number`` (1-4) of a choice or code question."""
        session = self.session
        if session is None or session.question is None or session.feedback is not None:
            return
        if session.question.choices:
            self._submit(str(number))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() == "?":
            event.input.value = ""
            self.action_hint()
            return
        self._submit(event.value)
        event.input.value = ""

    def action_hint(self) -> None:
        """Hide two wrong choices, or show the shape of the term; the answer rates Hard at best."""
        if self.session is None or self.session.finished or self.session.feedback is not None:
            return
        self.message = self.session.hint()
        self.refresh_view()

    def action_next(self) -> None:
        """The next question once this one is answered; a new round after the last."""
        session = self.session
        if session is None:
            return
        if session.finished:
            self.start_session()
            return
        if session.feedback is None:
            return
        self.message = ""
        session.advance()
        self.refresh_view()

    def action_switch_mode(self) -> None:
        """Cycle choice → typed → code; the choice is remembered for next time.

        The sitting goes on in the new mode: its count does not start again at 1. After its last
        question a new sitting starts.
        """
        current = self._mode or "choice"
        self._mode = MODES[(MODES.index(current) + 1) % len(MODES)]
        self.db.set_setting(MODE_KEY, self._mode)
        if self.session is None or self.session.finished:
            self.start_session()
            return
        self.message = ""
        self.session.switch_mode(self._mode)
        if self.session.finished:  # the sitting had no question left: a new one, in the new mode
            self.start_session()
            return
        self.refresh_view()

    def action_open_step(self) -> None:
        """After an answer, open the step that teaches the term (in the full app)."""
        session = self.session
        if session is None or session.feedback is None or not session.feedback.steps:
            return
        open_step = getattr(self.app, "open_step", None)
        if open_step is None:
            self.notify("Start pytorch-tutor to read the lessons.", severity="information")
            return
        open_step(session.feedback.steps[0])

    def action_stats(self) -> None:
        self.app.push_screen(QuizStatsScreen(self.glossary, self.db, clock=self.clock))

    def action_leave(self) -> None:
        """Escape leaves the text box first, then the quiz (when another screen lies beneath)."""
        if isinstance(self.focused, Input):
            self.set_focus(None)
        elif len(self.app.screen_stack) > 1:
            self.app.pop_screen()


class QuizStatsScreen(ModalScreen[None]):
    """Due today, retention, streak and the hardest terms; escape or s closes it."""

    BINDINGS = [Binding("escape,s,q", "close", "Close")]

    def __init__(self, glossary: Glossary, db: Database, *, clock: Clock = system_clock) -> None:
        super().__init__()
        self.glossary = glossary
        self.db = db
        self.clock = clock

    def compose(self) -> ComposeResult:
        stats = compute_stats(QuizScheduler(self.db, self.glossary, self.clock))
        body = "\n".join(stats.lines()) + "\n\nescape: close"
        with VerticalScroll(id="quiz-stats"):
            yield Static(Text(body), id="quiz-stats-text", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)


class QuizApp(App[None]):
    """The quiz on its own, for ``pytorch-tutor quiz --lessons DIR`` (and for tests)."""

    TITLE = "pytorch-tutor quiz"
    # The screens' rules live in the app's one stylesheet; without it they draw unstyled.
    CSS_PATH = Path(__file__).parent.parent / "app.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit"), Binding("q", "quit", "Quit", show=False)]

    def __init__(
        self,
        glossary: Glossary,
        db: Database,
        *,
        mode: Mode | None = None,
        count: int | None = None,
        clock: Clock = system_clock,
        rng: random.Random | None = None,
        step_title: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__()
        self.glossary = glossary
        self.db = db
        self.quiz = QuizScreen(
            glossary, db, mode=mode, count=count, clock=clock, rng=rng, step_title=step_title
        )

    def on_mount(self) -> None:
        self.push_screen(self.quiz)
