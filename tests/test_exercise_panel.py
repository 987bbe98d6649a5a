"""The exercise panel in a tiny app: solve with a hint after one failure, keys work while code runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Footer, RichLog, Static, TextArea

from tutor.lessons import load_catalog
from tutor.lessons.model import ExerciseStep
from tutor.store import open_database
from tutor.store.progress import Progress
from tutor.ui.widgets.exercise import ExercisePanel, close_kernel, describe_summary
from tutor.ui.widgets.exercise_repl import ReplInput

LESSONS = Path(__file__).parent / "fixtures" / "exercises" / "good"


class PanelApp(App[None]):
    """Just enough of the tutor's app for the panel: db, progress and one exercise."""

    def __init__(self, step: ExerciseStep) -> None:
        super().__init__()
        self.step = step
        self.db = open_database()
        self.progress = Progress(self.db)

    def compose(self) -> ComposeResult:
        yield ExercisePanel(self.step)
        yield Footer()

    def on_unmount(self) -> None:
        close_kernel(self)


@pytest.fixture(autouse=True)
def no_spare_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tutor.ui.widgets.exercise.SPARE_KERNEL", False)


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


async def test_solution_after_three_failures_skip_and_reset() -> None:
    step = exercise("matmul")
    app = PanelApp(step)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        app.query_one("#exercise-editor", TextArea).focus()
        for _ in range(3):
            await pilot.press("f5")
            await settle(app, pilot)
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


def test_describe_summary_lines() -> None:
    assert describe_summary(
        "y", {"kind": "tensor", "shape": [3], "dtype": "int64", "device": "cpu"}
    ) == ("y: tensor (3,) int64 on cpu")
    line = describe_summary(
        "m", {"kind": "module", "type": "Linear", "parameters": 1010, "device": "cpu"}
    )
    assert line == "m: Linear (1,010 parameters) on cpu"


def test_panel_module_does_not_import_torch() -> None:
    code = (
        "import sys, tutor.ui.widgets.exercise, tutor.kernel, tutor.checks.prove, tutor.cli.answer_cmd; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
