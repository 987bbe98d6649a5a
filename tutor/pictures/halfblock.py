"""Draw Pixels as text: two pixel rows per line with the upper half block, or a character ramp.

In colour, each cell is ``▀`` with the upper pixel as foreground and the lower one as background.
With ``NO_COLOR`` set (https://no-color.org) colours are not allowed, so each cell becomes a
character whose ink matches the brightness of its two pixels, on a dark background.
"""

from __future__ import annotations

import os
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text

from tutor.pictures.pixels import Pixels, fit, luminance, to_pixels

UPPER_HALF = "▀"
# Dark to bright: on a dark terminal, more ink reads as a brighter pixel.
RAMP = " .:-=+*#%@"


def use_color(color: bool | None = None) -> bool:
    """``color`` when given; otherwise True unless the NO_COLOR variable is set and non-empty."""
    if color is not None:
        return color
    return not os.environ.get("NO_COLOR")


def _style(top: tuple[int, int, int], bottom: tuple[int, int, int] | None) -> Style:
    background = Color.from_rgb(*bottom) if bottom is not None else None
    return Style(color=Color.from_rgb(*top), bgcolor=background)


def ramp_char(brightness: float) -> str:
    """The ramp character for a brightness 0-255."""
    index = int(max(0.0, min(255.0, brightness)) / 256 * len(RAMP))
    return RAMP[index]


def render_image(
    image: Any,
    *,
    max_width: int = 28,
    max_rows: int = 14,
    grow: bool = False,
    color: bool | None = None,
) -> Text:
    """The image as text, at most ``max_width`` columns by ``max_rows`` lines.

    ``image`` is anything ``to_pixels`` accepts. ``color`` None follows NO_COLOR.
    """
    pixels = fit(to_pixels(image), max_width, max_rows, grow=grow)
    return _render(pixels, use_color(color))


def _render(pixels: Pixels, colour: bool) -> Text:
    text = Text(no_wrap=True, overflow="crop")
    for y in range(0, pixels.height, 2):
        top_row = pixels.rows[y]
        bottom_row = pixels.rows[y + 1] if y + 1 < pixels.height else None
        if y:
            text.append("\n")
        for x, top in enumerate(top_row):
            bottom = bottom_row[x] if bottom_row is not None else None
            if colour:
                text.append(UPPER_HALF, _style(top, bottom))
            else:
                level = (
                    luminance(top) if bottom is None else (luminance(top) + luminance(bottom)) / 2
                )
                text.append(ramp_char(level))
    return text
