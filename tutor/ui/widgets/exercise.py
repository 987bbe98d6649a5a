"""The exercise panel: prompt, code editor, verdict, hints, one-line REPL and output pane.

Learner code runs in the kernel child (one per app, created lazily by ``get_kernel``); the panel
waits for it in a thread worker of group ``kernel`` so keys keep working while code runs. This
module never imports torch.

Keys (on the panel, the editor or the REPL line): ctrl+j or F5 run and check, F2 next hint,
F3 solution, F4 skip (runs the reference so later code finds its names), F8 reset the variables
to the post-setup state (the editor keeps its text; F8 again right after puts the starter code
back), F9 check the namespace as it is (after building the answer in the REPL).

Focus: the step opens in the editor (``focus_editor``). Escape in the editor or the REPL line
leaves it for the panel itself, where the reader's n, p and j work; from the panel, tab reaches
the REPL line and tab again the editor. The output pane never takes focus, so letters typed
after a click on it cannot fire the app's one-letter shortcuts.

The editor's text is kept per step as a draft in the database (after each run and when the
step closes) and comes back when the step is opened again.
"""

from __future__ import annotations

import atexit
import sqlite3
import threading
import time
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widget import Widget
from textual.widgets import RichLog, Static, TextArea

from tutor.kernel import Kernel, KernelError, RunResult, Verdict
from tutor.lessons.model import ExerciseStep
from tutor.ui.widgets.exercise_repl import ReplInput
from tutor.ui.widgets.lesson_markdown import LessonMarkdown

SOLUTION_AFTER = 3  # failed attempts before the solution shows by itself
# The longest a run waits behind the step's setup (a first kernel start imports torch).
PREPARE_WAIT_S = 120.0
KERNEL_ATTR = "_tutor_kernel"
# A second child importing torch in the background makes a restart after a crash or timeout cost
# only the replay; tests turn it off to save the import.
SPARE_KERNEL = True
TRACEBACK_HEADER = "Traceback (most recent call last):"


_KERNEL_LOCK = threading.Lock()


def get_kernel(app: App[Any]) -> Kernel:
    """The app's one kernel, started on first use (torch loads in the child meanwhile).

    Called from the UI thread (warm-up) and from panel workers: the lock keeps it to one kernel.
    """
    with _KERNEL_LOCK:
        kernel = getattr(app, KERNEL_ATTR, None)
        if kernel is None:
            kernel = Kernel.start(spare=SPARE_KERNEL)
            setattr(app, KERNEL_ATTR, kernel)
            # The child also leaves when the app's pipes close; this ends a child stuck in a loop.
            atexit.register(kernel.close)
        return kernel


def close_kernel(app: App[Any]) -> None:
    """Stop the app's kernel, if any (call from the app's unmount/exit)."""
    kernel = getattr(app, KERNEL_ATTR, None)
    if kernel is not None:
        setattr(app, KERNEL_ATTR, None)
        kernel.close()


def describe_summary(name: str, info: dict[str, Any]) -> str:
    """One output-pane line for a defined name: tensors by shape, dtype and device, arrays by
    shape and dtype."""
    kind = info.get("kind")
    if kind in ("tensor", "array"):
        shape = (
            "("
            + ", ".join(str(d) for d in info["shape"])
            + ("," if len(info["shape"]) == 1 else "")
            + ")"
        )
        if kind == "array":
            return f"{name}: ndarray {shape} {info['dtype']}"
        return f"{name}: tensor {shape} {info['dtype']} on {info['device']}"
    if kind == "module":
        return f"{name}: {info['type']} ({info['parameters']:,} parameters) on {info['device']}"
    text = info.get("text", "")
    return f"{name}: {info.get('type', '?')}" + (f" = {text}" if text else "")


def failure_sentence(result: RunResult) -> str:
    """The verdict line for a failed run: the exception line, or what stopped it and what remains.

    A traceback or syntax error ends with the line that names the problem (``SyntaxError: ...``),
    sometimes followed by an explanation; the ``File`` lines, code and caret stay in the output
    pane. A timeout, crash or memory stop says what happened and what became of the variables.
    """
    if result.status != "error":
        return " ".join(part for part in (result.error, result.notice) if part) or (
            "Your code did not finish."
        )
    lines = [line for line in result.error.splitlines() if line.strip()]
    # Everything before the last indented line is where it happened; the rest is what happened.
    indented = [i for i, line in enumerate(lines) if line[:1].isspace()]
    start = indented[-1] + 1 if indented else 0
    tail = [line for line in lines[start:] if line != TRACEBACK_HEADER]
    sentence = " ".join(line.strip() for line in tail) or result.error.strip()
    return " ".join(part for part in (sentence, result.notice) if part)


class CodeEditor(TextArea):
    """The answer editor: a Python code editor whose escape leaves it for the panel.

    TextArea's own escape moves focus to the next widget and stops the key; here the key goes on
    to the screen, whose escape focuses the panel (where n, p, j and the F-keys work).
    """

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls each class's _on_key in turn; prevent_default skips TextArea's for
        # escape without stopping the key, which bubbles on to the reader.
        if event.key == "escape":
            event.prevent_default()


class OutputLog(RichLog):
    """The output pane; it never takes focus, so typed letters cannot reach the app's shortcuts."""

    can_focus = False


class ExercisePanel(Widget):
    """One exercise step: edit, run (ctrl+j/F5), read the verdict; hints and solution on keys."""

    can_focus = True

    # Sized for 80x24: with the prompt scrolled away the editor, verdict, REPL line and output
    # all fit in the reader's 22 rows.
    DEFAULT_CSS = """
    ExercisePanel { height: auto; }
    ExercisePanel:focus { background: $boost; }
    ExercisePanel #exercise-prompt { height: auto; margin: 0 1; }
    ExercisePanel #exercise-editor { height: 8; }
    ExercisePanel #exercise-verdict { height: auto; padding: 0 1; }
    ExercisePanel #exercise-verdict.passed { color: $success; }
    ExercisePanel #exercise-verdict.failed { color: $error; }
    ExercisePanel #exercise-hint { height: auto; padding: 0 1; color: $text-muted; }
    ExercisePanel #exercise-hint.empty { display: none; }
    ExercisePanel #exercise-repl-row { height: 1; margin: 1 0 0 0; }
    ExercisePanel #exercise-repl-prompt { width: 4; color: $accent; }
    ExercisePanel #exercise-repl { width: 1fr; }
    ExercisePanel #exercise-output { height: 7; border: round $panel; }
    """

    BINDINGS = [
        Binding("ctrl+j,f5", "run", "Run"),
        Binding("f2", "hint", "Hint"),
        Binding("f3", "solution", "Solution"),
        Binding("f4", "skip", "Skip"),
        Binding("f8", "reset", "Reset"),
        Binding("f9", "check", "Check"),
        Binding("tab", "next_field", "REPL", show=False),
    ]

    def __init__(self, step: ExerciseStep, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.failed_attempts = 0
        self.hints_shown = 0
        self.solved = False
        self.busy = False
        self.ready = False
        # Set once the step's setup has run: later kernel work must not overtake it, or the
        # setup's reset would undo a skip or a run pressed the moment the step opened.
        self._prepared = threading.Event()
        self.draft_restored = False
        self._code = self.starter
        self._reset_armed = False  # F8 right after a reset puts the starter code back
        self._started = time.monotonic()

    @property
    def starter(self) -> str:
        return self.step.starter.strip("\n") + "\n"

    # Layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from tutor.ui.links import to_markdown

        draft = self._load_draft()
        if draft is not None and draft.strip() != self.starter.strip():
            self._code, self.draft_restored = draft, True
        yield LessonMarkdown(to_markdown(self.step.prompt), id="exercise-prompt")
        yield CodeEditor.code_editor(self._code, language="python", id="exercise-editor")
        # The verdict sits right under the editor so the two fit on one screen.
        yield Static(Text("Starting Python…"), id="exercise-verdict", markup=False)
        yield Static("", id="exercise-hint", classes="empty", markup=False)
        with Horizontal(id="exercise-repl-row"):
            yield Static(">>> ", id="exercise-repl-prompt", markup=False)
            yield ReplInput(id="exercise-repl")
        yield OutputLog(markup=False, highlight=False, wrap=True, id="exercise-output")

    def on_mount(self) -> None:
        self._prepare()

    def on_unmount(self) -> None:
        self._save_draft(self._code)
        progress = self._progress()
        if progress is not None and not self.solved:
            try:
                progress.mark(self.step.full_id, "seen", seconds=self._elapsed())
            except sqlite3.Error:  # the app closed the database first; the time is lost
                pass

    def focus_editor(self) -> None:
        """Put the cursor in the code editor (the reader calls this when the step opens)."""
        self.editor.focus()

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        # Kept here because the editor may be gone by the time the panel unmounts.
        self._code = event.text_area.text
        self._reset_armed = False

    # Helpers ---------------------------------------------------------------------------------
    def _progress(self) -> Any:
        return getattr(self.app, "progress", None)

    def _db(self) -> Any:
        return getattr(self.app, "db", None)

    def _load_draft(self) -> str | None:
        db = self._db()
        if db is None:
            return None
        from tutor.store.drafts import load_draft

        return load_draft(db, self.step.full_id)

    def _save_draft(self, code: str) -> None:
        """Keep the editor's text for next time; the starter unchanged needs no draft."""
        db = self._db()
        if db is None:
            return
        from tutor.store.drafts import clear_draft, save_draft

        try:
            if code.strip() == self.starter.strip():
                clear_draft(db, self.step.full_id)
            else:
                save_draft(db, self.step.full_id, code)
        except sqlite3.Error:  # the app closed the database first
            pass

    def _feed_quiz(self) -> None:
        """A failed attempt makes the step's glossary terms due in the quiz sooner."""
        db = self._db()
        catalog = getattr(self.app, "catalog", None)
        if db is None or catalog is None or not self.step.terms:
            return
        from tutor.quiz.feed import exercise_failed

        exercise_failed(db, catalog.glossary, self.step.terms)

    def _elapsed(self) -> float:
        now = time.monotonic()
        seconds, self._started = now - self._started, now
        return seconds

    @property
    def editor(self) -> TextArea:
        return self.query_one("#exercise-editor", TextArea)

    @property
    def repl(self) -> ReplInput:
        return self.query_one("#exercise-repl", ReplInput)

    @property
    def output(self) -> RichLog:
        return self.query_one("#exercise-output", RichLog)

    def set_verdict(self, text: str, state: str = "") -> None:
        verdict = self.query_one("#exercise-verdict", Static)
        verdict.set_classes(state)
        verdict.update(Text(text))

    def show_hint_text(self, text: str) -> None:
        hint = self.query_one("#exercise-hint", Static)
        hint.set_class(not text, "empty")
        hint.update(Text(text))

    def reveal(self, *targets: str) -> None:
        """Scroll so the editor and then each target (by id) are in view, the last one surely.

        Each scroll is the smallest that shows its widget, done after the next refresh so new
        text has its height: the editor stays on screen unless the targets need its rows.
        """
        self.editor.scroll_visible(animate=False)
        for target in targets:
            self.query_one(f"#{target}").scroll_visible(animate=False)

    def _begin(self, what: str) -> bool:
        """Mark the kernel busy; False (with a note) when a run is still going."""
        if self.busy:
            self.app.notify("Still running; wait for it to finish.", severity="warning")
            return False
        self.busy = True
        self._reset_armed = False
        self.set_verdict(what)
        return True

    # Kernel work (thread workers) ------------------------------------------------------------
    def _call(self, callback: Any, *args: Any) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:  # the app is gone; nothing to show
            pass

    def _stream(self, stream: str, text: str) -> None:
        self._call(self._write_output, text)

    @work(thread=True, group="kernel", exit_on_error=False)
    def _prepare(self) -> None:
        # Not "busy": a run started meanwhile waits for ``_prepared``, then reports for itself.
        try:
            result = get_kernel(self.app).reset(self.step)
            self.ready = True
            # call_from_thread waits for the UI: the "ready" verdict lands before any queued run's.
            self._call(self._finish_prepare, result)
        except KernelError as exc:
            self._call(self.set_verdict, str(exc), "failed")
        finally:
            self._prepared.set()

    def _finish_prepare(self, result: RunResult) -> None:
        if not result.ok:
            self.set_verdict(f"The step's setup failed: {failure_sentence(result)}", "failed")
        elif not self.busy:  # a run queued behind the setup reports for itself
            self.set_verdict(*self._ready_text())

    def _ready_text(self) -> tuple[str, str]:
        """The verdict before the first run: solved before, a draft back, or ready."""
        progress = self._progress()
        record = progress.step(self.step.full_id) if progress is not None else None
        if record is not None and record.status == "solved":
            return (
                "✓ Solved before. Run it again to recheck, or n for the next step (escape first).",
                "passed",
            )
        if self.draft_restored:
            return ("Your code from last time is back; ctrl+j or F5 runs and checks it.", "")
        return ("Ready: write your code, then ctrl+j or F5 runs and checks it.", "")

    @work(thread=True, group="kernel", exit_on_error=False)
    def _run_answer(self, code: str) -> None:
        self._prepared.wait(PREPARE_WAIT_S)
        try:
            kernel = get_kernel(self.app)
            result, verdict = kernel.answer(self.step, code, on_output=self._stream)
        except KernelError as exc:
            self._call(self._finish_error, str(exc))
            return
        self._call(self._finish_answer, code, result, verdict)

    @work(thread=True, group="kernel", exit_on_error=False)
    def _run_line(self, code: str) -> None:
        self._prepared.wait(PREPARE_WAIT_S)
        try:
            result = get_kernel(self.app).run(
                code, self.step.timeout, self._stream, filename="<repl>"
            )
        except KernelError as exc:
            self._call(self._finish_error, str(exc))
            return
        self._call(self._finish_line, result)

    @work(thread=True, group="kernel", exit_on_error=False)
    def _run_kernel_action(self, action: str) -> None:
        self._prepared.wait(PREPARE_WAIT_S)
        try:
            kernel = get_kernel(self.app)
            if action == "reset":
                result = kernel.reset(self.step)
                self._call(self._finish_reset, result)
            elif action == "skip":
                result = kernel.run_reference(self.step)
                self._call(self._finish_skip, result)
            else:
                self._call(self._finish_check, kernel.check(self.step))
        except KernelError as exc:
            self._call(self._finish_error, str(exc))

    # Results (UI thread) ---------------------------------------------------------------------
    def _write_output(self, text: str) -> None:
        self.output.write(text.rstrip("\n"))

    def _show_run(self, result: RunResult) -> None:
        """The run's error (in full, with the caret) and notice, once, then the names defined."""
        if result.error:
            self.output.write(result.error)
        if result.notice:
            self.output.write(result.notice)
        for name, info in result.summary.items():
            self.output.write(describe_summary(name, info))

    def _finish_error(self, message: str) -> None:
        self.busy = False
        self.set_verdict(message, "failed")
        self.reveal("exercise-verdict")

    def _finish_answer(self, code: str, result: RunResult, verdict: Verdict) -> None:
        self.busy = False
        self._show_run(result)
        progress = self._progress()
        if progress is not None:
            progress.record_attempt(self.step.full_id, code, verdict.passed)
        if verdict.passed:
            self.output.write("✓ " + verdict.messages[0])
            self.set_verdict("✓ Solved! " + " ".join(verdict.messages), "passed")
            if not self.solved:
                self.solved = True
                if progress is not None:
                    progress.mark(self.step.full_id, "solved", seconds=self._elapsed())
            self.reveal("exercise-verdict")
            return
        self.failed_attempts += 1
        self._feed_quiz()
        if result.ok:
            for message in verdict.messages:
                self.output.write("✗ " + message)
            sentence = verdict.messages[0]
        else:
            sentence = failure_sentence(result)  # the output pane has it in full already
        tail = "" if self.hints_shown >= len(self.step.hints) else "  (F2: a hint)"
        self.set_verdict("✗ " + sentence + tail, "failed")
        if self.failed_attempts >= SOLUTION_AFTER and not self.solved:
            self.action_solution()
        else:
            self.reveal("exercise-verdict")

    def _finish_line(self, result: RunResult) -> None:
        self.busy = False
        self._show_run(result)
        if result.ok:
            self.set_verdict("")
        else:
            self.set_verdict("✗ " + failure_sentence(result), "failed")
        # The learner is at the REPL line: its output matters more than the editor.
        self.query_one("#exercise-output").scroll_visible(animate=False)

    def _finish_reset(self, result: RunResult) -> None:
        self.busy = False
        self.output.clear()
        if result.ok:
            self._reset_armed = self._code.strip() != self.starter.strip()
            again = " F8 again puts the starter code back." if self._reset_armed else ""
            self.set_verdict(
                "Reset: the variables are as the step's setup left them; your code is kept." + again
            )
        else:
            self.set_verdict(f"The step's setup failed: {failure_sentence(result)}", "failed")
        self.reveal("exercise-verdict")

    def _finish_skip(self, result: RunResult) -> None:
        self.busy = False
        self._show_run(result)
        progress = self._progress()
        if progress is not None and not self.solved:
            progress.mark(self.step.full_id, "skipped", seconds=self._elapsed())
        self.show_hint_text(
            "Solution (run for you, so later steps find its names):\n" + self.step.solution.strip()
        )
        if result.ok:
            self.set_verdict("Skipped: the reference solution ran; its names are defined now.")
        else:
            self.set_verdict(f"The reference solution failed: {failure_sentence(result)}", "failed")
        self.reveal("exercise-verdict", "exercise-hint")

    def _finish_check(self, verdict: Verdict) -> None:
        self.busy = False
        if verdict.passed:
            self.set_verdict("✓ " + verdict.messages[0], "passed")
        else:
            self.set_verdict("✗ " + verdict.messages[0], "failed")
        self.reveal("exercise-verdict")

    # Actions ---------------------------------------------------------------------------------
    def action_run(self) -> None:
        if self._begin("Running…"):
            code = self.editor.text
            self._save_draft(code)
            self.output.write(f"--- run {self.failed_attempts + 1 + int(self.solved)} ---")
            self._run_answer(code)

    def on_repl_input_line(self, event: ReplInput.Line) -> None:
        event.stop()
        if self._begin("Running the line…"):
            self.output.write(">>> " + event.code)
            self._run_line(event.code)

    def action_hint(self) -> None:
        self._reset_armed = False
        hints = self.step.hints
        if not hints:
            self.show_hint_text("This step has no hints; F3 shows the solution.")
        else:
            if self.hints_shown < len(hints):
                self.hints_shown += 1
                progress = self._progress()
                if progress is not None:
                    progress.record_hint(self.step.full_id)
            shown = hints[: self.hints_shown]
            lines = [
                f"Hint {i}/{len(hints)}: {text.strip()}" for i, text in enumerate(shown, start=1)
            ]
            self.show_hint_text("\n".join(lines))
        self.reveal("exercise-verdict", "exercise-hint")

    def action_solution(self) -> None:
        self._reset_armed = False
        self.show_hint_text("Solution:\n" + self.step.solution.strip())
        self.reveal("exercise-verdict", "exercise-hint")

    def action_skip(self) -> None:
        if self._begin("Running the reference solution…"):
            self._run_kernel_action("skip")

    def action_reset(self) -> None:
        if self._reset_armed and not self.busy:
            self._restore_starter()
            return
        if self._begin("Resetting…"):
            self._run_kernel_action("reset")

    def _restore_starter(self) -> None:
        """Put the starter code back (undoable with ctrl+z) and forget the draft."""
        editor = self.editor
        editor.replace(self.starter, (0, 0), editor.document.end)
        self._code = self.starter
        self._reset_armed = False
        self._save_draft(self.starter)
        self.set_verdict("The editor holds the starter code again (ctrl+z there undoes it).")
        self.reveal("exercise-verdict")

    def action_check(self) -> None:
        if self._begin("Checking…"):
            self._run_kernel_action("check")

    def action_next_field(self) -> None:
        """Tab on the panel goes to the REPL line, and from there to the editor."""
        if self.repl.has_focus:
            self.focus_editor()
        else:
            self.repl.focus()
