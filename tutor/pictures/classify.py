"""The course's "view classify": an image beside a horizontal bar chart of class probabilities."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from tutor.pictures.halfblock import render_image, use_color

FULL = "█"
# Partial blocks for eighths of a cell, so short bars still differ in length.
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
TOP_STYLE = "bold green"
BAR_STYLE = "blue"


def _probabilities(values: Any) -> list[float]:
    """A flat list of floats; a single-row batch such as shape (1, 10) is accepted too."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    if (
        isinstance(values, (list, tuple))
        and len(values) == 1
        and isinstance(values[0], (list, tuple))
    ):
        values = values[0]
    if not isinstance(values, (list, tuple)) or not values:
        raise ValueError("probabilities must be a non-empty sequence of numbers, one per class.")
    result = []
    for value in values:
        number = float(value)
        result.append(min(1.0, max(0.0, number)) if math.isfinite(number) else 0.0)
    return result


def bar(fraction: float, width: int) -> str:
    """A bar of ``fraction`` (0-1) of ``width`` cells, in eighths of a cell."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    return FULL * (eighths // 8) + EIGHTHS[eighths % 8]


def probability_bars(
    probabilities: Any,
    class_names: Sequence[str],
    *,
    width: int = 20,
    color: bool | None = None,
    title: str = "Class probability",
) -> Text:
    """One line per class: name, a bar as long as its probability, the percentage.

    The most probable class is marked with ``>`` (and bold green in colour).
    """
    values = _probabilities(probabilities)
    if len(values) != len(class_names):
        raise ValueError(
            f"Got {len(values)} probabilities but {len(class_names)} class names: "
            "pass one name per class."
        )
    colour = use_color(color)
    best = max(range(len(values)), key=values.__getitem__)
    name_width = max(len(name) for name in class_names)
    text = Text(no_wrap=True, overflow="ellipsis")
    if title:
        text.append(title + "\n", style="bold")
    for index, (name, value) in enumerate(zip(class_names, values, strict=True)):
        marker = ">" if index == best else " "
        line_style = TOP_STYLE if (index == best and colour) else ("bold" if index == best else "")
        text.append(f"{marker} {name:>{name_width}} ", style=line_style)
        bars = bar(value, width)
        text.append(bars.ljust(width), style=(line_style or BAR_STYLE) if colour else line_style)
        text.append(f" {value * 100:5.1f}%", style=line_style)
        if index < len(values) - 1:
            text.append("\n")
    return text


def view_classify(
    image: Any,
    probabilities: Any,
    class_names: Sequence[str],
    *,
    image_width: int = 28,
    image_rows: int = 14,
    bar_width: int = 20,
    color: bool | None = None,
    caption: str = "",
) -> RenderableType:
    """The image (left) beside the probability bars (right), like the course's view_classify.

    Fits 80 columns with Fashion-MNIST's class names at the defaults (28 + 2 + about 40).
    """
    picture = render_image(image, max_width=image_width, max_rows=image_rows, color=color)
    bars = probability_bars(probabilities, class_names, width=bar_width, color=color)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_row(picture, bars)
    if caption:
        # A caption may be a sentence with advice: it wraps rather than losing its end.
        return Group(grid, Text(caption))
    return grid
