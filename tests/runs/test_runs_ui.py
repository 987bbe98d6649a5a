"""Pilot tests: the runs screen finds a detached run, the training screen follows it, the step panel."""

from __future__ import annotations

import json

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
