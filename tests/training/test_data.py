"""Where datasets come from (root, system copy, download, bundled sample) and the image folder."""

from __future__ import annotations

import gzip
import os
import socket
from pathlib import Path

import pytest
from helpers.tiny_data import TEST_SIZE, TRAIN_SIZE, write_tiny_fashion_mnist

from tutor import paths
from tutor.cli import main
from tutor.training import data, image_folder


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No system copy and no network unless a test puts them back."""
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")


def test_system_copy_is_unpacked_into_the_data_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = write_tiny_fashion_mnist(tmp_path / "system", gz=True)
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", system)
    root, notice = data.resolve_fashion_mnist()
    assert root == paths.data_root()
    assert notice is not None and "system copy" in notice
    raw = root / "FashionMNIST" / "raw" / "train-images-idx3-ubyte"
    assert raw.read_bytes() == gzip.decompress((system / "train-images-idx3-ubyte.gz").read_bytes())
    # The second time the unpacked files are simply there.
    assert data.resolve_fashion_mnist() == (root, None)
    images, _, _ = data.load_split("fashion-mnist", "train")
    assert len(images) == TRAIN_SIZE


def test_data_root_argument_beats_the_environment(tmp_path: Path) -> None:
    mine = write_tiny_fashion_mnist(tmp_path / "mine")
    root, notice = data.resolve_fashion_mnist(mine)
    assert (root, notice) == (mine, None)


def test_bundled_sample_when_nothing_else(tmp_path: Path) -> None:
    images, labels, notice = data.load_split("fashion-mnist", "train")
    assert notice == data.SAMPLE_NOTICE
    assert tuple(images.shape) == (5000, 1, 28, 28)
    assert labels.bincount().tolist() == [500] * 10
    test_images, test_labels, _ = data.load_split("fashion-mnist", "test")
    assert len(test_images) == 1000
    assert test_labels.bincount().tolist() == [100] * 10


def test_download_fails_quietly_offline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(data.OFFLINE_ENV)

    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    _, notice = data.resolve_fashion_mnist()
    assert notice == data.SAMPLE_NOTICE
    assert capsys.readouterr().err == ""  # no traceback, no torchvision chatter


def test_mnist_falls_back_to_fashion_mnist_with_a_notice() -> None:
    write_tiny_fashion_mnist(paths.data_root())
    images, _, notice = data.load_split("mnist", "test")
    assert notice is not None and "MNIST is not available" in notice
    assert len(images) == TEST_SIZE


def test_mnist_used_when_present() -> None:
    write_tiny_fashion_mnist(paths.data_root(), folder="MNIST")
    images, _, notice = data.load_split("mnist", "train")
    assert notice is None and len(images) == TRAIN_SIZE


def test_unreadable_files_name_the_folder() -> None:
    raw = write_tiny_fashion_mnist(paths.data_root()) / "FashionMNIST" / "raw"
    (raw / "train-images-idx3-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(data.DataUnavailable, match="could not be read"):
        data.load_dataset("fashion-mnist")


def test_unknown_dataset_and_split_list_the_choices() -> None:
    with pytest.raises(data.DataUnavailable, match="fashion-mnist, mnist, image-folder"):
        data.load_dataset("cifar")
    with pytest.raises(data.DataUnavailable, match="train or test"):
        data.load_split("fashion-mnist", "valid")  # type: ignore[arg-type]


def test_image_folder_is_built_once_from_the_sample() -> None:
    from torchvision import datasets

    root = image_folder.image_folder_root()
    assert root == paths.data_root() / image_folder.IMAGE_FOLDER_NAME
    train = datasets.ImageFolder(str(root / "train"))
    assert train.classes == ["ankle-boot", "sneaker"]
    assert sorted(train.targets).count(0) == 500 and sorted(train.targets).count(1) == 500
    assert len(datasets.ImageFolder(str(root / "test"))) == 200
    image, _ = train[0]
    assert image.size == (28, 28)
    before = (root / "train" / "sneaker").stat().st_mtime_ns
    assert image_folder.image_folder_root() == root
    assert (root / "train" / "sneaker").stat().st_mtime_ns == before
    # Built in a temp folder and renamed: nothing half-made is left beside it.
    assert [p.name for p in root.parent.iterdir() if p.name.startswith(".")] == []


def test_image_folder_accepts_cat_dog_data(tmp_path: Path) -> None:
    from PIL import Image

    course = tmp_path / "course"
    for split in ("train", "test"):
        for cls in ("cat", "dog"):
            folder = course / "Cat_Dog_data" / split / cls
            folder.mkdir(parents=True)
            Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "1.jpg")
    assert image_folder.image_folder_root(course) == course / "Cat_Dog_data"
    assert image_folder.image_folder_root(course / "Cat_Dog_data") == course / "Cat_Dog_data"
    loaded = data.load_dataset("image-folder", course)
    assert loaded.classes == ("cat", "dog")
    assert tuple(loaded.train_images.shape) == (2, 1, 28, 28)


def test_image_folder_in_a_read_only_root_says_what_to_do(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(data.DataUnavailable, match="--data-root"):
            image_folder.image_folder_root(locked)
    finally:
        locked.chmod(0o700)


# --- --data-root ---------------------------------------------------------------------------------


def test_missing_data_root_is_a_usage_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    assert main(["train", "mlp", "--data-root", str(missing), "--detach"]) == 2
    err = capsys.readouterr().err
    assert f"--data-root {missing} does not exist; create it or leave the option out" in err
    assert not missing.exists()
    assert not list(paths.runs_dir().iterdir())  # no run was made


def test_data_functions_never_create_a_missing_explicit_root(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    root, notice = data.resolve_fashion_mnist(str(missing))
    assert notice == data.SAMPLE_NOTICE and root != missing
    with pytest.raises(data.DataUnavailable, match="does not exist"):
        image_folder.image_folder_root(str(missing))
    assert not missing.exists()


def test_environment_data_root_is_still_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "fresh-root"
    monkeypatch.setenv(paths.DATA_ENV, str(fresh))
    data.resolve_fashion_mnist()
    assert (fresh / "FashionMNIST" / "raw").is_dir()
