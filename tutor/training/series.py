"""A run's events as chart series: per-step training loss (raw and smoothed), per-epoch validation.

Plain Python, shared by the terminal chart of the CLI and the live chart of the app. Charts redraw
from scratch each time, so series are downsampled to about twice the chart's width first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from tutor.training.events import Epoch, Event, Step

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SMOOTHING = 0.9  # weight of the past in the moving average, as TensorBoard's slider at 0.9


@dataclass
class Series:
    """What a run has reported so far, accumulated event by event."""

    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    epoch_steps: list[int] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    val_accuracies: list[float] = field(default_factory=list)
    train_losses: list[float] = field(default_factory=list)
    # The smoothed losses, kept up to date as points arrive: redraws must not recompute them.
    smoothed: list[float] = field(default_factory=list)
    _average: float = 0.0

    def add(self, event: Event) -> None:
        """Take one event into the series (events other than step and epoch are ignored)."""
        if isinstance(event, Step):
            values = event.losses or [event.train_loss]
            first = event.step - len(values) + 1
            self.steps.extend(range(first, first + len(values)))
            for value in values:
                self.losses.append(float(value))
                self._average = SMOOTHING * self._average + (1 - SMOOTHING) * float(value)
                self.smoothed.append(self._average / (1 - SMOOTHING ** len(self.losses)))
        elif isinstance(event, Epoch):
            self.epoch_steps.append(event.step)
            self.val_losses.append(float(event.val_loss))
            self.val_accuracies.append(float(event.val_accuracy))
            self.train_losses.append(float(event.train_loss))

    def snapshot(self) -> Series:
        """A copy whose lists do not change when this series grows (for a drawing thread)."""
        return Series(
            steps=list(self.steps),
            losses=list(self.losses),
            epoch_steps=list(self.epoch_steps),
            val_losses=list(self.val_losses),
            val_accuracies=list(self.val_accuracies),
            train_losses=list(self.train_losses),
            smoothed=list(self.smoothed),
            _average=self._average,
        )

    @classmethod
    def from_events(cls, events: list[Event]) -> Series:
        series = cls()
        for event in events:
            series.add(event)
        return series


def smooth(values: list[float], weight: float = SMOOTHING) -> list[float]:
    """Exponential moving average with bias correction, so the first points are not dragged to 0."""
    out: list[float] = []
    average = 0.0
    for count, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight**count))
    return out


def downsample(xs: list[int], ys: list[float], points: int) -> tuple[list[float], list[float]]:
    """At most ``points`` points: the mean of each bucket of consecutive points."""
    n = len(xs)
    if n <= points or points <= 0:
        return [float(x) for x in xs], list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    for bucket in range(points):
        start = bucket * n // points
        end = max(start + 1, (bucket + 1) * n // points)
        out_x.append(sum(xs[start:end]) / (end - start))
        out_y.append(sum(ys[start:end]) / (end - start))
    return out_x, out_y


@dataclass(frozen=True)
class Look:
    """How one series is drawn: its plotext marker, the glyph the legend shows for it, its colour."""

    label: str
    marker: str
    glyph: str
    color: str


# One marker per series, so they stay apart without colour (NO_COLOR, monochrome terminals).
TRAIN = Look("train loss", "·", "·", "gray")
SMOOTHED = Look("smoothed", "braille", "⠤", "cyan")
VAL_LOSS = Look("val loss", "x", "x", "orange")
# Accuracy is not plotted: on an axis of its own, zoomed to a few percent, its line swept the
# whole height and crossed the loss. Its numbers go beside the legend instead.
VAL_ACCURACY = Look("val accuracy", "", "", "green")


def looks(series: Series) -> list[Look]:
    """The series a chart of ``series`` plots, in drawing order (what the legend lists)."""
    shown: list[Look] = []
    if series.steps:
        shown += [TRAIN, SMOOTHED]
    if series.epoch_steps:
        shown += [VAL_LOSS]
    return shown


def accuracy_text(series: Series, room: int = 76) -> str:
    """``val accuracy 84.1% 85.6% 86.0%``, one per epoch; the latest ones when not all fit."""
    if not series.val_accuracies:
        return ""
    values = [f"{value:.1%}" for value in series.val_accuracies]
    head = VAL_ACCURACY.label
    shown = values
    while len(shown) > 1 and len(head) + len(" … ") + len(" ".join(shown)) > room:
        shown = shown[1:]
    skipped = " …" if len(shown) < len(values) else ""
    return f"{head}{skipped} {' '.join(shown)}"


def legend_lines(series: Series, width: int = 80) -> list[list[tuple[str, Look]]]:
    """The legend as lines of (text, look) items, each line at most ``width - 4`` characters.

    The validation accuracy per epoch ends the legend, as numbers.
    """
    room = max(20, width - 4)
    items = [(f"{look.glyph} {look.label}", look) for look in looks(series)]
    accuracy = accuracy_text(series, room)
    if accuracy:
        items.append((accuracy, VAL_ACCURACY))
    lines: list[list[tuple[str, Look]]] = [[]]
    used = 0
    for text, look in items:
        if lines[-1] and used + 2 + len(text) > room:
            lines.append([])
            used = 0
        used += len(text) + (2 if lines[-1] else 0)
        lines[-1].append((text, look))
    return [line for line in lines if line]


def legend_text(series: Series, width: int = 80) -> str:
    """The legend as plain text: ``· train loss  ⠤ smoothed  x val loss  val accuracy 85.0%``."""
    return "\n".join(
        "    " + "  ".join(text for text, _ in line) for line in legend_lines(series, width)
    )


def envelope(xs: list[int], ys: list[float], buckets: int) -> tuple[list[float], list[float]]:
    """The lowest and highest value of each bucket of consecutive points, in step order.

    Unlike bucket means, this keeps every extreme: the first losses (about 2.3 for ten classes)
    stay on the chart however many steps follow.
    """
    n = len(xs)
    if n <= 2 * buckets or buckets <= 0:
        return [float(x) for x in xs], list(ys)
    out_x: list[float] = []
    out_y: list[float] = []
    for bucket in range(buckets):
        start = bucket * n // buckets
        end = max(start + 1, (bucket + 1) * n // buckets)
        chunk = ys[start:end]
        low_at = start + chunk.index(min(chunk))
        high_at = start + chunk.index(max(chunk))
        for at in sorted({low_at, high_at}):
            out_x.append(float(xs[at]))
            out_y.append(ys[at])
    return out_x, out_y


def loss_range(series: Series) -> tuple[float, float]:
    """The loss axis: from 0 (or the lowest loss, if negative) to the highest loss of any series."""
    values = [*series.losses, *series.smoothed, *series.val_losses]
    if not values:
        return 0.0, 1.0
    low = min(0.0, *values)
    high = max(values)
    if high - low < 1e-9:
        high = low + 1.0
    return low, high


def integer_ticks(low: float, high: float, count: int) -> list[int]:
    """Round whole-number ticks (steps of 1, 2 or 5 times a power of ten) between low and high."""
    low_i, high_i = math.ceil(low), math.floor(high)
    if high_i <= low_i:
        return [low_i]
    raw = (high_i - low_i) / max(1, count - 1)
    power = 10 ** max(0, math.floor(math.log10(raw))) if raw >= 1 else 1
    steps = [m * power for m in (1, 2, 5, 10)]
    chosen = next(i for i, step in enumerate(steps) if step >= raw)
    # A coarser step can leave a single tick: then take the next finer one.
    for step in (steps[chosen], *reversed(steps[:chosen])):
        ticks = list(range(math.ceil(low_i / step) * step, high_i + 1, step))
        if len(ticks) >= 2:
            return ticks
    return [low_i, high_i]


def draw(plt: Any, series: Series, width: int, labels: bool = True) -> None:
    """Draw the series on a (cleared) plotext-like object ``plt``; ``width`` in characters.

    Series carry no plotext labels: its legend repeats each marker three times and adds axis
    symbols (``L``, ``⅃``), so the caller prints ``legend_text`` instead. The loss axis is set
    from every loss, so no point falls off the top. ``labels=False`` leaves out the row of axis
    names, a row more for the plot in a short terminal.
    """
    if series.steps:
        # Character markers fill one point per cell (two per bucket: its lowest and highest);
        # braille ones two per cell.
        xs, ys = envelope(series.steps, series.losses, max(5, width // 2))
        plt.plot(xs, ys, color=TRAIN.color, marker=TRAIN.marker)
        sx, sy = downsample(series.steps, series.smoothed, max(10, 2 * width))
        plt.plot(sx, sy, color=SMOOTHED.color, marker=SMOOTHED.marker)
    if series.epoch_steps:
        plt.plot(
            series.epoch_steps, series.val_losses, color=VAL_LOSS.color, marker=VAL_LOSS.marker
        )
    plt.ylim(*loss_range(series))
    if labels:
        plt.ylabel("loss")
    steps = series.steps or series.epoch_steps
    if steps:
        low = min(steps[0], *series.epoch_steps) if series.epoch_steps else steps[0]
        high = max(steps[-1], *series.epoch_steps) if series.epoch_steps else steps[-1]
        step_ticks = integer_ticks(low, high, max(2, width // 14))
        plt.xticks(step_ticks, [str(tick) for tick in step_ticks])
    if labels:
        plt.xlabel("step")


def render_text(
    series: Series, width: int = 80, height: int = 20, title: str = "", color: bool = True
) -> str:
    """The chart as text for a terminal (plotext), or a sentence when there is nothing to draw."""
    if not series.steps:
        return "No training steps logged yet."
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height - len(legend_lines(series, width)))  # the legend goes below
    plt.theme("clear")
    if title:
        plt.title(title)
    draw(plt, series, width)
    text = str(plt.build())
    plt.clear_figure()
    lines = legend_lines(series, width)
    legend = "\n".join(
        "    "
        + "  ".join(_ansi_colored(text, look.color) if color else text for text, look in line)
        for line in lines
    )
    text = text.rstrip("\n") + "\n" + legend
    if not color:
        text = ANSI.sub("", text)
    return text


def _ansi_colored(text: str, color: str) -> str:
    """``text`` in one of plotext's named colours, as ANSI codes."""
    from plotext._utility import colorize

    return str(colorize(text, color))
