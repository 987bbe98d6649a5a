"""Images side by side with captions: a row of samples, or one image before and after a transform."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from tutor.pictures.halfblock import render_image
from tutor.pictures.pixels import to_pixels


def image_row(
    items: Sequence[tuple[str, Any]],
    *,
    max_width: int = 28,
    max_rows: int = 10,
    color: bool | None = None,
    grow: bool = False,
) -> Table:
    """Each ``(caption, image)`` as a column: the picture with its caption under it.

    Every picture is scaled on its own to ``max_width`` x ``max_rows``; a caption longer than its
    picture is cut with an ellipsis.
    """
    if not items:
        raise ValueError("image_row needs at least one (caption, image) pair.")
    grid = Table.grid(padding=(0, 2))
    pictures = []
    captions = []
    for caption, image in items:
        picture = render_image(
            to_pixels(image), max_width=max_width, max_rows=max_rows, grow=grow, color=color
        )
        width = max(len(line) for line in picture.plain.split("\n"))
        grid.add_column(no_wrap=True, width=max(width, 1))
        pictures.append(picture)
        captions.append(Text(caption, no_wrap=True, overflow="ellipsis", style="bold"))
    grid.add_row(*pictures)
    grid.add_row(*captions)
    return grid


def before_after(
    before: Any,
    after: Any,
    *,
    transform: str = "",
    max_width: int = 32,
    max_rows: int = 10,
    color: bool | None = None,
    sizes: tuple[tuple[int, int], tuple[int, int]] | None = None,
) -> Table:
    """One image before and after a transform, side by side, captioned with their sizes.

    Both are drawn at the same scale when they fit, so a crop looks smaller than the original.
    ``sizes`` gives the (width, height) to print when the pictures were shrunk beforehand.
    """
    first, second = to_pixels(before), to_pixels(after)
    shown = sizes or ((first.width, first.height), (second.width, second.height))
    # One scale for both: the larger image sets it, so sizes stay comparable.
    scale = min(
        1.0,
        max_width / max(first.width, second.width),
        max_rows * 2 / max(first.height, second.height),
    )

    def box(width: int, height: int) -> tuple[int, int]:
        return max(1, round(width * scale)), max(1, (round(height * scale) + 1) // 2)

    label = f"after {transform}" if transform else "after"
    items = []
    for caption, pixels, (real_width, real_height) in (
        ("before", first, shown[0]),
        (label, second, shown[1]),
    ):
        width, rows = box(pixels.width, pixels.height)
        items.append((f"{caption} {real_width}x{real_height}", pixels, width, rows))
    grid = Table.grid(padding=(0, 3))
    pictures, captions = [], []
    for caption, pixels, width, rows in items:
        picture = render_image(pixels, max_width=width, max_rows=rows, color=color)
        grid.add_column(no_wrap=True, width=max(width, len(caption)))
        pictures.append(picture)
        captions.append(Text(caption, no_wrap=True, overflow="ellipsis", style="bold"))
    grid.add_row(*pictures)
    grid.add_row(*captions)
    return grid
