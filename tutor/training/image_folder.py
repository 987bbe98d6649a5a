"""The image-folder dataset: a tree of ``train/<class>/*.png`` and ``test/<class>/*.png``.

The course's cats and dogs (``Cat_Dog_data``) have this shape; without them a two-class tree of
sneakers and ankle boots is built from the bundled Fashion-MNIST sample on first use. Loading it
decodes and transforms every picture once (then the dataset cache keeps the tensors).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tutor import paths
from tutor.training.data import MEAN, SAMPLE_DIR, STD, DataUnavailable, TensorData, read_idx

if TYPE_CHECKING:
    import torch

# The two-class ImageFolder tree built from the sample: folder name -> Fashion-MNIST label.
IMAGE_FOLDER_NAME = "sneaker-vs-ankle-boot"
IMAGE_FOLDER_CLASSES = {"ankle-boot": 9, "sneaker": 7}


def _is_image_folder(path: Path) -> bool:
    """True for a tree with ``train/<class>/`` folders (the course's Cat_Dog_data has this shape)."""
    train = path / "train"
    return train.is_dir() and any(child.is_dir() for child in train.iterdir())


def _build_image_folder(target: Path) -> None:
    """Write the sample's sneakers and ankle boots as PNGs; build in a temp dir, then rename."""
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for split, prefix in (("train", "train"), ("test", "t10k")):
            dims, pixels = read_idx(SAMPLE_DIR / f"{prefix}-images-idx3-ubyte.gz")
            _, labels = read_idx(SAMPLE_DIR / f"{prefix}-labels-idx1-ubyte.gz")
            size = dims[1] * dims[2]
            for folder, label in IMAGE_FOLDER_CLASSES.items():
                out = tmp / split / folder
                out.mkdir(parents=True)
                for index, value in enumerate(labels):
                    if value == label:
                        image = Image.frombytes(
                            "L", (dims[2], dims[1]), pixels[index * size : (index + 1) * size]
                        )
                        image.save(out / f"{index:05d}.png")
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process built it first: theirs is as good as ours.
            if not _is_image_folder(target):
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def image_folder_root(data_root: str | os.PathLike[str] | None = None) -> Path:
    """An ImageFolder tree (``train/<class>/*.png``, ``test/<class>/*.png``).

    The dataset root itself or its ``Cat_Dog_data`` folder when it has that shape (the course's
    cats and dogs); otherwise a sneaker vs ankle-boot tree built from the bundled sample on first
    use, in the dataset root.
    """
    root = paths.data_root(data_root)
    if data_root and not root.is_dir():
        raise DataUnavailable(
            f"The dataset root {root} does not exist; create it or leave --data-root out."
        )
    for candidate in (root, root / "Cat_Dog_data"):
        if candidate.is_dir() and _is_image_folder(candidate):
            return candidate
    target = root / IMAGE_FOLDER_NAME
    if not _is_image_folder(target):
        try:
            _build_image_folder(target)
        except OSError as exc:
            raise DataUnavailable(
                f"Could not build the image folder in {target} ({exc.strerror or exc}); point "
                "--data-root at a writable folder."
            ) from exc
    return target


def load_image_folder(data_root: str | os.PathLike[str] | None) -> TensorData:
    """An ImageFolder tree as 28x28 grayscale tensors, decoded and transformed once (then cached)."""
    import torch
    from torchvision import datasets, transforms

    from tutor.training import dataset_cache

    root = image_folder_root(data_root)
    transform = transforms.Compose(
        [
            transforms.Grayscale(1),
            transforms.Resize(28),
            transforms.CenterCrop(28),
            transforms.ToTensor(),
            transforms.Normalize((MEAN,), (STD,)),
        ]
    )

    def decode() -> dict[str, torch.Tensor]:
        tensors: dict[str, torch.Tensor] = {}
        for split in ("train", "test"):
            folder = datasets.ImageFolder(str(root / split), transform=transform)
            tensors[f"{split}_images"] = (
                torch.stack([image for image, _ in folder]) if len(folder) else torch.empty(0)
            )
            tensors[f"{split}_labels"] = torch.tensor(folder.targets, dtype=torch.int64)
        return tensors

    sources = [p for split in ("train", "test") for p in (root / split).rglob("*") if p.is_file()]
    tensors = dataset_cache.load_or_build(
        "image-folder", sources, decode, {"mean": MEAN, "std": STD, "size": 28}
    )
    classes, _ = datasets.folder.find_classes(str(root / "train"))
    return TensorData(
        name="image-folder",
        train_images=tensors["train_images"],
        train_labels=tensors["train_labels"],
        test_images=tensors["test_images"],
        test_labels=tensors["test_labels"],
        classes=tuple(classes),
        source=str(root),
        notice=None,
    )
