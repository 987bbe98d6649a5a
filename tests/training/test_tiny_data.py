"""The tiny generated Fashion-MNIST files (``helpers/tiny_data.py``) load as torchvision reads them."""

from __future__ import annotations

from pathlib import Path

from helpers.tiny_data import TEST_SIZE, TRAIN_SIZE, write_tiny_fashion_mnist

from tutor.training import data


def test_tiny_files_load_through_torchvision(tmp_path: Path) -> None:
    write_tiny_fashion_mnist(data.paths.data_root())
    images, labels, notice = data.load_split("fashion-mnist", "train")
    assert notice is None
    assert tuple(images.shape) == (TRAIN_SIZE, 1, 28, 28)
    assert str(images.dtype) == "torch.float32" and str(labels.dtype) == "torch.int64"
    assert float(images.min()) >= -1.0 and float(images.max()) <= 1.0
    assert labels[:10].tolist() == list(range(10))
    test_images, test_labels, _ = data.load_split("fashion-mnist", "test")
    assert len(test_images) == len(test_labels) == TEST_SIZE


def test_resolved_root_is_what_torchvision_reads() -> None:
    from torchvision import datasets

    write_tiny_fashion_mnist(data.paths.data_root())
    root, _ = data.resolve_fashion_mnist()
    theirs = datasets.FashionMNIST(str(root), train=True, download=False)
    ours, labels, _ = data.load_split("fashion-mnist", "train")
    assert theirs.targets.tolist() == labels.tolist()
    assert ours.tolist() == ((theirs.data.float() / 255 - 0.5) / 0.5).unsqueeze(1).tolist()
