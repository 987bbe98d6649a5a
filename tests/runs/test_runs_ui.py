"""Pilot tests: the runs screen finds a detached run, the training screen follows it, the step panel;
the screens stay up when a run cannot start or its config cannot be read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers.apps import HostApp
from helpers.runs import fake_run
from helpers.waiting import wait_until
from textual.widgets import DataTable, ProgressBar, Static

from tutor.cli import main
from tutor.lessons.model import TrainingStep
from tutor.training import runs
from tutor.ui.screens.runs import RunsScreen
from tutor.ui.screens.training import TrainingScreen
from tutor.ui.widgets.loss_chart import LossChart
from tutor.ui.widgets.training_step import TrainingStepPanel

# The tiny generated dataset in the data root, offline, no system copy (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("tiny_data")


async def test_training_screen_shows_a_finished_run() -> None:
    run_dir = fake_run("done")
    app = HostApp(lambda: TrainingScreen(run_dir.name))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await wait_until(pilot, lambda: screen.state == "done" and screen.last_epoch)
        await pilot.pause(0.5)  # the chart redraws on its timer
        chart = screen.query_one(LossChart)
        assert len(chart.series.steps) == 100 and chart.series.epoch_steps == [50, 100]
        assert chart.draws >= 1
        info = str(screen.query_one("#training-info", Static).render())
        assert "cpu, 1 thread" in info and "val accuracy 90.0%" in info
        bar = screen.query_one(ProgressBar)
        assert bar.total == 100 and bar.progress == 100
        await pilot.press("s")  # stopping a finished run only says so
        await pilot.press("escape")
        assert not isinstance(app.screen, TrainingScreen)


async def test_runs_screen_finds_a_detached_run_and_follows_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["train", "mlp", "--epochs", "2", "--batch-size", "20", "--device", "cpu", "--detach"]
    assert main(args) == 0
    run_id = capsys.readouterr().out.strip()
    app = HostApp(RunsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        runs_screen = app.screen
        assert isinstance(runs_screen, RunsScreen)
        table = runs_screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == 1)
        assert runs_screen.found[0].id == run_id
        await pilot.press("enter")
        training = app.screen
        assert isinstance(training, TrainingScreen) and training.run_id == run_id
        await wait_until(pilot, lambda: training.state == "done")
        await pilot.pause(0.5)
        chart = training.query_one(LossChart)
        assert chart.series.steps and len(chart.series.epoch_steps) == 2
        status = str(training.query_one("#training-status", Static).render())
        assert "done" in status
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen) and app.screen.found is runs_screen.found
        await wait_until(pilot, lambda: runs_screen.found and runs_screen.found[0].state == "done")


async def test_step_panel_trains_and_opens_the_training_screen() -> None:
    step = TrainingStep(
        id="train-it",
        lesson_id="fashion-mnist",
        title="Train it",
        line=None,
        text="Train the [[hyperparameter|network]] below.",
        model="mnist-mlp",
        epochs=1,
        batch_size=50,
        target_train_loss=5.0,
    )

    app = HostApp(widgets=lambda: [TrainingStepPanel(step)])
    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(TrainingStepPanel)
        settings = str(panel.query_one("#training-step-settings", Static).render())
        assert "mnist-mlp" in settings and "batch 50" in settings and "below 5" in settings
        await pilot.press("f5")
        training = app.screen
        assert isinstance(training, TrainingScreen)
        config = json.loads((runs.find_run("last") / "config.json").read_text())
        assert config["step_id"] == "fashion-mnist.train-it" and config["epochs"] == 1
        await wait_until(pilot, lambda: training.state == "done")
        await pilot.press("escape")
        await wait_until(
            pilot,
            lambda: "Goal reached" in str(panel.query_one("#training-step-last", Static).render()),
        )


# --- the screens stay up when a run cannot start or its config cannot be read ----------------


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
