"""A run's events as chart series: per-step training loss (raw and smoothed), per-epoch validation.

Plain Python, shared by the terminal chart of the CLI and the live chart of the app. Charts redraw
from scratch each time, so series are downsampled to about twice the chart's width first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

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

    def add(self, event: dict[str, Any]) -> None:
        """Take one event into the series (events other than step and epoch are ignored)."""
        kind = event.get("event")
        if kind == "step":
            values = event.get("losses") or [event.get("train_loss", 0.0)]
            first = int(event["step"]) - len(values) + 1
            self.steps.extend(range(first, first + len(values)))
            for value in values:
                self.losses.append(float(value))
                self._average = SMOOTHING * self._average + (1 - SMOOTHING) * float(value)
                self.smoothed.append(self._average / (1 - SMOOTHING ** len(self.losses)))
        elif kind == "epoch":
            self.epoch_steps.append(int(event.get("step", len(self.steps))))
            self.val_losses.append(float(event["val_loss"]))
            self.val_accuracies.append(float(event["val_accuracy"]))
            self.train_losses.append(float(event["train_loss"]))

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
    def from_events(cls, events: list[dict[str, Any]]) -> Series:
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


def draw(plt: Any, series: Series, width: int) -> None:
    """Draw the series on a (cleared) plotext-like object ``plt``; ``width`` in characters."""
    points = max(10, 2 * width)
    if series.steps:
        xs, ys = downsample(series.steps, series.losses, points)
        plt.plot(xs, ys, label="train loss", color="gray", marker="braille")
        sx, sy = downsample(series.steps, series.smoothed, points)
        plt.plot(sx, sy, label="smoothed", color="cyan", marker="braille")
    if series.epoch_steps:
        plt.plot(
            series.epoch_steps, series.val_losses, label="val loss", color="orange", marker="dot"
        )
        plt.plot(
            series.epoch_steps,
            series.val_accuracies,
            label="val accuracy",
            color="green",
            marker="dot",
            yside="right",
        )
    plt.xlabel("step")


def render_text(
    series: Series, width: int = 80, height: int = 20, title: str = "", color: bool = True
) -> str:
    """The chart as text for a terminal (plotext), or a sentence when there is nothing to draw."""
    if not series.steps:
        return "No training steps logged yet."
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    if title:
        plt.title(title)
    draw(plt, series, width)
    text = str(plt.build())
    plt.clear_figure()
    if not color:
        text = ANSI.sub("", text)
    return text
