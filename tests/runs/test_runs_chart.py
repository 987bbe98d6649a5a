"""The loss chart's looks (a marker per series, clean legend, labelled axes, whole-number steps),
the training screen's status line at 80 columns, short device text and the runs CLI's messages."""

from __future__ import annotations

import math
from typing import Any

import pytest
from helpers.apps import HostApp
from helpers.runs import fake_run
from helpers.waiting import wait_until
from textual.widgets import DataTable, Static

from tutor.cli import main
from tutor.training import events as ev
from tutor.training import runs
from tutor.training.config import TrainConfig
from tutor.training.series import (
    Series,
    accuracy_text,
    draw,
    envelope,
    integer_ticks,
    legend_text,
    render_text,
)
from tutor.training.setup import cpu_device_text
from tutor.ui.screens.runs import RunsScreen
from tutor.ui.screens.training import STATUS_WIDTH, TrainingScreen, progress_text
from tutor.ui.widgets.loss_chart import LossChart, build_picture


class RecordingPlot:
    """Stands in for a plotext figure and records what ``draw`` asks of it."""

    def __init__(self) -> None:
        self.plots: list[dict[str, Any]] = []
        self.xticks_called: tuple[list[Any], list[str]] | None = None
        self.yticks_called: list[tuple[list[Any], list[str], Any]] = []
        self.ylabels: list[tuple[str, Any]] = []
        self.ylim_called: tuple[float, float] | None = None

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

    def ylim(self, low: float, high: float) -> None:
        self.ylim_called = (low, high)


def finished_series() -> Series:
    return Series.from_events(runs.read_events(fake_run("done", epochs=3, steps_per_epoch=470)))


def test_every_series_has_its_own_marker_and_no_plotext_legend() -> None:
    plot = RecordingPlot()
    draw(plot, finished_series(), 80)
    markers = [options["marker"] for options in plot.plots]
    assert len(plot.plots) == 3 and len(set(markers)) == 3
    # plotext's own legend (markers repeated, L / ⅃ axis symbols) is not used.
    assert all("label" not in options for options in plot.plots)
    # Accuracy has no axis of its own: its numbers are in the legend.
    assert plot.ylabels == [("loss", None)]
    assert all(options.get("yside") is None for options in plot.plots)


def test_step_ticks_are_whole_numbers() -> None:
    plot = RecordingPlot()
    draw(plot, finished_series(), 80)
    assert plot.xticks_called is not None
    ticks, labels = plot.xticks_called
    assert len(ticks) >= 2 and all(isinstance(tick, int) for tick in ticks)
    assert labels == [str(tick) for tick in ticks]
    assert integer_ticks(6.0, 1876.0, 5) == [500, 1000, 1500]
    assert integer_ticks(1.0, 13.0, 5) == [5, 10]
    assert integer_ticks(1.0, 3.0, 5) == [1, 2, 3]


def steep_series(steps: int = 4000) -> Series:
    """Losses from 2.3 falling fast, as a ten-class run starts: many steps, one high first point."""
    events: list[ev.Event] = []
    for step in range(10, steps + 1, 10):
        losses = [0.3 + 2.0 * math.exp(-(step - 10 + i) / 40) for i in range(10)]
        epoch = (step - 1) // 1000 + 1
        events.append(ev.Step(epoch, step, step % 1000 or 1000, 1000, losses[-1], losses, 1.0, 0.0))
        if step % 1000 == 0:
            accuracy = 0.84 + step / 200_000
            events.append(ev.Epoch(epoch, step, 0.4, 0.45, accuracy, 1.0, 1.0))
    return Series.from_events(events)


def test_the_loss_axis_covers_every_loss() -> None:
    series = steep_series()
    plot = RecordingPlot()
    draw(plot, series, 80)
    assert plot.ylim_called is not None
    low, high = plot.ylim_called
    assert low <= min(series.losses) and high >= max(series.losses) == 2.3
    # Reduced to a few points per column, the first (highest) loss is still drawn.
    xs, ys = envelope(series.steps, series.losses, 40)
    assert len(xs) <= 80 and max(ys) == max(series.losses) and min(ys) == min(series.losses)


def test_the_top_tick_of_the_drawn_chart_is_the_highest_loss() -> None:
    text = render_text(steep_series(), width=80, height=18, color=False)
    ticks = [float(line.split("┤")[0]) for line in text.splitlines() if "┤" in line]
    assert max(ticks) >= 2.3 and min(ticks) == 0.0


def test_accuracy_is_numbers_beside_the_legend_not_a_zoomed_axis() -> None:
    series = steep_series()
    text = render_text(series, width=80, height=18, color=False)
    assert "val accuracy 84.5% 85.0% 85.5% 86.0%" in text
    assert "%" not in "".join(line for line in text.splitlines() if "│" in line or "┤" in line)
    # Many epochs: the latest ones that fit, after an ellipsis.
    series.val_accuracies = [0.8 + i / 1000 for i in range(40)]
    line = accuracy_text(series, 56)
    assert len(line) <= 56 and line.startswith("val accuracy … ") and line.endswith("83.9%")


def test_chart_text_without_colour_tells_the_series_apart() -> None:
    text = render_text(finished_series(), width=80, height=18, color=False)
    lines = text.splitlines()
    body = "\n".join(lines[:-1])
    for marker in ("x", "·"):
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
        "val",
        "accuracy",
        "85.0%",
        "90.0%",
        "95.0%",
    ]
    assert "⢕" not in text and "⅃" not in text and " L " not in text
    tick_row = lines[lines.index(next(line for line in lines if "└" in line)) + 1]
    assert tick_row.split() and all(label.isdigit() for label in tick_row.split())
    assert "step" in lines[-2] and "loss" in lines[-2]
    assert all(len(line) <= 80 for line in lines)


def test_legend_wraps_to_narrow_charts() -> None:
    series = finished_series()
    narrow = legend_text(series, width=50).splitlines()
    assert len(narrow) == 2 and all(len(line) <= 50 for line in narrow)
    picture = build_picture(series, 50, 20, "textual-dark")
    assert len(picture.plain.splitlines()) == 20 and "val accuracy 85.0%" in picture.plain


def plot_rows(picture: str) -> int:
    """Rows inside a plotext frame: between its ┌ and └ lines."""
    lines = picture.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return bottom - top - 1


def test_status_line_fits_80_columns() -> None:
    assert progress_text(1, 2, 958, 4690, 7972.0, 64) == (
        "running · epoch 1/2 · step 958/4,690 · 7,972 samples/s · ETA 0:29"
    )
    worst = progress_text(100, 100, 9_999_999, 10_000_000, 2_500_000.0, 1)
    assert len(worst) <= STATUS_WIDTH == 78
    assert "1:23:20" in progress_text(1, 1, 0, 5000, 1.0, 1)  # hours shown as h:mm:ss
    # Four ranks: the speed in all and per rank; ETA from one rank's steps (each runs them all).
    assert progress_text(1, 2, 958, 4690, 7972.0, 64, world_size=4) == (
        "epoch 1/2 · step 958/4,690 · 31,888/s (4 ranks × 7,972) · ETA 0:29"
    )
    narrow = progress_text(1, 2, 958, 4690, 7972.0, 64, width=56, world_size=4)
    assert narrow == "epoch 1/2 · step 958/4,690 · 31,888/s · ETA 0:29"
    assert len(progress_text(100, 100, 9_999_999, 10**7, 2.5e6, 1, world_size=8)) <= 78


@pytest.mark.parametrize(
    ("size", "start"),
    [
        ((80, 24), "running · epoch 10/10 · step 4,700/4,700"),
        # At 60x18 the progress bar is folded away: the line itself says how far the run is.
        ((60, 18), "epoch 10/10 · step 4,700/4,700 · 5,000/s"),
    ],
)
async def test_running_status_is_whole_at_80_and_60_columns(
    size: tuple[int, int], start: str
) -> None:
    run_dir = fake_run(None, epochs=10, steps_per_epoch=470)
    app = HostApp(lambda: TrainingScreen(run_dir.name), styled=True)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        await wait_until(pilot, lambda: screen.last_step, "a step shown")
        screen.state = "running"  # as it was while the run trained
        screen._show_info()
        await pilot.pause()
        status = screen.query_one("#training-status", Static)
        text = str(status.render())
        assert text.startswith(start)
        assert len(text) <= status.content_region.width


def test_short_device_text_for_tables() -> None:
    long = "cpu, 1 thread of 2 cores (1 left free for the UI; auto: no CUDA)"
    assert runs.short_device(long) == "cpu ×1"
    assert runs.short_device("cpu, 12 threads") == "cpu ×12"
    assert runs.short_device("cuda:0 NVIDIA H200") == "cuda:0"
    assert runs.short_device("mps (Apple GPU)") == "mps"
    assert runs.short_device("") == "-"


async def test_runs_screen_device_column_is_short() -> None:
    fake_run("done")
    app = HostApp(RunsScreen, styled=True)
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count, "a row")
        assert table.get_row_at(0)[-1] == "cpu ×1"


def test_device_text_says_threads_cores_and_why_cores_were_left_free() -> None:
    auto = "cpu, 1 thread (auto: no CUDA, since no NVIDIA driver was found; no MPS)"
    assert cpu_device_text(auto, 1, 2, chosen=False) == (
        "cpu, 1 thread of 2 cores (1 left free for the UI; auto: no CUDA, since no NVIDIA "
        "driver was found; no MPS)"
    )
    assert cpu_device_text("cpu, 1 thread", 1, 4, chosen=False) == (
        "cpu, 1 thread of 4 cores (3 left free: one for the UI, 2 busy with other work)"
    )
    assert cpu_device_text("cpu, 2 threads", 2, 2, chosen=False) == "cpu, 2 threads of 2 cores"
    assert cpu_device_text("cpu, 1 thread", 1, 2, chosen=True) == "cpu, 1 thread of 2 cores"
    assert cpu_device_text("cuda:0 NVIDIA H200", 1, 2, chosen=False) == "cuda:0 NVIDIA H200"


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


@pytest.mark.parametrize(("size", "rows"), [((60, 18), 8), ((80, 24), 8)])
async def test_the_plot_keeps_its_rows_in_a_small_terminal(
    size: tuple[int, int], rows: int
) -> None:
    run_dir = fake_run("done", epochs=3, steps_per_epoch=470)
    app = HostApp(lambda: TrainingScreen(run_dir.name), styled=True)
    async with app.run_test(size=size) as pilot:
        screen = app.screen
        assert isinstance(screen, TrainingScreen)
        chart = screen.query_one(LossChart)
        await wait_until(
            pilot,
            lambda: chart._picture is not None and chart.series.val_accuracies,
            "the chart with validation accuracies",
        )
        await pilot.pause(0.5)  # the picture for the final data and size
        assert chart._picture is not None
        picture = chart._picture.plain
        assert plot_rows(picture) >= rows
        assert "val accuracy 85.0% 90.0% 95.0%" in picture
        status = str(screen.query_one("#training-status", Static).render())
        assert status.startswith("done · epoch 3/3")
        if size == (60, 18):
            # The text above the chart is folded; the status line keeps its essentials.
            assert not screen.query_one("#training-info").display
            assert "cpu ×1" in status and "val accuracy 95.0%" in status
