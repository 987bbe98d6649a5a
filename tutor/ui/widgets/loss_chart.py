"""The live loss chart: training loss per step (raw and smoothed), validation loss and accuracy per epoch.

plotext rebuilds the whole plot for every picture and its cost grows with the number of points;
done on the UI thread (as PlotextPlot does on every repaint) it makes the app stutter while a run
trains. So this chart:

1. downsamples to about twice its width (braille markers draw two points per cell);
2. builds the picture in a thread worker (group "chart-draw") from a snapshot of the series, and the
   UI thread only swaps the finished picture in;
3. starts a new picture at most every REDRAW_EVERY_S, however fast events arrive, and never two at
   once; a repaint for any other reason reuses the last picture.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import RenderResult
from textual.message import Message
from textual.worker import Worker, WorkerState
from textual_plotext import PlotextPlot
from textual_plotext.plot import Plot

from tutor.training.events import Event
from tutor.training.series import Series, draw, legend_lines

REDRAW_EVERY_S = 0.3
# Plots shorter than this leave out the row of axis names ("loss", "step").
LABELS_FROM_HEIGHT = 14


# Rich names for the plotext colours of the series, for the legend drawn under the plot.
LEGEND_STYLES = {"gray": "grey50", "cyan": "cyan", "orange": "dark_orange", "green": "green"}


def build_picture(series: Series, width: int, height: int, theme: str) -> Text:
    """The chart as rich Text, built with a private plotext figure (safe in a worker thread).

    The legend is drawn under the plot by this function, not by plotext (see ``series.draw``).
    A short chart drops the row of axis names so that the plot keeps its rows.
    """
    lines = legend_lines(series, width) if series.steps else []
    plot_height = max(4, height - len(lines))
    plt = Plot()
    plt.plotsize(width, plot_height)
    plt._set_size(width, plot_height)  # as PlotextPlot.render does: plotsize alone does not stick
    plt.theme(theme)
    if series.steps:
        draw(plt, series, width, labels=plot_height >= LABELS_FROM_HEIGHT)
    else:
        plt.title("waiting for the first training steps")
    picture = Text.from_ansi(plt.build().rstrip("\n"))
    for line in lines:
        picture.append("\n    ")
        for index, (text, look) in enumerate(line):
            picture.append(("  " if index else "") + text, style=LEGEND_STYLES.get(look.color, ""))
    return picture


class ChartPicture(Message):
    """A finished picture for the chart, for the data version it was drawn from."""

    def __init__(self, picture: Text, version: int, size: tuple[int, int]) -> None:
        super().__init__()
        self.picture = picture
        self.version = version
        self.size = size


class LossChart(PlotextPlot):
    """A plotext chart fed with run events; ``add_events`` is cheap, pictures are built off-thread."""

    DEFAULT_CSS = """
    LossChart { height: 1fr; min-height: 8; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.series = Series()
        self.version = 0  # bumped whenever the data changes
        self.draws = 0  # pictures built (tests, benchmarks)
        self._dirty = True
        self._drawing = False
        self._picture: Text | None = None
        self._picture_size: tuple[int, int] = (0, 0)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(REDRAW_EVERY_S, self._redraw_if_needed)

    def reset(self) -> None:
        """Forget every point (a resumed run rewrote its history)."""
        self.series = Series()
        self.version += 1
        self._dirty = True

    def add_events(self, events: list[Event]) -> None:
        """Take new events; the picture follows within REDRAW_EVERY_S."""
        for event in events:
            self.series.add(event)
        self.version += 1
        self._dirty = True

    def _redraw_if_needed(self) -> None:
        size = (self.size.width, self.size.height)
        if (self._dirty or size != self._picture_size) and not self._drawing:
            self.redraw()

    def redraw(self) -> None:
        """Start building a picture of the current data at the current size."""
        width, height = self.size.width, self.size.height
        if width < 10 or height < 4:
            return
        self._dirty = False
        self._drawing = True
        # A snapshot: the worker must not read lists the UI thread is appending to.
        snapshot = self.series.snapshot()
        theme = self._get_plotext_theme_name(self.app.theme)
        self._draw(snapshot, width, height, theme, self.version)

    @work(thread=True, group="chart-draw", exit_on_error=False, description="draw loss chart")
    def _draw(self, series: Series, width: int, height: int, theme: str, version: int) -> None:
        picture = build_picture(series, width, height, theme)
        self.post_message(ChartPicture(picture, version, (width, height)))

    def on_chart_picture(self, message: ChartPicture) -> None:
        message.stop()
        self._drawing = False
        self.draws += 1
        self._picture = message.picture
        self._picture_size = message.size
        self.refresh()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # A failed picture must not block every later one.
        if event.worker.group == "chart-draw" and event.state in (
            WorkerState.ERROR,
            WorkerState.CANCELLED,
        ):
            self._drawing = False

    def render(self) -> RenderResult:
        # The last finished picture; a new one is on its way when data or size changed.
        return self._picture if self._picture is not None else Text("")
