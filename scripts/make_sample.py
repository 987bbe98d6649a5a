"""Make the bundled Fashion-MNIST sample in ``tutor/_data/fashion-mnist-sample/``.

Reads the full set from Debian's ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``, or
the folder given as the first argument) and writes a class-balanced sample as gzipped IDX files with
the standard names, so torchvision's ``FashionMNIST`` reads it like the full set. The choice of images
is fixed (a seeded permutation), so running the script again gives the same files.

    python scripts/make_sample.py [SOURCE_DIR]
"""

from __future__ import annotations

import gzip
import random
import struct
import sys
from pathlib import Path

TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100
SEED = 2017  # the year Fashion-MNIST was published; any fixed number would do
OUT = Path(__file__).resolve().parent.parent / "tutor" / "_data" / "fashion-mnist-sample"


def read_idx(path: Path) -> tuple[tuple[int, ...], bytes]:
    """The dimensions and the raw bytes of a (gzipped) IDX file of unsigned bytes."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    zero, dtype, ndim = raw[0] * 256 + raw[1], raw[2], raw[3]
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim :]


def idx_bytes(dims: tuple[int, ...], body: bytes) -> bytes:
    """An IDX file of unsigned bytes with these dimensions."""
    return bytes([0, 0, 0x08, len(dims)]) + struct.pack(f">{len(dims)}I", *dims) + body


def write_gz(path: Path, data: bytes) -> None:
    # mtime=0 keeps the files byte-identical between runs of the script.
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)


def sample_split(source: Path, prefix: str, per_class: int, rng: random.Random) -> None:
    """Pick ``per_class`` images of each class from one split and write them to OUT."""
    image_dims, images = read_idx(source / f"{prefix}-images-idx3-ubyte.gz")
    _, labels = read_idx(source / f"{prefix}-labels-idx1-ubyte.gz")
    size = image_dims[1] * image_dims[2]
    order = list(range(len(labels)))
    rng.shuffle(order)
    chosen: list[int] = []
    counts = [0] * 10
    for index in order:
        label = labels[index]
        if counts[label] < per_class:
            counts[label] += 1
            chosen.append(index)
    chosen.sort()  # keep the original order of the set
    body = b"".join(images[i * size : (i + 1) * size] for i in chosen)
    write_gz(
        OUT / f"{prefix}-images-idx3-ubyte.gz",
        idx_bytes((len(chosen), image_dims[1], image_dims[2]), body),
    )
    write_gz(
        OUT / f"{prefix}-labels-idx1-ubyte.gz",
        idx_bytes((len(chosen),), bytes(labels[i] for i in chosen)),
    )
    print(f"{prefix}: {len(chosen)} images, {per_class} per class")


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/usr/share/datasets/fashion-mnist")
    if not (source / "train-images-idx3-ubyte.gz").is_file():
        print(f"No Fashion-MNIST files in {source}; install Debian's dataset-fashion-mnist.")
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    sample_split(source, "train", TRAIN_PER_CLASS, rng)
    sample_split(source, "t10k", TEST_PER_CLASS, rng)
    return 0


if __name__ == "__main__":
    sys.exit(main())
