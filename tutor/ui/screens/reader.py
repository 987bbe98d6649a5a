"""The lesson reader: one step at a time, with next, previous and jump, remembering where you are."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Markdown, TextArea

from tutor.lessons.model import ConceptStep, ExerciseStep, Lesson, Step, TrainingStep
from tutor.ui.dialogs.jump import JumpDialog
from tutor.ui.dialogs.term import TermDialog, TermPicker
from tutor.ui.markdown_links import STEP_SCHEME, TERM_SCHEME, linked_terms, to_markdown
from tutor.ui.widgets.footer import FittingFooter
from tutor.ui.widgets.header import TutorHeader
from tutor.ui.widgets.lesson_markdown import LessonMarkdown

if TYPE_CHECKING:
    from tutor.exercises.session import ExerciseSession


def step_texts(step: Step) -> list[str]:
    """The Markdown texts of a step that may link glossary terms."""
    if isinstance(step, ExerciseStep):
        return [step.prompt, *step.hints]
    if isinstance(step, ConceptStep | TrainingStep):
        return [step.text]
    return []


def step_view(step: Step, session_for: Callable[[ExerciseStep], ExerciseSession]) -> Widget:
    """The widget that shows a step: Markdown for concepts, the area panels for the others.

    ``session_for`` builds an exercise step's session (the app's ``exercise_session``).
    """
    if isinstance(step, ExerciseStep):
        from tutor.ui.widgets.exercise import ExercisePanel

        return ExercisePanel(session_for(step))
    if isinstance(step, TrainingStep):
        from tutor.ui.widgets.training_step import TrainingStepPanel

        return TrainingStepPanel(step)
    parts: list[Widget] = [LessonMarkdown(to_markdown(step.text), classes="concept")]
    if isinstance(step, ConceptStep) and step.picture:
        parts.append(picture_view(step.picture))
    return VerticalScroll(*parts, classes="concept-scroll")


def picture_view(name: str) -> Widget:
    """The widget drawing a concept page's named picture (names: ``lessons.model.PICTURES``)."""
    from tutor.ui.widgets import pictures

    if name == "samples":
        return pictures.SampleStrip(4, classes="picture")
    if name == "transforms":
        return pictures.TransformGallery(classes="picture")
    if name == "classify-trained":
        return pictures.TrainedClassifyView(classes="picture")
    return pictures.UntrainedClassifyView(classes="picture")


class ReaderScreen(Screen[None]):
    """Shows the steps of one lesson; every move is saved so a restart lands on the same step."""

    # In the order the footer drops them from the end when the row is full (FittingFooter).
    BINDINGS = [
        Binding("n", "next", "Next"),
        Binding("j", "jump", "Jump"),
        Binding("b,escape", "back", "Lessons"),
        Binding("p", "previous", "Prev"),
        Binding("g", "terms", "Terms"),
    ]

    def __init__(self, lesson: Lesson, index: int = 0) -> None:
        super().__init__()
        self.lesson = lesson
        self.index = max(0, min(index, len(lesson.steps) - 1))
        self._entered = time.monotonic()
        self._view: Widget | None = None

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    def compose(self) -> ComposeResult:
        yield TutorHeader()
        yield VerticalScroll(id="step-body")
        # Compact, and only whole keys: the exercise keys and the reader's share one row.
        yield FittingFooter(compact=True)

    def on_mount(self) -> None:
        self.show_step(self.index)

    def show_step(self, index: int) -> None:
        """Replace the body with step ``index`` and save it as the current step."""
        self._leave_step()
        self.index = index
        step = self.step
        # The header is one 80-column line: the step's own title first, the lesson last.
        self.title = step.title
        self.sub_title = (
            f"step {index + 1}/{len(self.lesson.steps)} · {step.kind} · {self.lesson.title}"
        )
        body = self.query_one("#step-body", VerticalScroll)
        body.remove_children()
        self._view = step_view(step, self.app.exercise_session)  # type: ignore[attr-defined]
        body.mount(self._view)
        body.scroll_home(animate=False)
        progress = self.app.progress  # type: ignore[attr-defined]
        if progress:
            progress.set_current(self.lesson.id, step.id)
            progress.mark(step.full_id, "seen")
        self._entered = time.monotonic()
        # Runs on the new view's own queue, so after it has mounted (not the old view's).
        self._view.call_after_refresh(self._focus_body)

    def _step_widget(self) -> Widget | None:
        return self._view

    def _focus_body(self) -> None:
        """Give focus to where the step's own keys work, so they work with nothing pressed first.

        Panels say where (``take_focus``: the exercise's editor, the training step's button);
        concept pages take focus themselves or via the body, where the reader's keys work.
        """
        view = self._step_widget()
        take_focus = getattr(view, "take_focus", None)
        if callable(take_focus):
            take_focus()
        elif view is not None and view.focusable:
            view.focus()
        else:
            self.query_one("#step-body", VerticalScroll).focus()

    def _leave_step(self) -> None:
        """Add the time spent on the step being left to its record."""
        progress = self.app.progress  # type: ignore[attr-defined]
        if progress and self.is_mounted:
            seconds = time.monotonic() - self._entered
            progress.mark(self.step.full_id, "seen", seconds=seconds)

    def action_next(self) -> None:
        if self.index + 1 < len(self.lesson.steps):
            self.show_step(self.index + 1)
        else:
            self.notify("That was the last step of this lesson.", title=self.lesson.title)

    def action_previous(self) -> None:
        if self.index > 0:
            self.show_step(self.index - 1)

    def action_jump(self) -> None:
        progress = self.app.progress  # type: ignore[attr-defined]
        statuses = progress.statuses() if progress else {}

        def chosen(index: int | None) -> None:
            if index is not None:
                self.show_step(index)

        self.app.push_screen(JumpDialog(self.lesson, self.index, statuses), chosen)

    def action_terms(self) -> None:
        glossary = self.app.catalog.glossary  # type: ignore[attr-defined]
        names = linked_terms(step_texts(self.step), glossary)
        if not names:
            self.notify("No glossary terms are linked on this page.")
            return

        def chosen(name: str | None) -> None:
            if name:
                self.open_term(name)

        self.app.push_screen(TermPicker(names), chosen)

    def action_back(self) -> None:
        # Escape in an editor first leaves the editor; a second escape goes back.
        if isinstance(self.focused, Input | TextArea):
            view = self._step_widget()
            # The panel itself keeps its keys (run, hint...) and lets n, p and j through; the
            # view stays where it is, so the verdict under the editor stays in sight.
            self.set_focus(
                view if view is not None and view.focusable else None, scroll_visible=False
            )
            return
        self._leave_step()
        self._entered = time.monotonic()
        self.app.show_browser()  # type: ignore[attr-defined]

    def open_term(self, name: str) -> None:
        term = self.app.catalog.glossary.lookup(name)  # type: ignore[attr-defined]
        if term is None:
            self.notify(f"No glossary entry for {name!r}.", severity="warning")
            return
        self.app.push_screen(TermDialog(term))

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        href = event.href
        if href.startswith(TERM_SCHEME):
            self.open_term(href.removeprefix(TERM_SCHEME))
        elif href.startswith(STEP_SCHEME):
            self.app.open_step(href.removeprefix(STEP_SCHEME))  # type: ignore[attr-defined]
