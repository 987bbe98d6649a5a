"""Pixels: an image as rows of 0-255 grey values or RGB triples, built from whatever the caller has.

Callers hand over nested lists (``[H][W]``, ``[H][W][C]`` or ``[C][H][W]``), bytes with their
dimensions, or an object with ``tolist()`` (NumPy arrays, CPU tensors). Floats in [0, 1] are
scaled to 0-255; floats outside that range (normalised tensors) are stretched from their minimum
to their maximum, so a ``Normalize``-d image still shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

RGB = tuple[int, int, int]
Layout = Literal["auto", "hw", "hwc", "chw"]


@dataclass(frozen=True)
class Pixels:
    """An image: ``rows[y][x]`` is an RGB triple of ints 0-255 (grey images repeat the value)."""

    rows: tuple[tuple[RGB, ...], ...]
    grey: bool = False

    @property
    def height(self) -> int:
        return len(self.rows)

    @property
    def width(self) -> int:
        return len(self.rows[0]) if self.rows else 0


def _depth(value: Any) -> int:
    depth = 0
    while isinstance(value, (list, tuple)):
        if not value:
            raise ValueError("The image is empty: pass at least one row of pixels.")
        value = value[0]
        depth += 1
    return depth


def _flatten(values: Any) -> list[float]:
    if isinstance(values, (list, tuple)):
        return [v for item in values for v in _flatten(item)]
    return [float(values)]


def _scaler(data: Any, value_range: tuple[float, float] | None) -> tuple[float, float]:
    """The (low, high) input values that map to 0 and 255."""
    if value_range is not None:
        low, high = value_range
        if high <= low:
            raise ValueError("value_range must be (low, high) with high above low.")
        return float(low), float(high)
    flat = [v for v in _flatten(data) if math.isfinite(v)]
    if not flat:
        return 0.0, 1.0
    low, high = min(flat), max(flat)
    if all(float(v).is_integer() for v in flat) and high > 1:
        return 0.0, 255.0  # bytes-like values
    if low >= 0.0 and high <= 1.0:
        return 0.0, 1.0  # ToTensor() output
    return (low, high) if high > low else (low, low + 1.0)  # normalised: stretch


def _byte(value: float, low: float, high: float) -> int:
    if not math.isfinite(value):
        return 0
    scaled = (value - low) / (high - low) * 255.0
    return max(0, min(255, round(scaled)))


def _squeeze(data: Any) -> Any:
    """Drop leading length-1 dimensions of a batch, e.g. (1, 1, 28, 28) -> (1, 28, 28)."""
    while _depth(data) > 3 and len(data) == 1:
        data = data[0]
    return data


def _layout(data: Any, layout: Layout) -> Literal["hw", "hwc", "chw"]:
    depth = _depth(data)
    if depth == 2:
        return "hw"
    if depth != 3:
        raise ValueError(
            f"An image needs 2 or 3 dimensions (H, W), (H, W, C) or (C, H, W), not {depth}."
        )
    if layout in ("hwc", "chw"):
        return layout
    first, last = len(data), len(data[0][0])
    # Tensors are (C, H, W); PIL and NumPy images are (H, W, C). Prefer the tensor reading.
    if first in (1, 3):
        return "chw"
    if last in (1, 3, 4):
        return "hwc"
    raise ValueError(f"Cannot tell the colour channels of a {first}-by-...-by-{last} image.")


def to_pixels(
    data: Any, *, layout: Layout = "auto", value_range: tuple[float, float] | None = None
) -> Pixels:
    """Pixels from nested lists, a ``Pixels`` or anything with ``tolist()``.

    ``layout`` says where the channels are ("auto" guesses: 2-D is grey, a leading 1 or 3 is
    (C, H, W), a trailing 1, 3 or 4 is (H, W, C)). A fourth channel (alpha) is ignored.
    """
    if isinstance(data, Pixels):
        return data
    if hasattr(data, "tolist"):
        data = data.tolist()
    if not isinstance(data, (list, tuple)):
        raise ValueError("An image must be nested lists of numbers or an array with tolist().")
    data = _squeeze(data)
    kind = _layout(data, layout)
    low, high = _scaler(data, value_range)
    if kind == "chw":
        channels = len(data)
        planes = [data[c] for c in (0, 1, 2)] if channels >= 3 else [data[0]] * 3
        # Regroup (C, H, W) into rows of (r, g, b) triples.
        grid = [
            list(zip(*(plane[y] for plane in planes), strict=True)) for y in range(len(data[0]))
        ]
    elif kind == "hwc":
        channels = len(data[0][0])
        grid = [
            [(px[0], px[1], px[2]) if channels >= 3 else (px[0],) * 3 for px in row] for row in data
        ]
    else:
        channels = 1
        grid = [[(v, v, v) for v in row] for row in data]
    plain = (low, high) == (0.0, 255.0)

    def byte(value: Any) -> int:
        # Plain bytes pass through untouched: the common case, and the fast one.
        if plain and type(value) is int and 0 <= value <= 255:
            return value
        return _byte(float(value), low, high)

    rows = tuple(tuple((byte(r), byte(g), byte(b)) for r, g, b in row) for row in grid)
    if any(len(row) != len(rows[0]) for row in rows):
        raise ValueError("Every row of the image must have the same number of pixels.")
    return Pixels(rows, grey=channels < 3)


def from_bytes(data: bytes, width: int, height: int, channels: int = 1) -> Pixels:
    """Pixels from raw bytes, row by row (e.g. an IDX image or PIL's ``tobytes()``)."""
    if channels not in (1, 3, 4):
        raise ValueError("channels must be 1 (grey), 3 (RGB) or 4 (RGBA).")
    if len(data) < width * height * channels:
        raise ValueError(
            f"{len(data)} bytes are too few for a {width}x{height} image with {channels} channels."
        )
    rows = []
    for y in range(height):
        start = y * width * channels
        row = []
        for x in range(width):
            offset = start + x * channels
            if channels == 1:
                row.append((data[offset],) * 3)
            else:
                row.append((data[offset], data[offset + 1], data[offset + 2]))
        rows.append(tuple(row))
    return Pixels(tuple(rows), grey=channels == 1)


def resize(pixels: Pixels, width: int, height: int) -> Pixels:
    """The image scaled to ``width`` x ``height``: box averages when shrinking, nearest when growing."""
    if width < 1 or height < 1:
        raise ValueError("An image needs at least one pixel each way.")
    if (width, height) == (pixels.width, pixels.height):
        return pixels
    rows = []
    for ty in range(height):
        y0 = ty * pixels.height // height
        y1 = max(y0 + 1, (ty + 1) * pixels.height // height)
        row = []
        for tx in range(width):
            x0 = tx * pixels.width // width
            x1 = max(x0 + 1, (tx + 1) * pixels.width // width)
            box = [pixels.rows[y][x] for y in range(y0, y1) for x in range(x0, x1)]
            count = len(box)
            row.append(
                (
                    sum(p[0] for p in box) // count,
                    sum(p[1] for p in box) // count,
                    sum(p[2] for p in box) // count,
                )
            )
        rows.append(tuple(row))
    return Pixels(tuple(rows), grey=pixels.grey)


def fit(pixels: Pixels, max_width: int, max_rows: int, *, grow: bool = False) -> Pixels:
    """Scale to fit ``max_width`` cells by ``max_rows`` text rows (two pixel rows per text row).

    A half-block cell is one pixel wide and two pixels tall, and a terminal cell is about twice
    as tall as it is wide, so pixels come out roughly square and the aspect ratio is kept.
    """
    max_height = max(1, max_rows) * 2
    scale = min(max_width / pixels.width, max_height / pixels.height)
    if not grow:
        scale = min(scale, 1.0)
    width = max(1, min(max_width, round(pixels.width * scale)))
    height = max(1, min(max_height, round(pixels.height * scale)))
    return resize(pixels, width, height)


def luminance(rgb: Sequence[int]) -> float:
    """Perceived brightness 0-255 of an RGB triple (ITU-R BT.601 weights)."""
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
