"""The run screens keep the app up when a run cannot start or its config cannot be read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.apps import HostApp
from helpers.runs import fake_run
from helpers.waiting import wait_until
from textual.widgets import Static

from tutor.lessons.model import TrainingStep
from tutor.training import runs
from tutor.ui.screens.runs import RunsScreen
from tutor.ui.screens.training import TrainingScreen
from tutor.ui.widgets.training_step import TrainingStepPanel


def refuse_start(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def start(run_dir: Path, resume: bool = False) -> int:
        raise error

    monkeypatch.setattr(runs, "start", start)


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (runs.RunBusy("The run is already running."), "already running"),
        (OSError(28, "No space left on device"), "No space left on device"),
    ],
)
async def test_training_screen_resume_and_again_survive_a_failed_start(
    monkeypatch: pytest.MonkeyPatch, error: Exception, said: str
) -> None:
    run_dir = fake_run("stopped")
    refuse_start(monkeypatch, error)
    app = HostApp(lambda: TrainingScreen(run_dir.name))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen)
        assert any(said in note for note in app.notes), app.notes
        app.notes.clear()
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, TrainingScreen) and app.screen.run_id == run_dir.name
        assert any(said in note for note in app.notes), app.notes


async def test_runs_screen_resume_survives_a_race(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_run("stopped")
    refuse_start(monkeypatch, runs.RunBusy("The run is already running."))
    app = HostApp(RunsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, RunsScreen)
        await wait_until(pilot, lambda: screen.found, "the runs listed", interval=0.05)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert "The run is already running." in app.notes


async def test_step_panel_survives_a_failed_start(monkeypatch: pytest.MonkeyPatch) -> None:
    def create_run(config: Any) -> Path:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(runs, "create_run", create_run)
    step = TrainingStep(
        id="train-it", lesson_id="fashion-mnist", title="Train it", line=None, text="Train.",
        model="mlp", epochs=1,
    )  # fmt: skip
    app = HostApp(widgets=lambda: [TrainingStepPanel(step)])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        assert not isinstance(app.screen, TrainingScreen)
        assert any("Permission denied" in note for note in app.notes), app.notes


@pytest.mark.parametrize("damage", ["garbled", "deleted"])
async def test_training_screen_without_a_config_says_why(damage: str) -> None:
    run_dir = fake_run("stopped")
    if damage == "garbled":
        (run_dir / "config.json").write_text("{not json")
    else:
        runs.delete(run_dir)
    app = HostApp(lambda: TrainingScreen(run_dir.name))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, TrainingScreen) and screen.config is None
        info = str(screen.query_one("#training-info", Static).render())
        expected = "damaged config.json" if damage == "garbled" else "no longer on disk"
        assert expected in info
        for key in ("s", "c", "a"):
            app.notes.clear()
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen
            assert app.notes and expected in app.notes[0]
