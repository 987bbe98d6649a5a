"""Fashion-MNIST pictures from the sample bundled with the tutor, read without torch.

The UI may show dataset images (the Fashion-MNIST lesson, the image-data lesson) without loading
torch: the sample's IDX files are gzipped bytes, and the first few images are cheap to read.
"""

from __future__ import annotations

import gzip
import struct
from dataclasses import dataclass
from pathlib import Path

from tutor.pictures.pixels import Pixels, from_bytes
from tutor.training.data import FASHION_CLASSES, SAMPLE_DIR

SPLITS = {"train": "train", "test": "t10k"}


@dataclass(frozen=True)
class Sample:
    """One dataset picture with its label number and class name."""

    pixels: Pixels
    label: int
    name: str


def _header(stream: gzip.GzipFile, path: Path) -> tuple[int, ...]:
    magic = stream.read(4)
    if len(magic) != 4 or magic[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an IDX file of unsigned bytes.")
    ndim = magic[3]
    return struct.unpack(f">{ndim}I", stream.read(4 * ndim))


def fashion_samples(
    count: int = 6, *, split: str = "test", start: int = 0, folder: Path | None = None
) -> list[Sample]:
    """The pictures ``start`` to ``start + count`` of the bundled sample's ``split``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}.")
    if count < 0 or start < 0:
        raise ValueError("count and start must not be negative.")
    folder = folder or SAMPLE_DIR
    prefix = SPLITS[split]
    images_path = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = folder / f"{prefix}-labels-idx1-ubyte.gz"
    if not images_path.is_file() or not labels_path.is_file():
        raise FileNotFoundError(
            f"The bundled Fashion-MNIST sample is missing from {folder}; reinstall the tutor."
        )
    with gzip.open(images_path, "rb") as images, gzip.open(labels_path, "rb") as labels:
        total, height, width = _header(images, images_path)
        (label_total,) = _header(labels, labels_path)
        count = max(0, min(count, total - start, label_total - start))
        size = height * width
        images.seek(16 + start * size)
        labels.seek(8 + start)
        body = images.read(count * size)
        label_bytes = labels.read(count)
    result = []
    for index in range(count):
        pixels = from_bytes(body[index * size : (index + 1) * size], width, height, 1)
        label = label_bytes[index]
        name = FASHION_CLASSES[label] if label < len(FASHION_CLASSES) else str(label)
        result.append(Sample(pixels, label, name))
    return result
