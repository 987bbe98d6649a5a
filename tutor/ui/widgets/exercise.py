"""The exercise panel: prompt, code editor, verdict, hints, one-line REPL and output pane.

The panel only renders and reacts: the step's state and rules live in an
``tutor.exercises.ExerciseSession`` that the app builds (with the app's kernel and store). Kernel
work runs in thread workers of group ``kernel`` so keys keep working while code runs; each worker
posts a typed message (``SetupDone``, ``Done``, ``Output``) that the panel handles on the UI
thread. This module never imports torch.

Keys (on the panel, the editor or the REPL line): ctrl+j or F5 run and check, F2 next hint,
F3 solution, F4 skip (runs the reference so later code finds its names), F8 reset the variables
to the post-setup state (the editor keeps its text; F8 again right after puts the starter code
back), F9 check the namespace as it is (after building the answer in the REPL), e back into the
editor.

Focus: the step opens in the editor (``take_focus``). Escape in the editor or the REPL line
leaves it for the panel itself, where the reader's n, p and j work; from the panel, e returns to
the editor, tab reaches the REPL line and tab again the editor. The output pane never takes
focus, so letters typed after a click on it cannot fire the app's one-letter shortcuts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import RichLog, Static

from tutor.exercises.session import ExerciseSession, Outcome
from tutor.ui.widgets.exercise_editor import CodeEditor
from tutor.ui.widgets.exercise_repl import ReplInput
from tutor.ui.widgets.lesson_markdown import LessonMarkdown

# Which widget an outcome's ``show`` brings into view.
SHOW_TARGETS = {
    "verdict": "exercise-verdict",
    "note": "exercise-hint",
    "output": "exercise-output",
}


class OutputLog(RichLog):
    """The output pane; it never takes focus, so typed letters cannot reach the app's shortcuts."""

    can_focus = False


class ExercisePanel(Widget):
    """One exercise step: edit, run (ctrl+j/F5), read the verdict; hints and solution on keys."""

    can_focus = True

    # Sized for 80x24: with the prompt scrolled away the editor, verdict, REPL line and output
    # all fit in the reader's 22 rows. The editor's border changes shape with focus, so focus
    # shows in 256 colours and with NO_COLOR alike.
    DEFAULT_CSS = """
    ExercisePanel { height: auto; }
    ExercisePanel:focus { background: $boost; }
    ExercisePanel #exercise-prompt { height: auto; margin: 0 1; }
    ExercisePanel #exercise-editor { height: 8; border: round $panel; }
    ExercisePanel #exercise-editor:focus { border: heavy $accent; }
    ExercisePanel #exercise-verdict { height: auto; padding: 0 1; }
    ExercisePanel #exercise-verdict.passed { color: $success; }
    ExercisePanel #exercise-verdict.failed { color: $error; }
    ExercisePanel.-busy #exercise-verdict { text-style: italic; }
    ExercisePanel #exercise-hint { height: auto; padding: 0 1; color: $text-muted; }
    ExercisePanel #exercise-hint.empty { display: none; }
    ExercisePanel #exercise-repl-row { height: 1; margin: 1 0 0 0; }
    ExercisePanel #exercise-repl-prompt { width: 4; color: $accent; }
    ExercisePanel #exercise-repl-row:focus-within #exercise-repl-prompt { text-style: reverse; }
    ExercisePanel #exercise-repl { width: 1fr; }
    ExercisePanel #exercise-output { height: 7; border: round $panel; }
    """

    BINDINGS = [
        Binding("ctrl+j,f5", "run", "Run"),
        Binding("f2", "hint", "Hint"),
        Binding("f3", "solution", "Solution"),
        Binding("f4", "skip", "Skip"),
        Binding("f8", "reset", "Reset"),
        Binding("f9", "check", "Check", show=False),
        Binding("e", "edit", "Edit"),
        Binding("tab", "next_field", "REPL", show=False),
    ]

    # The view follows these: the verdict line (text, state), the note under it, and whether the
    # kernel is busy with this panel's work.
    verdict: reactive[tuple[str, str]] = reactive(("", ""), init=False, always_update=True)
    note: reactive[str] = reactive("", init=False)
    busy: reactive[bool] = reactive(False, init=False)

    class SetupDone(Message):
        """The step's setup ran in the kernel (or could not)."""

        def __init__(self, outcome: Outcome) -> None:
            super().__init__()
            self.outcome = outcome

    class Done(Message):
        """A run, REPL line, reset, skip or check finished."""

        def __init__(self, outcome: Outcome) -> None:
            super().__init__()
            self.outcome = outcome

    class Output(Message):
        """The learner's code printed something; the text waits in the panel's buffer."""

    def __init__(self, session: ExerciseSession, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.session = session
        self.step = session.step
        self._acted = False  # an action started before the setup reported
        # Output from the worker thread, coalesced: one message drains all that came meanwhile.
        self._pending: list[str] = []
        self._pending_lock = threading.Lock()

    # Layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from tutor.ui.markdown_links import to_markdown

        opening = self.session.opening()
        yield LessonMarkdown(to_markdown(self.step.prompt), id="exercise-prompt")
        yield CodeEditor.code_editor(self.session.code, language="python", id="exercise-editor")
        # The verdict sits right under the editor so the two fit on one screen.
        yield Static(Text(opening.verdict or ""), id="exercise-verdict", markup=False)
        yield Static("", id="exercise-hint", classes="empty", markup=False)
        with Horizontal(id="exercise-repl-row"):
            yield Static(">>> ", id="exercise-repl-prompt", markup=False)
            yield ReplInput(id="exercise-repl")
        # min_width 1: RichLog renders at 78 columns at least by default, which cuts lines
        # in a narrower pane instead of wrapping them.
        yield OutputLog(markup=False, highlight=False, wrap=True, min_width=1, id="exercise-output")

    def on_mount(self) -> None:
        self._prepare()

    def on_unmount(self) -> None:
        self.session.close()

    def take_focus(self) -> None:
        """Focus what the step's keys start from: the code editor (the reader calls this)."""
        self.editor.focus()

    def on_text_area_changed(self, event: CodeEditor.Changed) -> None:
        self.session.edited(event.text_area.text)

    @property
    def editor(self) -> CodeEditor:
        return self.query_one("#exercise-editor", CodeEditor)

    @property
    def repl(self) -> ReplInput:
        return self.query_one("#exercise-repl", ReplInput)

    @property
    def output(self) -> RichLog:
        return self.query_one("#exercise-output", RichLog)

    # Reactive view -----------------------------------------------------------------------------
    def watch_verdict(self, verdict: tuple[str, str]) -> None:
        text, state = verdict
        widget = self.query_one("#exercise-verdict", Static)
        widget.set_classes(state)
        widget.update(Text(text))

    def watch_note(self, note: str) -> None:
        hint = self.query_one("#exercise-hint", Static)
        hint.set_class(not note, "empty")
        hint.update(Text(note))

    def watch_busy(self, busy: bool) -> None:
        self.set_class(busy, "-busy")

    def show(self, outcome: Outcome) -> None:
        """Render an outcome: output lines, verdict, note, editor text; then bring it into view."""
        if outcome.clear_output:
            self.output.clear()
        for line in outcome.output:
            self.output.write(line)
        if outcome.verdict is not None:
            self.verdict = (outcome.verdict, outcome.state)
        if outcome.note is not None:
            self.note = outcome.note
        if outcome.editor is not None:
            editor = self.editor
            editor.replace(outcome.editor, (0, 0), editor.document.end)
            self.session.edited(outcome.editor)
        # After the refresh, so new text has its height when the scroll is measured.
        self.call_after_refresh(self.reveal, SHOW_TARGETS[outcome.show])

    def reveal(self, target: str) -> None:
        """Scroll so the editor and then the target are in view, the target surely and whole.

        Each scroll is the smallest that shows its widget: the editor stays on screen unless the
        target needs its rows. A verdict or note is shown to its last line.
        """
        if target != "exercise-output":
            self.editor.scroll_visible(animate=False)
        self.query_one(f"#{target}").scroll_visible(animate=False)

    # Kernel work (thread workers post messages) -----------------------------------------------
    def _stream(self, stream: str, text: str) -> None:
        with self._pending_lock:
            first = not self._pending
            self._pending.append(text)
        if first:
            self.post_message(self.Output())

    @work(thread=True, group="kernel", exit_on_error=False, description="exercise setup")
    def _prepare(self) -> None:
        self.post_message(self.SetupDone(self.session.prepare()))

    @work(thread=True, group="kernel", exit_on_error=False, description="exercise kernel work")
    def _kernel_work(self, action: Callable[[], Outcome]) -> None:
        self.post_message(self.Done(action()))

    @on(Output)
    def _write_output(self) -> None:
        with self._pending_lock:
            text, self._pending = "".join(self._pending), []
        if text:
            self.output.write(text.rstrip("\n"))

    @on(SetupDone)
    def _setup_done(self, message: SetupDone) -> None:
        # A run queued behind the setup reports for itself.
        if not self._acted:
            self.show(message.outcome)

    @on(Done)
    def _done(self, message: Done) -> None:
        self.busy = False
        self.show(message.outcome)

    def _begin(self, what: str) -> bool:
        """Mark the kernel busy; False (with a note) when a run is still going."""
        if self.busy:
            self.app.notify("Still running; wait for it to finish.", severity="warning")
            return False
        self.busy = True
        self._acted = True
        self.session.disarm()
        self.verdict = (what, "")
        return True

    # Actions ---------------------------------------------------------------------------------
    def action_run(self) -> None:
        if self._begin("Running…"):
            code = self.editor.text
            self.output.write(self.session.run_label())
            self._kernel_work(lambda: self.session.run(code, self._stream))

    @on(ReplInput.Line)
    def _repl_line(self, event: ReplInput.Line) -> None:
        event.stop()
        if self._begin("Running the line…"):
            self.output.write(">>> " + event.code)
            self._kernel_work(lambda: self.session.run_line(event.code, self._stream))

    def action_hint(self) -> None:
        self.show(self.session.hint())

    def action_solution(self) -> None:
        self.show(self.session.solution())

    def action_skip(self) -> None:
        if self._begin("Running the reference solution…"):
            self._kernel_work(self.session.skip)

    def action_reset(self) -> None:
        if self.session.reset_armed and not self.busy:
            self.show(self.session.restore_starter())
            return
        if self._begin("Resetting…"):
            self._kernel_work(self.session.reset)

    def action_check(self) -> None:
        if self._begin("Checking…"):
            self._kernel_work(self.session.check)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "e" is typed text inside the editor: the footer offers it only from elsewhere.
        return not (action == "edit" and self.is_mounted and self.editor.has_focus)

    def action_edit(self) -> None:
        """Back into the code editor (e, from the panel)."""
        self.take_focus()

    def action_next_field(self) -> None:
        """Tab on the panel goes to the REPL line, and from there to the editor."""
        if self.repl.has_focus:
            self.take_focus()
        else:
            self.repl.focus()
