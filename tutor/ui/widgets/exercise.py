"""The exercise panel: prompt, code editor, one-line REPL, output pane and verdict, with hints.

Learner code runs in the kernel child (one per app, created lazily by ``get_kernel``); the panel
waits for it in a thread worker of group ``kernel`` so keys keep working while code runs. This
module never imports torch. Keys: ctrl+j or F5 run and check, F2 next hint, F3 solution,
F4 skip (runs the reference so later code finds its names), F8 reset to the post-setup state,
F9 check the namespace as it is (after building the answer in the REPL).
"""

from __future__ import annotations

import atexit
import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Markdown, RichLog, Static, TextArea

from tutor.kernel import Kernel, KernelError, RunResult, Verdict
from tutor.lessons.model import ExerciseStep
from tutor.ui.widgets.exercise_repl import ReplInput

SOLUTION_AFTER = 3  # failed attempts before the solution shows by itself
KERNEL_ATTR = "_tutor_kernel"
# A second child importing torch in the background makes a restart after a crash or timeout cost
# only the replay; tests turn it off to save the import.
SPARE_KERNEL = True


def get_kernel(app: App[Any]) -> Kernel:
    """The app's one kernel, started on first use (torch loads in the child meanwhile)."""
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
    """One output-pane line for a defined name: tensors by shape, dtype and device."""
    kind = info.get("kind")
    if kind == "tensor":
        shape = (
            "("
            + ", ".join(str(d) for d in info["shape"])
            + ("," if len(info["shape"]) == 1 else "")
            + ")"
        )
        return f"{name}: tensor {shape} {info['dtype']} on {info['device']}"
    if kind == "module":
        return f"{name}: {info['type']} ({info['parameters']:,} parameters) on {info['device']}"
    text = info.get("text", "")
    return f"{name}: {info.get('type', '?')}" + (f" = {text}" if text else "")


class ExercisePanel(Widget):
    """One exercise step: edit, run (ctrl+j/F5), read the verdict; hints and solution on keys."""

    DEFAULT_CSS = """
    ExercisePanel { height: auto; }
    ExercisePanel #exercise-prompt { height: auto; margin: 0 1; }
    ExercisePanel #exercise-editor { height: 8; }
    ExercisePanel #exercise-repl { margin: 0 0; }
    ExercisePanel #exercise-output { height: 8; border: round $panel; }
    ExercisePanel #exercise-verdict { height: auto; padding: 0 1; }
    ExercisePanel #exercise-verdict.passed { color: $success; }
    ExercisePanel #exercise-verdict.failed { color: $error; }
    ExercisePanel #exercise-hint { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("ctrl+j,f5", "run", "Run"),
        Binding("f2", "hint", "Hint"),
        Binding("f3", "solution", "Solution"),
        Binding("f4", "skip", "Skip"),
        Binding("f8", "reset", "Reset"),
        Binding("f9", "check", "Check"),
    ]

    def __init__(self, step: ExerciseStep, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.step = step
        self.failed_attempts = 0
        self.hints_shown = 0
        self.solved = False
        self.busy = False
        self.ready = False
        self._started = time.monotonic()

    # Layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        from tutor.ui.links import to_markdown

        yield Markdown(to_markdown(self.step.prompt), id="exercise-prompt", open_links=False)
        yield TextArea.code_editor(
            self.step.starter.strip("\n") + "\n", language="python", id="exercise-editor"
        )
        # The verdict sits right under the editor: at 80x24 it stays in view after a run.
        yield Static(Text("Starting Python…"), id="exercise-verdict", markup=False)
        yield Static("", id="exercise-hint", markup=False)
        yield ReplInput(id="exercise-repl")
        yield RichLog(markup=False, highlight=False, wrap=True, id="exercise-output")

    def on_mount(self) -> None:
        self._prepare()

    def on_unmount(self) -> None:
        progress = self._progress()
        if progress is not None and not self.solved:
            progress.mark(self.step.full_id, "seen", seconds=self._elapsed())

    # Helpers ---------------------------------------------------------------------------------
    def _progress(self) -> Any:
        return getattr(self.app, "progress", None)

    def _feed_quiz(self) -> None:
        """A failed attempt makes the step's glossary terms due in the quiz sooner."""
        db = getattr(self.app, "db", None)
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
    def output(self) -> RichLog:
        return self.query_one("#exercise-output", RichLog)

    def set_verdict(self, text: str, state: str = "") -> None:
        verdict = self.query_one("#exercise-verdict", Static)
        verdict.set_classes(state)
        verdict.update(Text(text))

    def show_hint_text(self, text: str) -> None:
        self.query_one("#exercise-hint", Static).update(Text(text))

    def _begin(self, what: str) -> bool:
        """Mark the kernel busy; False (with a note) when a run is still going."""
        if self.busy:
            self.app.notify("Still running; wait for it to finish.", severity="warning")
            return False
        self.busy = True
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
        # Not "busy": a run started meanwhile simply waits for the kernel's lock, behind this.
        try:
            result = get_kernel(self.app).reset(self.step)
        except KernelError as exc:
            self._call(self.set_verdict, str(exc), "failed")
            return
        self.ready = True
        self._call(self._finish_prepare, result)

    def _finish_prepare(self, result: RunResult) -> None:
        if not result.ok:
            self.set_verdict(f"The step's setup failed: {result.message}", "failed")
        elif not self.busy:  # a run queued behind the setup reports for itself
            self.set_verdict("Ready: write your code, then ctrl+j or F5 runs and checks it.")

    @work(thread=True, group="kernel", exit_on_error=False)
    def _run_answer(self, code: str) -> None:
        try:
            kernel = get_kernel(self.app)
            result, verdict = kernel.answer(self.step, code, on_output=self._stream)
        except KernelError as exc:
            self._call(self._finish_error, str(exc))
            return
        self._call(self._finish_answer, code, result, verdict)

    @work(thread=True, group="kernel", exit_on_error=False)
    def _run_line(self, code: str) -> None:
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
        if result.error:
            self.output.write(result.error)
        if result.notice:
            self.output.write(result.notice)
        for name, info in result.summary.items():
            self.output.write(describe_summary(name, info))

    def _finish_error(self, message: str) -> None:
        self.busy = False
        self.set_verdict(message, "failed")

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
            return
        self.failed_attempts += 1
        self._feed_quiz()
        for message in verdict.messages:
            self.output.write("✗ " + message)
        tail = "" if self.hints_shown >= len(self.step.hints) else "  (F2: a hint)"
        self.set_verdict("✗ " + verdict.messages[0] + tail, "failed")
        if self.failed_attempts >= SOLUTION_AFTER and not self.solved:
            self.action_solution()

    def _finish_line(self, result: RunResult) -> None:
        self.busy = False
        self._show_run(result)
        self.set_verdict(
            "" if result.ok else "✗ " + result.message.splitlines()[-1],
            "" if result.ok else "failed",
        )

    def _finish_reset(self, result: RunResult) -> None:
        self.busy = False
        self.output.clear()
        if result.ok:
            self.set_verdict("Reset: the variables are as the step's setup left them.")
        else:
            self.set_verdict(f"The step's setup failed: {result.message}", "failed")

    def _finish_skip(self, result: RunResult) -> None:
        self.busy = False
        self._show_run(result)
        progress = self._progress()
        if progress is not None and not self.solved:
            progress.mark(self.step.full_id, "skipped", seconds=self._elapsed())
        self.show_hint_text(
            "Solution (run for you, so later steps find its names):\n" + self.step.solution.strip()
        )
        self.set_verdict("Skipped: the reference solution ran; its names are defined now.")

    def _finish_check(self, verdict: Verdict) -> None:
        self.busy = False
        if verdict.passed:
            self.set_verdict("✓ " + verdict.messages[0], "passed")
        else:
            self.set_verdict("✗ " + verdict.messages[0], "failed")

    # Actions ---------------------------------------------------------------------------------
    def action_run(self) -> None:
        if self._begin("Running…"):
            code = self.editor.text
            self.output.write(f"--- run {self.failed_attempts + 1 + int(self.solved)} ---")
            self._run_answer(code)

    def on_repl_input_line(self, event: ReplInput.Line) -> None:
        event.stop()
        if self._begin("Running the line…"):
            self.output.write(">>> " + event.code)
            self._run_line(event.code)

    def action_hint(self) -> None:
        hints = self.step.hints
        if not hints:
            self.show_hint_text("This step has no hints; F3 shows the solution.")
            return
        if self.hints_shown < len(hints):
            self.hints_shown += 1
            progress = self._progress()
            if progress is not None:
                progress.record_hint(self.step.full_id)
        shown = hints[: self.hints_shown]
        lines = [f"Hint {i}/{len(hints)}: {text.strip()}" for i, text in enumerate(shown, start=1)]
        self.show_hint_text("\n".join(lines))

    def action_solution(self) -> None:
        self.show_hint_text("Solution:\n" + self.step.solution.strip())

    def action_skip(self) -> None:
        if self._begin("Running the reference solution…"):
            self._run_kernel_action("skip")

    def action_reset(self) -> None:
        if self._begin("Resetting…"):
            self._run_kernel_action("reset")

    def action_check(self) -> None:
        if self._begin("Checking…"):
            self._run_kernel_action("check")
