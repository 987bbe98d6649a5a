"""One exercise step as the learner works it: the state and rules, with no UI.

A session runs the learner's code and the checks in a shared kernel, keeps the editor's text as a
draft, records attempts, hints and time, offers hints and the solution, and makes the step's
glossary terms due in the quiz after a real failed attempt. Each action returns an ``Outcome``:
what the learner should see next. A front end (the Textual panel, a test) renders outcomes.

Threads: ``prepare``, ``run``, ``run_line``, ``reset``, ``skip`` and ``check`` block on the
kernel and belong in a worker thread; they wait for ``prepare`` (the step's setup) first, so a
run pressed the moment the step opens cannot be undone by the setup's reset. The other methods
return at once. The store is written from whichever thread acts (the database is thread-safe).

The rules for the solution and the quiz feed count only attempts that reached the checks: a
SyntaxError, a crash or the untouched starter code says nothing about what the learner knows.
After ``SOLUTION_AFTER`` such failures the verdict says once that F3 shows the solution; the
solution itself shows only when asked for.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tutor.exercises.text import failure_sentence, run_lines
from tutor.kernel import Kernel, KernelError, RunResult, Verdict
from tutor.kernel.client import OutputCallback
from tutor.lessons.model import ExerciseStep, Glossary
from tutor.store.db import Database
from tutor.store.progress import Progress

SOLUTION_AFTER = 3  # failed attempts that reached the checks before the solution is offered
# The longest a run waits behind the step's setup (a first kernel start imports torch).
PREPARE_WAIT_S = 120.0
STUCK_NOTE = "stuck? F3 shows the solution"


@dataclass(frozen=True)
class Outcome:
    """What an action leaves for the learner to see.

    ``verdict`` replaces the line under the editor unless it is None (``state`` is "",
    "passed" or "failed");
    ``output`` lines are added to the output pane (cleared first when ``clear_output``); ``note``
    replaces the text under the verdict (hints, the solution) unless it is None; ``editor``
    replaces the editor's text unless it is None; ``show`` names what must be in view
    afterwards: "verdict", "note" or "output".
    """

    verdict: str | None
    state: str = ""
    output: tuple[str, ...] = ()
    clear_output: bool = False
    note: str | None = None
    editor: str | None = None
    show: str = "verdict"


def is_starter(step: ExerciseStep, code: str) -> bool:
    """Whether ``code`` is the step's starter code as shipped (whitespace aside)."""
    return code.strip() == step.starter.strip()


def reached_checks(step: ExerciseStep, code: str, result: RunResult) -> bool:
    """Whether an attempt says something about the answer: it ran cleanly and was not the starter.

    Only such attempts count towards offering the solution and make glossary terms due.
    """
    return result.ok and not is_starter(step, code)


class ExerciseSession:
    """The state of one opened exercise step and the rules that change it.

    ``kernel`` returns the shared kernel (starting it if need be); ``db`` and ``progress`` may be
    None (nothing is stored), ``glossary`` None (the quiz is not fed).
    """

    def __init__(
        self,
        step: ExerciseStep,
        kernel: Callable[[], Kernel],
        *,
        db: Database | None = None,
        progress: Progress | None = None,
        glossary: Glossary | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.step = step
        self._kernel = kernel
        self.db = db
        self.progress = progress
        self.glossary = glossary
        self._clock = clock
        self._started = clock()
        self.runs = 0  # answers run, passed or not
        self.failed_checks = 0  # failed attempts that reached the checks
        self.hints_shown = 0
        self.solved = False
        self.stuck_said = False
        self.reset_armed = False  # F8 right after a reset puts the starter code back
        # Set once the step's setup has run: later kernel work waits for it.
        self.prepared = threading.Event()
        self.draft_restored = False
        self.code = self.starter
        draft = self._load_draft()
        # The code as the store holds it: only a change is written (see save_draft).
        self._stored = draft if draft is not None else self.starter
        if draft is not None and not is_starter(step, draft):
            self.code, self.draft_restored = draft, True

    @property
    def starter(self) -> str:
        return self.step.starter.strip("\n") + "\n"

    @property
    def full_id(self) -> str:
        return self.step.full_id

    # Store -------------------------------------------------------------------------------------
    def _load_draft(self) -> str | None:
        if self.db is None:
            return None
        from tutor.store.drafts import load_draft

        return load_draft(self.db, self.full_id)

    def save_draft(self, code: str) -> None:
        """Keep the editor's text for next time; the starter unchanged needs no draft.

        Code the store already holds is not written again, so opening and leaving a step
        writes nothing (on a full disk that would be a change to report that never was).
        """
        if self.db is None or code == self._stored:
            return
        from tutor.store.drafts import clear_draft, save_draft

        try:
            if is_starter(self.step, code):
                clear_draft(self.db, self.full_id)
            else:
                save_draft(self.db, self.full_id, code)
        except sqlite3.Error:  # the app closed the database first
            return
        self._stored = code

    def _feed_quiz(self) -> None:
        """A real failed attempt makes the step's glossary terms due in the quiz sooner."""
        if self.db is None or self.glossary is None or not self.step.terms:
            return
        from tutor.quiz.feed import exercise_failed

        exercise_failed(self.db, self.glossary, self.step.terms)

    def _elapsed(self) -> float:
        now = self._clock()
        seconds, self._started = now - self._started, now
        return seconds

    # Quick actions (return at once) -------------------------------------------------------------
    def edited(self, code: str) -> None:
        """The editor's text changed: keep it (for the draft) and disarm F8's second press."""
        self.code = code
        self.reset_armed = False

    def disarm(self) -> None:
        """Another action came between a reset and a second F8."""
        self.reset_armed = False

    def opening(self) -> Outcome:
        """The verdict before the kernel is ready."""
        return Outcome("Starting Python…")

    def ready_outcome(self) -> Outcome:
        """The verdict before the first run: solved before, a draft back, or ready."""
        record = self.progress.step(self.full_id) if self.progress is not None else None
        if record is not None and record.status == "solved":
            return Outcome(
                "✓ Solved before. Run it again to recheck, or n for the next step (escape first).",
                "passed",
            )
        if self.draft_restored:
            return Outcome("Your code from last time is back; ctrl+j or F5 runs and checks it.")
        return Outcome("Ready: write your code, then ctrl+j or F5 runs and checks it.")

    def run_label(self) -> str:
        """The output-pane line that starts the next run."""
        return f"--- run {self.runs + 1} ---"

    def hint(self) -> Outcome:
        """The next hint (all shown so far, numbered), or a pointer to F3 when there are none."""
        self.reset_armed = False
        hints = self.step.hints
        if not hints:
            return Outcome(None, note="This step has no hints; F3 shows the solution.", show="note")
        if self.hints_shown < len(hints):
            self.hints_shown += 1
            if self.progress is not None:
                self.progress.record_hint(self.full_id)
        shown = hints[: self.hints_shown]
        lines = [f"Hint {i}/{len(hints)}: {text.strip()}" for i, text in enumerate(shown, start=1)]
        return Outcome(None, note="\n".join(lines), show="note")

    def solution(self) -> Outcome:
        """The reference solution, shown because the learner asked (F3)."""
        self.reset_armed = False
        return Outcome(None, note="Solution:\n" + self.step.solution.strip(), show="note")

    def restore_starter(self) -> Outcome:
        """Put the starter code back in the editor (undoable there) and forget the draft."""
        self.code = self.starter
        self.reset_armed = False
        self.save_draft(self.starter)
        return Outcome(
            "The editor holds the starter code again (ctrl+z there undoes it).",
            editor=self.starter,
        )

    def close(self) -> None:
        """The step closes: keep the draft and add the time spent, unless it was solved."""
        self.save_draft(self.code)
        if self.progress is not None and not self.solved:
            try:
                self.progress.mark(self.full_id, "seen", seconds=self._elapsed())
            except sqlite3.Error:  # the app closed the database first; the time is lost
                pass

    # Kernel actions (block: call from a worker thread) ------------------------------------------
    def _wait_kernel(self) -> Kernel:
        self.prepared.wait(PREPARE_WAIT_S)
        return self._kernel()

    def prepare(self) -> Outcome:
        """Run the step's setup in a fresh namespace; every other kernel action waits for it."""
        try:
            result = self._kernel().reset(self.step)
        except KernelError as exc:
            return Outcome(str(exc), "failed")
        finally:
            self.prepared.set()
        if not result.ok:
            return Outcome(f"The step's setup failed: {failure_sentence(result)}", "failed")
        return self.ready_outcome()

    def run(self, code: str, on_output: OutputCallback | None = None) -> Outcome:
        """Run ``code`` as the answer and check it; record the attempt and apply the rules."""
        self.code = code
        self.reset_armed = False
        self.save_draft(code)
        try:
            result, verdict = self._wait_kernel().answer(self.step, code, on_output=on_output)
        except KernelError as exc:
            return Outcome(str(exc), "failed")
        self.runs += 1
        return self._judge(code, result, verdict)

    def _judge(self, code: str, result: RunResult, verdict: Verdict) -> Outcome:
        lines = run_lines(result)
        if self.progress is not None:
            self.progress.record_attempt(self.full_id, code, verdict.passed)
        if verdict.passed:
            lines.append("✓ " + verdict.messages[0])
            if not self.solved:
                self.solved = True
                if self.progress is not None:
                    self.progress.mark(self.full_id, "solved", seconds=self._elapsed())
            return Outcome("✓ Solved! " + " ".join(verdict.messages), "passed", tuple(lines))
        reached = reached_checks(self.step, code, result)
        if reached:
            self.failed_checks += 1
            self._feed_quiz()
        if result.ok:
            lines.extend("✗ " + message for message in verdict.messages)
            sentence = verdict.messages[0]
        else:
            sentence = failure_sentence(result)  # the output pane has it in full already
        if reached and self.failed_checks >= SOLUTION_AFTER and not self.stuck_said:
            self.stuck_said = True
            tail = f"  ({STUCK_NOTE})"
        elif self.hints_shown < len(self.step.hints):
            tail = "  (F2: a hint)"
        else:
            tail = ""
        return Outcome("✗ " + sentence + tail, "failed", tuple(lines))

    def run_line(self, code: str, on_output: OutputCallback | None = None) -> Outcome:
        """Run one REPL line in the namespace; it is no attempt and is not checked."""
        self.reset_armed = False
        try:
            kernel = self._wait_kernel()
            result = kernel.run(code, self.step.timeout, on_output, filename="<repl>")
        except KernelError as exc:
            return Outcome(str(exc), "failed")
        lines = tuple(run_lines(result))
        if result.ok:
            return Outcome("", output=lines, show="output")
        return Outcome("✗ " + failure_sentence(result), "failed", lines, show="output")

    def reset(self) -> Outcome:
        """The variables back to the post-setup state; the code is kept (F8 again restores it)."""
        self.reset_armed = False
        try:
            result = self._wait_kernel().reset(self.step)
        except KernelError as exc:
            return Outcome(str(exc), "failed")
        if not result.ok:
            return Outcome(
                f"The step's setup failed: {failure_sentence(result)}", "failed", clear_output=True
            )
        self.reset_armed = not is_starter(self.step, self.code)
        again = " F8 again puts the starter code back." if self.reset_armed else ""
        return Outcome(
            "Reset: the variables are as the step's setup left them; your code is kept." + again,
            clear_output=True,
        )

    def skip(self) -> Outcome:
        """Run the reference solution so later steps find its names; the step counts as skipped."""
        self.reset_armed = False
        try:
            result = self._wait_kernel().run_reference(self.step)
        except KernelError as exc:
            return Outcome(str(exc), "failed")
        if self.progress is not None and not self.solved:
            self.progress.mark(self.full_id, "skipped", seconds=self._elapsed())
        note = (
            "Solution (run for you, so later steps find its names):\n" + self.step.solution.strip()
        )
        lines = tuple(run_lines(result))
        if result.ok:
            return Outcome(
                "Skipped: the reference solution ran; its names are defined now.",
                output=lines,
                note=note,
                show="note",
            )
        return Outcome(
            f"The reference solution failed: {failure_sentence(result)}",
            "failed",
            lines,
            note=note,
            show="note",
        )

    def check(self) -> Outcome:
        """Check the namespace as it is (an answer built in the REPL line); no attempt is recorded."""
        self.reset_armed = False
        try:
            verdict = self._wait_kernel().check(self.step)
        except KernelError as exc:
            return Outcome(str(exc), "failed")
        if verdict.passed:
            return Outcome("✓ " + verdict.messages[0], "passed")
        return Outcome("✗ " + verdict.messages[0], "failed")
