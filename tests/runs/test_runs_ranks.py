"""Runs trained on several ranks show their world size, in the CLI's list and the app's."""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App
from textual.widgets import DataTable

from tutor.training import events as ev
from tutor.training import runs
from tutor.training.config import TrainConfig
from tutor.ui.app import TutorApp
from tutor.ui.screens.runs import RunsScreen


def test_the_device_cell_names_the_ranks_only_when_there_are_several() -> None:
    one = runs.RunInfo("r", Path("r"), TrainConfig(), "done", device="cpu, 1 thread of 2 cores")
    assert runs.device_cell(one) == "cpu ×1"
    two = runs.RunInfo(
        "r", Path("r"), TrainConfig(), "done", device="cpu, 1 thread of 2 cores", world_size=2
    )
    assert runs.device_cell(two) == "cpu ×1, 2 ranks"


def two_rank_run() -> Path:
    run_dir = runs.create_run(TrainConfig(model="mlp", epochs=1))
    start = ev.Start(
        device="cpu, 1 thread of 2 cores", threads=1, model="mlp", model_summary="",
        model_on="cpu", data_on="cpu", where="", trainable_parameters=1,
        dataset="fashion-mnist", data_source="", classes=[], n_train=64, n_test=10,
        steps_per_epoch=1, epochs=1, batch_size=32, start_epoch=1, start_step=0, world_size=2,
    )  # fmt: skip
    (run_dir / "metrics.jsonl").write_text(json.dumps(ev.to_json(start)) + "\n")
    (run_dir / "state.json").write_text(json.dumps({"state": "stopped", "message": ""}))
    return run_dir


class RunsHost(App[None]):
    """The runs screen on its own, styled as in the app."""

    CSS_PATH = TutorApp.CSS_PATH

    def on_mount(self) -> None:
        self.push_screen(RunsScreen())


async def test_the_runs_screen_shows_the_world_size() -> None:
    two_rank_run()
    app = RunsHost()
    async with app.run_test(size=(120, 24)) as pilot:
        table = app.screen.query_one(DataTable)
        for _ in range(50):
            if table.row_count:
                break
            await pilot.pause(0.1)
        cells = [str(cell) for cell in table.get_row_at(0)]
        assert "cpu ×1, 2 ranks" in cells
