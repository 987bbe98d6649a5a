"""Test helper: a tiny learnable dataset in torchvision's Fashion-MNIST layout (no downloads).

Each class is a bright 6x6 square at its own place on a noisy background, so a small network learns
it in a few steps. The training tests write it with ``write_tiny_fashion_mnist``.
"""

from __future__ import annotations

import gzip
import random
import struct
from pathlib import Path

TRAIN_SIZE = 200
TEST_SIZE = 100


def idx_bytes(dims: tuple[int, ...], body: bytes) -> bytes:
    """An IDX file of unsigned bytes."""
    return bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body


def tiny_images(count: int, seed: int) -> tuple[bytes, bytes]:
    """(pixels, labels) for ``count`` 28x28 images, classes 0-9 in turn."""
    rng = random.Random(seed)
    pixels = bytearray()
    labels = bytearray()
    for index in range(count):
        label = index % 10
        image = bytearray(rng.randrange(0, 60) for _ in range(28 * 28))
        row, col = 2 + (label // 5) * 12, 2 + (label % 5) * 5
        for r in range(row, row + 6):
            for c in range(col, col + 4):
                image[r * 28 + c] = 200 + rng.randrange(0, 56)
        pixels += image
        labels.append(label)
    return bytes(pixels), bytes(labels)


def write_tiny_fashion_mnist(root: Path, gz: bool = False, folder: str = "FashionMNIST") -> Path:
    """Write the four IDX files into ``root/<folder>/raw`` (or ``root`` itself when gz)."""
    raw = root if gz else root / folder / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for prefix, count, seed in (("train", TRAIN_SIZE, 1), ("t10k", TEST_SIZE, 2)):
        pixels, labels = tiny_images(count, seed)
        files = {
            f"{prefix}-images-idx3-ubyte": idx_bytes((count, 28, 28), pixels),
            f"{prefix}-labels-idx1-ubyte": idx_bytes((count,), labels),
        }
        for name, content in files.items():
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(content))
            else:
                (raw / name).write_bytes(content)
    return root
