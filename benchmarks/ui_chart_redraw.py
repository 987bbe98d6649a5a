"""Chart redraw with 10,000 training-loss points: the LossChart (downsampled) vs plotting them all.

Measures, at 80x24, the time to put the series on the plot and build the picture (what a repaint
after new data costs on the UI thread). Target: 25 ms or less.

    .venv/bin/python benchmarks/ui_chart_redraw.py [--points 10000] [--repeat 30]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual.app import App, ComposeResult
from textual_plotext import PlotextPlot

from tutor.training.events import Epoch, Event, Step
from tutor.ui.widgets.loss_chart import LossChart, build_picture


def events(points: int) -> list[Event]:
    """Step events carrying ``points`` losses, 20 per event, and one epoch event per 1,000 steps."""
    out: list[Event] = []
    for step in range(20, points + 1, 20):
        losses = [
            2.3 * math.exp(-(step - 20 + i) / 2000) + 0.1 * math.sin(step + i) for i in range(20)
        ]
        epoch = 1 + step // 1000
        out.append(Step(epoch, step, step % 1000, 1000, sum(losses) / 20, losses, 1.0, 0.0))
        if step % 1000 == 0:
            out.append(Epoch(step // 1000, step, 0.5, 0.55, 0.85, 1.0, 1.0))
    return out


class ChartApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LossChart(id="ours")
        yield PlotextPlot(id="naive")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(points: int, repeat: int) -> None:
    app = ChartApp()
    async with app.run_test(size=(80, 24)) as pilot:
        ours = app.query_one(LossChart)
        naive = app.query_one("#naive", PlotextPlot)
        naive.display = False
        await pilot.pause(0.2)
        ours.add_events(events(points))
        await pilot.pause(1.0)
        width, height = ours.size.width, ours.size.height
        theme = ours._get_plotext_theme_name(app.theme)
        timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            build_picture(ours.series, width, height, theme)  # downsample, plot, build, to Text
            timings.append((time.perf_counter() - began) * 1000)
        print(
            f"LossChart picture, {len(ours.series.steps):,} points at {width}x{height} (built in "
            f"a worker thread): median {statistics.median(timings):.1f} ms, "
            f"p95 {percentile(timings, 0.95):.1f} ms"
        )
        ui = []
        for _ in range(repeat):
            began = time.perf_counter()
            ours.redraw()  # the UI thread's share: snapshot the series, start the worker
            ui.append((time.perf_counter() - began) * 1000)
            await app.workers.wait_for_complete()
            ours._drawing = False
        print(f"UI thread per redraw: median {statistics.median(ui):.2f} ms")
        began = time.perf_counter()
        ours.render()
        print(f"repaint without new data: {(time.perf_counter() - began) * 1000:.3f} ms")
        naive.display = True
        ours.display = False
        await pilot.pause(0.2)
        xs = ours.series.steps
        ys = ours.series.losses
        naive_times = []
        for _ in range(max(3, repeat // 10)):
            began = time.perf_counter()
            naive.plt.clear_data()
            naive.plt.plot(xs, ys)
            naive.render()
            naive_times.append((time.perf_counter() - began) * 1000)
        print(f"all points, no downsampling: median {statistics.median(naive_times):.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(measure(args.points, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
