"""Datasets for lessons and training runs: finding them, and loading them as normalised tensors.

Fashion-MNIST is looked for in this order: the dataset root (``--data-root`` or
``PYTORCH_TUTOR_DATA``), torchvision's cache in the user data directory, a system copy (Debian's
``dataset-fashion-mnist``), a download through torchvision when online, and last the small sample
bundled with the tutor. Every source ends up in torchvision's layout, ``ROOT/FashionMNIST/raw/``
with the four decompressed IDX files, so torchvision's ``FashionMNIST(ROOT)`` reads it too.

The image-folder dataset (a tree of PNGs) is in ``image_folder.py``.

torch and torchvision are imported inside the functions that need them: importing this module is
cheap, and the UI may import it to build an image folder without loading torch.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import shutil
import socket
import struct
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tutor import paths

if TYPE_CHECKING:
    import torch

DATASETS = ("fashion-mnist", "mnist", "image-folder")
SYSTEM_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "_data" / "fashion-mnist-sample"
# Set to 1 to skip download attempts entirely (tests, air-gapped machines).
OFFLINE_ENV = "PYTORCH_TUTOR_OFFLINE"
RAW_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# The course normalises with Normalize((0.5,), (0.5,)): pixel values end up in [-1, 1].
MEAN = 0.5
STD = 0.5
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
MNIST_CLASSES = tuple(str(digit) for digit in range(10))
_DOWNLOAD_HOSTS = {
    "FashionMNIST": "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
    "MNIST": "ossci-datasets.s3.amazonaws.com",
}


class DataUnavailable(Exception):
    """A dataset could not be found, built or read; the message says what to do."""


@dataclass(frozen=True)
class TensorData:
    """A dataset held in memory: normalised images (N, 1, 28, 28) float32, labels int64."""

    name: str
    train_images: torch.Tensor
    train_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: tuple[str, ...]
    source: str
    notice: str | None


# --- finding the files -------------------------------------------------------------------------


def _has_raw(root: Path, folder: str) -> bool:
    raw = root / folder / "raw"
    return all((raw / name).is_file() for name in RAW_FILES)


def _has_files(directory: Path) -> bool:
    """True when ``directory`` holds the four IDX files, gzipped or not."""
    return all(
        (directory / name).is_file() or (directory / f"{name}.gz").is_file() for name in RAW_FILES
    )


def _decompress_into(source: Path, raw_dir: Path) -> None:
    """Copy the four IDX files from ``source`` into ``raw_dir``, decompressed, each atomically.

    Debian's .gz files carry different gzip headers from the upstream ones, so torchvision's md5
    check of the .gz fails; the decompressed files are the real ones and need no check.
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    for name in RAW_FILES:
        target = raw_dir / name
        if target.is_file():
            continue
        plain = source / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=raw_dir)
        try:
            with os.fdopen(fd, "wb") as out:
                if plain.is_file():
                    with plain.open("rb") as src:
                        shutil.copyfileobj(src, out)
                else:
                    with gzip.open(source / f"{name}.gz", "rb") as src:
                        shutil.copyfileobj(src, out)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def _roots(data_root: str | os.PathLike[str] | None) -> list[Path]:
    """The dataset root, then the cache in the user data directory when that is another folder."""
    first = paths.data_root(data_root)
    cache = paths.home_dir() / "datasets"
    return [first] if first.resolve() == cache.resolve() else [first, cache]


def _writable_root(data_root: str | os.PathLike[str] | None, folder: str) -> Path:
    """Where to put decompressed or downloaded files: the dataset root, else the user cache.

    An explicit ``data_root`` that does not exist is passed over, never created: a mistyped
    ``--data-root`` must not make folders (as root, anywhere on the machine).
    """
    for root in _roots(data_root):
        if data_root and root == paths.data_root(data_root) and not root.is_dir():
            continue
        try:
            (root / folder / "raw").mkdir(parents=True, exist_ok=True)
            probe = root / folder / "raw" / ".write-test"
            probe.write_bytes(b"")
            probe.unlink()
            return root
        except OSError:
            continue
    raise DataUnavailable(
        f"Neither {paths.data_root(data_root)} nor the user data directory can be written; "
        "point --data-root at a writable folder."
    )


def _online(host: str) -> bool:
    """A quick check (3 s at most) that the download host answers: offline must fail fast."""
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        return False
    try:
        with socket.create_connection((host, 80), timeout=3):
            return True
    except OSError:
        return False


def _download(root: Path, folder: str) -> bool:
    """Download through torchvision into ``root``; False (quietly) when that fails."""
    if not _online(_DOWNLOAD_HOSTS[folder]):
        return False
    from torchvision import datasets

    cls = datasets.FashionMNIST if folder == "FashionMNIST" else datasets.MNIST
    print(f"Downloading {folder} into {root} ...", file=sys.stderr, flush=True)
    try:
        # torchvision prints its own progress bar on stderr; its chatter on stdout is noise here.
        with contextlib.redirect_stdout(io.StringIO()):
            cls(str(root), train=True, download=True)
            cls(str(root), train=False, download=True)
    except Exception as exc:  # network errors come in many classes; any of them means "no"
        print(f"Download failed: {exc}", file=sys.stderr, flush=True)
        return False
    return _has_raw(root, folder)


def _sample_root() -> Path:
    """The bundled sample, decompressed into the user cache on first use."""
    root = paths.home_dir() / "datasets" / "fashion-mnist-sample"
    if not _has_raw(root, "FashionMNIST"):
        if not _has_files(SAMPLE_DIR):
            raise DataUnavailable(
                f"The bundled Fashion-MNIST sample is missing from {SAMPLE_DIR}; reinstall the tutor."
            )
        _decompress_into(SAMPLE_DIR, root / "FashionMNIST" / "raw")
    return root


SAMPLE_NOTICE = (
    "Using the bundled Fashion-MNIST sample (5,000 training and 1,000 test images): the full set "
    "was not found and could not be downloaded. Install Debian's dataset-fashion-mnist or use "
    "--data-root for the full set."
)


def _find_or_fetch(
    data_root: str | os.PathLike[str] | None,
    folder: str,
    label: str,
    candidates: Callable[[Path], tuple[Path, ...]],
    system: Path | None = None,
) -> tuple[Path, str | None] | None:
    """Find a set torchvision can read as ``<root>/<folder>/raw``, unpacking or downloading it.

    In order: the set in place under a root; its IDX files in one of ``candidates(root)`` (or the
    raw folder) to unpack; the ``system`` copy; a download. None when all of them fail.
    """
    for root in _roots(data_root):
        if _has_raw(root, folder):
            return root, None
        for source in (*candidates(root), root / folder / "raw"):
            if _has_files(source):
                target = _writable_root(data_root, folder)
                _decompress_into(source, target / folder / "raw")
                return target, f"{label}: unpacked the files from {source} into {target}."
    if system is not None and _has_files(system):
        target = _writable_root(data_root, folder)
        _decompress_into(system, target / folder / "raw")
        return target, f"{label}: unpacked the system copy into {target}."
    target = _writable_root(data_root, folder)
    if _download(target, folder):
        return target, f"{label}: downloaded into {target}."
    return None


def resolve_fashion_mnist(
    data_root: str | os.PathLike[str] | None = None,
) -> tuple[Path, str | None]:
    """The root that torchvision's ``FashionMNIST(root)`` reads, and a notice for the learner.

    The notice is None when the full set was already in place, and a sentence otherwise (a system
    copy was unpacked, the set was downloaded, or only the bundled sample is available).
    """
    found = _find_or_fetch(
        data_root,
        "FashionMNIST",
        "Fashion-MNIST",
        lambda root: (root, root / "fashion-mnist"),
        system=SYSTEM_FASHION_MNIST,
    )
    if found is not None:
        return found
    return _sample_root(), SAMPLE_NOTICE


def resolve_mnist(data_root: str | os.PathLike[str] | None = None) -> tuple[Path, str | None]:
    """The root for torchvision's ``MNIST(root)``; raises DataUnavailable when MNIST cannot be had."""
    found = _find_or_fetch(data_root, "MNIST", "MNIST", lambda root: (root / "mnist",))
    if found is not None:
        return found
    raise DataUnavailable("MNIST was not found and could not be downloaded.")


# --- loading as tensors --------------------------------------------------------------------------


def _normalise(pixels: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [-1, 1], done once for the whole set."""
    return pixels.unsqueeze(1).float().div_(255.0).sub_(MEAN).div_(STD)


def read_idx(path: Path) -> tuple[tuple[int, ...], bytes]:
    """Dimensions and body of a (gzipped) IDX file of unsigned bytes, without torch."""
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataUnavailable(f"{path} is not an IDX file of unsigned bytes.")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    return dims, raw[4 + 4 * ndim :]


def _read_idx_tensor(path: Path) -> torch.Tensor:
    """An IDX file of unsigned bytes as a uint8 tensor, read as torchvision reads it.

    torchvision's FashionMNIST reads the same files the same way; reading them here spares a run
    process the seconds that importing torchvision costs.
    """
    import torch

    dims, body = read_idx(path)
    expected = 1
    for size in dims:
        expected *= size
    if len(body) != expected:
        raise DataUnavailable(f"{path} is cut short ({len(body)} of {expected} bytes).")
    return torch.frombuffer(bytearray(body), dtype=torch.uint8).reshape(dims)


def _load_idx_dataset(name: str, data_root: str | os.PathLike[str] | None) -> TensorData:
    notice: str | None = None
    if name == "mnist":
        try:
            root, notice = resolve_mnist(data_root)
            folder, classes = "MNIST", MNIST_CLASSES
        except DataUnavailable:
            root, fashion_notice = resolve_fashion_mnist(data_root)
            notice = "MNIST is not available here, so this uses Fashion-MNIST instead" + (
                f" ({fashion_notice})" if fashion_notice else "."
            )
            folder, classes = "FashionMNIST", FASHION_CLASSES
    else:
        root, notice = resolve_fashion_mnist(data_root)
        folder, classes = "FashionMNIST", FASHION_CLASSES
    raw = root / folder / "raw"
    from tutor.training import dataset_cache

    def decode() -> dict[str, torch.Tensor]:
        try:
            tensors = [_read_idx_tensor(raw / name) for name in RAW_FILES]
        except (DataUnavailable, OSError, struct.error, IndexError) as exc:
            raise DataUnavailable(
                f"The files in {raw} could not be read ({exc}); delete them to fetch them again."
            ) from exc
        train_images, train_labels, test_images, test_labels = tensors
        if len(train_images) != len(train_labels) or len(test_images) != len(test_labels):
            raise DataUnavailable(
                f"The files in {raw} could not be read (images and labels differ in number); "
                "delete them to fetch them again."
            )
        return {
            "train_images": _normalise(train_images),
            "train_labels": train_labels.long(),
            "test_images": _normalise(test_images),
            "test_labels": test_labels.long(),
        }

    # Decoded once, then memory-mapped from the cache (rebuilt when a file changes).
    tensors = dataset_cache.load_or_build(
        folder, [raw / name for name in RAW_FILES], decode, {"mean": MEAN, "std": STD}
    )
    return TensorData(
        name=name,
        train_images=tensors["train_images"],
        train_labels=tensors["train_labels"],
        test_images=tensors["test_images"],
        test_labels=tensors["test_labels"],
        classes=classes,
        source=str(root),
        notice=notice,
    )


def load_dataset(name: str, data_root: str | os.PathLike[str] | None = None) -> TensorData:
    """Both splits of a dataset as normalised tensors in memory, with a notice about the source."""
    if name not in DATASETS:
        raise DataUnavailable(f"Unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}.")
    if name == "image-folder":
        # The image folder is its own module (it builds a tree of PNGs); it imports this one.
        from tutor.training.image_folder import load_image_folder

        return load_image_folder(data_root)
    return _load_idx_dataset(name, data_root)


def load_split(
    dataset: str,
    split: Literal["train", "test"],
    data_root: str | os.PathLike[str] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, str | None]:
    """One split as (images float (N, 1, 28, 28) normalised, labels int64 (N,), notice or None).

    Lesson setups use it to build small loaders, e.g. ``TensorDataset(images[:640], labels[:640])``.
    """
    if split not in ("train", "test"):
        raise DataUnavailable(f"Unknown split {split!r}; choose train or test.")
    data = load_dataset(dataset, data_root)
    if split == "train":
        return data.train_images, data.train_labels, data.notice
    return data.test_images, data.test_labels, data.notice
