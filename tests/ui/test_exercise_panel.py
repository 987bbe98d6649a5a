"""The exercise panel in a tiny app: solving, hints, keys, focus, verdict lines, scrolling, drafts.

The rules themselves (counting, drafts, the quiz feed) are tested without Textual in
test_exercise_session.py; these tests drive the panel with keys and a real kernel.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Footer, RichLog, Static, TextArea

from tutor.checks.context import kind_of, with_article
from tutor.exercises.kernels import KernelHost
from tutor.exercises.session import ExerciseSession
from tutor.lessons import load_catalog
from tutor.lessons.model import ExerciseStep
from tutor.store import open_database
from tutor.store.drafts import load_draft
from tutor.store.progress import Progress
from tutor.ui.widgets.exercise import ExercisePanel
from tutor.ui.widgets.exercise_repl import ReplInput

LESSONS = Path(__file__).parents[1] / "fixtures" / "exercises" / "good"


class PanelApp(App[None]):
    """Just enough of the tutor's app for the panel: db, progress and one exercise."""

    def __init__(self, step: ExerciseStep) -> None:
        super().__init__()
        self.step = step
        self.db = open_database()
        self.progress = Progress(self.db)
        self.kernels = KernelHost()

    def panel(self) -> ExercisePanel:
        session = ExerciseSession(self.step, self.kernels.get, db=self.db, progress=self.progress)
        return ExercisePanel(session)

    def compose(self) -> ComposeResult:
        yield self.panel()
        yield Footer()

    def on_unmount(self) -> None:
        self.kernels.close()


class ReaderLikeApp(PanelApp):
    """The panel below a long prompt in a scrolling body, with the reader's escape and n keys."""

    BINDINGS = [Binding("escape", "leave_editor", "Leave"), Binding("n", "next", "Next")]

    def __init__(self, step: ExerciseStep) -> None:
        super().__init__(step)
        self.next_pressed = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="body"):
            yield Static("\n".join(f"prompt line {i}" for i in range(16)), id="filler")
            yield self.panel()
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self.query_one(ExercisePanel).take_focus)

    def action_leave_editor(self) -> None:
        # What the reader does: escape in the editor or the REPL line focuses the panel.
        self.set_focus(self.query_one(ExercisePanel))

    def action_next(self) -> None:
        self.next_pressed += 1


def in_view(app: App[Any], widget: Widget) -> bool:
    """Whether the whole widget shows inside the scrolling body."""
    body = app.query_one("#body")
    return body.region.contains_region(widget.region)


def exercise(name: str) -> ExerciseStep:
    step = load_catalog([LESSONS]).step(f"drills.{name}")
    assert isinstance(step, ExerciseStep)
    return step


def text_of(app: App[Any], selector: str) -> str:
    return str(app.query_one(selector, Static).render())


def log_text(app: App[Any]) -> str:
    return "\n".join(line.text for line in app.query_one("#exercise-output", RichLog).lines)


async def settle(app: App[Any], pilot: Any) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_solve_with_hint_after_a_misconception() -> None:
    step = exercise("neuron")
    app = PanelApp(step)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "Ready" in text_of(app, "#exercise-verdict")
        editor = app.query_one("#exercise-editor", TextArea)
        assert editor.text.strip() == "y = ..."
        editor.focus()

        # Fail once: the bias is missing, and the detector explains that mistake.
        editor.load_text("y = activation(torch.sum(features * weights)).view(1, 1)\n")
        await pilot.press("f5")
        await settle(app, pilot)
        verdict = text_of(app, "#exercise-verdict")
        assert verdict.startswith("✗ `y` matches the answer without the bias")
        assert "y: tensor (1, 1) float32 on cpu" in log_text(app)

        # A hint, then the right answer with ctrl+j.
        await pilot.press("f2")
        assert text_of(app, "#exercise-hint").startswith("Hint 1/3: Multiply")
        editor.load_text(step.solution + "\nprint('done')\n")
        await pilot.press("ctrl+j")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("✓ Solved!")
        assert "done" in log_text(app)

    record = Progress(open_database()).step(step.full_id)
    assert record is not None
    assert (record.status, record.attempts, record.hints_used) == ("solved", 2, 1)
    assert record.seconds > 0


async def test_repl_history_and_keys_while_code_runs() -> None:
    app = PanelApp(exercise("matmul"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        repl = app.query_one("#exercise-repl", ReplInput)
        repl.focus()
        await pilot.press(*"x.shape", "enter")
        await settle(app, pilot)
        assert "torch.Size([2, 3])" in log_text(app)

        # A slow line runs in the child; meanwhile typing still reaches the input.
        repl.value = "import time; time.sleep(1.5)"
        await pilot.press("enter")
        await pilot.pause(0.2)
        await pilot.press("a", "b")
        assert repl.value == "ab"
        assert any(w.is_running for w in app.workers)
        await settle(app, pilot)

        repl.value = ""
        await pilot.press("up")
        assert repl.value == "import time; time.sleep(1.5)"
        await pilot.press("up")
        assert repl.value == "x.shape"
        await pilot.press("down", "down")
        assert repl.value == ""


async def test_solution_offered_after_three_failures_at_the_checks_skip_and_reset() -> None:
    step = exercise("matmul")
    app = PanelApp(step)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#exercise-editor", TextArea)
        editor.focus()
        hint = app.query_one("#exercise-hint", Static)
        # The starter fails before the checks (a shape error): it never offers the solution.
        for _ in range(3):
            await pilot.press("f5")
            await settle(app, pilot)
        assert "stuck?" not in text_of(app, "#exercise-verdict") and not hint.display
        # Three answers that reach the checks and fail: the verdict says once where it is.
        editor.load_text("out = torch.zeros(2, 4)\n")
        verdicts = []
        for _ in range(4):
            await pilot.press("f5")
            await settle(app, pilot)
            verdicts.append(text_of(app, "#exercise-verdict"))
        assert ["stuck? F3 shows the solution" in v for v in verdicts] == [
            False,
            False,
            True,
            False,
        ]
        assert not hint.display  # the solution never shows itself
        await pilot.press("f3")
        await pilot.pause()
        assert text_of(app, "#exercise-hint") == "Solution:\n" + step.solution.strip()

        await pilot.press("f4")
        await settle(app, pilot)
        assert "out: tensor (2, 4) float32 on cpu" in log_text(app)
        await pilot.press("f9")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("✓")

        await pilot.press("f8")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("Reset")
        await pilot.press("f9")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("✗ `out` is not defined")
    record = Progress(open_database()).step(step.full_id)
    assert record is not None and record.status == "skipped"


async def test_focus_contract_keys_from_each_widget_and_output_never_focused() -> None:
    app = ReaderLikeApp(exercise("neuron"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        panel = app.query_one(ExercisePanel)
        editor = app.query_one("#exercise-editor", TextArea)
        repl = app.query_one("#exercise-repl", ReplInput)
        assert panel.can_focus and app.focused is editor  # take_focus on open

        # Typing goes in once; escape is not swallowed by the editor: the reader gets it.
        await pilot.press("end", "x")
        assert editor.text.startswith("y = ...x")
        await pilot.press("escape")
        assert app.focused is panel
        await pilot.press("n")
        assert app.next_pressed == 1
        await pilot.press("f2")  # F-keys on the panel itself
        assert text_of(app, "#exercise-hint").startswith("Hint 1/3")

        # Tab from the panel reaches the REPL line, whose F-keys bubble to the panel too.
        await pilot.press("tab")
        assert app.focused is repl
        await pilot.press("f2")
        assert text_of(app, "#exercise-hint").count("Hint") == 2
        await pilot.press("n")  # a letter in the REPL is typed, not a shortcut
        assert repl.value == "n" and app.next_pressed == 1
        await pilot.press("escape")
        assert app.focused is panel
        await pilot.press("tab", "tab")
        assert app.focused is editor
        await pilot.press("f3")
        assert text_of(app, "#exercise-hint").startswith("Solution:")

        # The output pane never takes focus, so letters cannot fire app shortcuts from it.
        output = app.query_one("#exercise-output", RichLog)
        assert not output.can_focus
        await pilot.click("#exercise-output")
        assert app.focused is not output

        # The REPL line has a prompt that stays once something is typed.
        assert str(app.query_one("#exercise-repl-prompt", Static).render()) == ">>> "
        assert repl.region.x > app.query_one("#exercise-repl-prompt").region.x


async def test_verdict_lines_are_the_useful_sentence_and_scroll_into_view() -> None:
    # A short timeout keeps the endless loop quick.
    app = ReaderLikeApp(dataclasses.replace(exercise("neuron"), timeout=1.0))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#exercise-editor", TextArea)
        verdict = app.query_one("#exercise-verdict", Static)
        app.query_one("#body").scroll_home(animate=False)
        await pilot.pause()
        assert not in_view(app, verdict)  # below the long prompt

        editor.load_text("y = (\n")
        await pilot.press("f5")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict") == (
            "✗ A bracket opened on line 1 is never closed: every (, [ and { needs its partner; "
            "the error may show on a later line. SyntaxError: '(' was never closed  (F2: a hint)"
        )
        assert in_view(app, verdict) and in_view(app, editor)
        log = log_text(app)
        assert "    y = (\n        ^" in log  # the caret snippet stays in the output pane
        assert log.count("SyntaxError") == 1  # printed once, not again with a ✗

        editor.load_text("y = 1\n")
        await pilot.press("f5")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith(
            "✗ `y` should be a tensor, but it is an int."
        )

        editor.load_text("while True:\n    pass\n")
        await pilot.press("f5")
        await settle(app, pilot)
        line = text_of(app, "#exercise-verdict")
        assert "ran longer than 1 s" in line
        assert "Your variables are as they were before this run." in line
        assert log_text(app).count("ran longer than") == 1

        await pilot.press("f2")
        await pilot.pause()
        assert in_view(app, app.query_one("#exercise-hint", Static))
        await pilot.press("f8")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("Reset")
        assert in_view(app, verdict)


async def test_draft_kept_restored_reset_twice_and_solved_before() -> None:
    step = exercise("neuron")
    app = PanelApp(step)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one(ExercisePanel).take_focus()
        await pilot.press("end", *" + 0")
    assert load_draft(open_database(), step.full_id) == "y = ... + 0\n"

    app = PanelApp(step)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        editor = app.query_one("#exercise-editor", TextArea)
        assert editor.text == "y = ... + 0\n"
        assert text_of(app, "#exercise-verdict").startswith("Your code from last time")
        editor.focus()
        # F8 resets the variables but keeps the code; F8 again brings the starter back.
        await pilot.press("f8")
        await settle(app, pilot)
        assert "F8 again puts the starter code back" in text_of(app, "#exercise-verdict")
        assert editor.text == "y = ... + 0\n"
        await pilot.press("f8")
        await pilot.pause()
        assert editor.text == "y = ...\n"
        assert load_draft(app.db, step.full_id) is None

        editor.load_text(step.solution + "\n")
        await pilot.press("f5")
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("✓ Solved!")
    assert load_draft(open_database(), step.full_id) == step.solution + "\n"

    app = PanelApp(step)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert text_of(app, "#exercise-verdict").startswith("✓ Solved before.")
        assert app.query_one("#exercise-editor", TextArea).text == step.solution + "\n"


def test_articles_before_type_names() -> None:
    assert [with_article(w) for w in ("int", "float", "ellipsis", "nn.Module", "list")] == [
        "an int",
        "a float",
        "an ellipsis",
        "a nn.Module",
        "a list",
    ]
    assert (kind_of(3), kind_of(None), kind_of([1])) == ("an int", "None", "a list")
