"""The loss chart's looks (a marker per series, clean legend, labelled axes, whole-number steps),
the training screen's status line at 80 columns, short device text and the runs CLI's messages."""

from __future__ import annotations

from typing import Any

import pytest
from test_runs import fake_run
from textual.app import App
from textual.widgets import DataTable, Static

from tutor.cli import main
from tutor.training import runs
from tutor.training.config import TrainConfig
from tutor.training.series import Series, draw, integer_ticks, legend_text, render_text
from tutor.training.setup import cpu_device_text
from tutor.ui.screens.runs import RunsScreen
from tutor.ui.screens.training import STATUS_WIDTH, TrainingScreen, progress_text
from tutor.ui.widgets.loss_chart import build_picture


class RecordingPlot:
    """Stands in for a plotext figure and records what ``draw`` asks of it."""

    def __init__(self) -> None:
        self.plots: list[dict[str, Any]] = []
        self.xticks_called: tuple[list[Any], list[str]] | None = None
        self.yticks_called: list[tuple[list[Any], list[str], Any]] = []
        self.ylabels: list[tuple[str, Any]] = []

    def plot(self, xs: list[Any], ys: list[Any], **options: Any) -> None:
        self.plots.append(options)

    def xticks(self, ticks: list[Any], labels: list[str]) -> None:
        self.xticks_called = (ticks, labels)

    def yticks(self, ticks: list[Any], labels: list[str], yside: Any = None) -> None:
        self.yticks_called.append((ticks, labels, yside))

    def ylabel(self, label: str, yside: Any = None) -> None:
        self.ylabels.append((label, yside))

    def xlabel(self, label: str) -> None:
        pass


def finished_series() -> Series:
    return Series.from_events(runs.read_events(fake_run("done", epochs=3, steps_per_epoch=470)))


def test_every_series_has_its_own_marker_and_no_plotext_legend() -> None:
    plot = RecordingPlot()
    draw(plot, finished_series(), 80)
    markers = [options["marker"] for options in plot.plots]
    assert len(plot.plots) == 4 and len(set(markers)) == 4
    # plotext's own legend (markers repeated, L / ⅃ axis symbols) is not used.
    assert all("label" not in options for options in plot.plots)
    assert ("accuracy", "right") in plot.ylabels and ("loss", None) in plot.ylabels


def test_step_ticks_are_whole_numbers_and_accuracy_ticks_percentages() -> None:
    plot = RecordingPlot()
    draw(plot, finished_series(), 80)
    assert plot.xticks_called is not None
    ticks, labels = plot.xticks_called
    assert len(ticks) >= 2 and all(isinstance(tick, int) for tick in ticks)
    assert labels == [str(tick) for tick in ticks]
    (_, accuracy_labels, side), *_ = plot.yticks_called
    assert side == "right" and all(label.endswith("%") for label in accuracy_labels)
    assert integer_ticks(6.0, 1876.0, 5) == [500, 1000, 1500]
    assert integer_ticks(1.0, 13.0, 5) == [5, 10]
    assert integer_ticks(1.0, 3.0, 5) == [1, 2, 3]


def test_chart_text_without_colour_tells_the_series_apart() -> None:
    text = render_text(finished_series(), width=80, height=18, color=False)
    lines = text.splitlines()
    body = "\n".join(lines[:-2])
    for marker in ("x", "o", "·"):
        assert marker in body
    assert any("⠁" <= char <= "⣿" for char in body)  # the smoothed braille line
    legend = lines[-1]
    assert legend.split() == [
        "·",
        "train",
        "loss",
        "⠤",
        "smoothed",
        "x",
        "val",
        "loss",
        "o",
        "val",
        "accuracy",
        "(right",
        "axis)",
    ]
    assert "⢕" not in text and "⅃" not in text and " L " not in text
    tick_row = lines[lines.index(next(line for line in lines if "└" in line)) + 1]
    assert tick_row.split() and all(label.isdigit() for label in tick_row.split())
    assert "accuracy" in lines[-2] and "loss" in lines[-2]
    assert all(len(line) <= 80 for line in lines)


def test_legend_wraps_to_narrow_charts() -> None:
    series = finished_series()
    narrow = legend_text(series, width=50).splitlines()
    assert len(narrow) == 2 and all(len(line) <= 50 for line in narrow)
    picture = build_picture(series, 50, 20, "textual-dark")
    assert len(picture.plain.splitlines()) == 20 and "o val accuracy" in picture.plain


def test_status_line_fits_80_columns() -> None:
    assert progress_text(1, 2, 958, 4690, 7972.0, 64) == (
        "running · epoch 1/2 · step 958/4,690 · 7,972 samples/s · ETA 0:29"
    )
    worst = progress_text(100, 100, 9_999_999, 10_000_000, 2_500_000.0, 1)
    assert len(worst) <= STATUS_WIDTH == 78
    assert "1:23:20" in progress_text(1, 1, 0, 5000, 1.0, 1)  # hours shown as h:mm:ss


class ScreenApp(App[None]):
    def __init__(self, screen: Any) -> None:
        super().__init__()
        self.opening = screen

    def on_mount(self) -> None:
        self.push_screen(self.opening())


async def test_running_status_is_whole_at_80_columns() -> None:
    run_dir = fake_run(None, epochs=10, steps_per_epoch=470)
    app = ScreenApp(lambda: TrainingScreen(run_dir.name))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        for _ in range(50):
            if screen.last_step:
                break
            await pilot.pause(0.1)
        screen.state = "running"  # as it was while the run trained
        screen._show_info()
        await pilot.pause()
        status = screen.query_one("#training-status", Static)
        text = str(status.render())
        assert text.startswith("running · epoch 10/10 · step 4,700/4,700")
        assert len(text) <= status.content_region.width


def test_short_device_text_for_tables() -> None:
    long = "cpu, 1 thread (1 of 2 cores left free for the UI; auto: no CUDA)"
    assert runs.short_device(long) == "cpu ×1"
    assert runs.short_device("cpu, 12 threads") == "cpu ×12"
    assert runs.short_device("cuda:0 NVIDIA H200") == "cuda:0"
    assert runs.short_device("mps (Apple GPU)") == "mps"
    assert runs.short_device("") == "-"


async def test_runs_screen_device_column_is_short() -> None:
    fake_run("done")
    app = ScreenApp(RunsScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(DataTable)
        for _ in range(50):
            if table.row_count:
                break
            await pilot.pause(0.1)
        assert table.get_row_at(0)[-1] == "cpu ×1"


def test_device_text_says_why_cores_were_left_free() -> None:
    auto = "cpu, 1 thread (auto: no CUDA, since no NVIDIA driver was found; no MPS)"
    assert cpu_device_text(auto, 1, 2, chosen=False) == (
        "cpu, 1 thread (1 of 2 cores left free for the UI; auto: no CUDA, since no NVIDIA "
        "driver was found; no MPS)"
    )
    assert cpu_device_text("cpu, 1 thread", 1, 4, chosen=False) == (
        "cpu, 1 thread (3 of 4 cores left free: one for the UI, 2 busy with other work)"
    )
    assert cpu_device_text("cpu, 2 threads", 2, 2, chosen=False) == "cpu, 2 threads"
    assert cpu_device_text("cpu, 1 thread", 1, 2, chosen=True) == "cpu, 1 thread"


@pytest.mark.parametrize(
    ("state", "advice"),
    [("done", "pytorch-tutor runs show"), ("stopped", "pytorch-tutor train --resume")],
)
def test_stopping_a_run_that_is_not_running_says_what_to_do(
    state: str, advice: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = fake_run(state)
    assert main(["runs", "stop", run_dir.name]) == 1
    err = capsys.readouterr().err
    assert "not running" in err and f"{advice} {run_dir.name}" in err


def test_unknown_run_lists_known_ids_nearest_first(capsys: pytest.CaptureFixture[str]) -> None:
    mlp = fake_run("done")
    cnn = runs.create_run(TrainConfig(model="cnn"))
    for action in ("show", "stop", "delete"):
        assert main(["runs", action, "cnn"]) == 2
        err = capsys.readouterr().err
        assert "known runs, nearest first" in err
        assert err.index(cnn.name) < err.index(mlp.name)
    assert runs.nearest_runs("mlp", [cnn.name, mlp.name]) == [mlp.name, cnn.name]


def test_screens_say_which_key_to_use_when_stop_does_nothing() -> None:
    from tutor.ui.screens.runs import not_running_hint

    assert "enter shows its chart" in not_running_hint("r1", "done")
    assert "c resumes it" in not_running_hint("r1", "stopped")
