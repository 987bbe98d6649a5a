"""The dataset cache: decoded once, memory-mapped back, rebuilt when a source changes or it is
damaged, and never fatal."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
import torch

from tutor.training import data, dataset_cache

COUNTS = {"train": 30, "t10k": 10}


@pytest.fixture(autouse=True)
def any_free_space_will_do(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests write caches whatever the test machine's disk has free."""
    monkeypatch.setattr(dataset_cache, "KEEP_FREE_BYTES", 0)


def write_idx(path: Path, dims: tuple[int, ...], body: bytes) -> None:
    header = bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(header + body)


@pytest.fixture
def raw(tutor_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A tiny Fashion-MNIST in the dataset root."""
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    folder = Path(os.environ["PYTORCH_TUTOR_DATA"]) / "FashionMNIST" / "raw"
    folder.mkdir(parents=True)
    for prefix, count in COUNTS.items():
        pixels = bytes((i * 11 + j) % 256 for i in range(count) for j in range(784))
        write_idx(folder / f"{prefix}-images-idx3-ubyte", (count, 28, 28), pixels)
        write_idx(
            folder / f"{prefix}-labels-idx1-ubyte", (count,), bytes(i % 10 for i in range(count))
        )
    return folder


def cache_files() -> list[Path]:
    return sorted(dataset_cache.cache_dir().glob("*.pt"))


def decodes(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every IDX file decoded from now on."""
    seen: list[Path] = []
    original = data._read_idx_tensor

    def spy(path: Path) -> torch.Tensor:
        seen.append(path)
        return original(path)

    monkeypatch.setattr(data, "_read_idx_tensor", spy)
    return seen


def test_a_second_load_maps_the_cache_instead_of_decoding(
    raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = decodes(monkeypatch)
    first = data.load_dataset("fashion-mnist")
    assert len(seen) == 4 and len(cache_files()) == 1
    second = data.load_dataset("fashion-mnist")
    assert len(seen) == 4  # nothing decoded again
    for name in dataset_cache.TENSORS:
        a, b = getattr(first, name), getattr(second, name)
        assert a.dtype == b.dtype and torch.equal(a, b)
    assert second.train_images.shape == (COUNTS["train"], 1, 28, 28)
    assert float(second.train_images.min()) >= -1.0 and float(second.train_images.max()) <= 1.0
    # Mapped copy-on-write: changing the loaded tensor in place leaves the cache as it was.
    second.train_images.zero_()
    assert torch.equal(data.load_dataset("fashion-mnist").train_images, first.train_images)


def test_a_changed_source_rebuilds_the_cache(raw: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = data.load_dataset("fashion-mnist")
    assert before.train_labels[:3].tolist() == [0, 1, 2]
    labels = raw / "train-labels-idx1-ubyte"
    write_idx(labels, (COUNTS["train"],), bytes(9 - i % 10 for i in range(COUNTS["train"])))
    stat = labels.stat()
    os.utime(labels, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    seen = decodes(monkeypatch)
    after = data.load_dataset("fashion-mnist")
    assert len(seen) == 4
    assert after.train_labels[:3].tolist() == [9, 8, 7]
    assert len(cache_files()) == 1  # replaced, not added to


@pytest.mark.parametrize("damage", [b"", b"not a torch file", "cut"])
def test_a_damaged_cache_is_rebuilt_not_fatal(
    raw: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes | str
) -> None:
    expected = data.load_dataset("fashion-mnist")
    (cache,) = cache_files()
    body = cache.read_bytes()
    cache.write_bytes(body[: len(body) // 2] if damage == "cut" else damage)  # type: ignore[arg-type]
    seen = decodes(monkeypatch)
    again = data.load_dataset("fashion-mnist")
    assert len(seen) == 4
    assert torch.equal(again.train_images, expected.train_images)
    assert torch.equal(again.test_labels, expected.test_labels)
    seen.clear()
    data.load_dataset("fashion-mnist")
    assert seen == []  # the rebuilt cache is whole again


def test_a_cache_that_cannot_be_written_is_skipped(
    raw: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setattr(dataset_cache, "cache_dir", lambda: blocked / "datasets")
    loaded = data.load_dataset("fashion-mnist")
    assert loaded.train_labels[:3].tolist() == [0, 1, 2]


def test_other_settings_rebuild_the_cache(tutor_env: Path, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"x")
    calls: list[float] = []

    def build(scale: float) -> dict[str, torch.Tensor]:
        calls.append(scale)
        return {name: torch.full((2,), scale) for name in dataset_cache.TENSORS}

    for scale in (1.0, 1.0, 2.0):
        got = dataset_cache.load_or_build("t", [source], lambda s=scale: build(s), {"s": scale})
        assert got["train_images"].tolist() == [scale, scale]
    assert calls == [1.0, 2.0]


def test_a_disk_short_of_space_gets_no_cache(raw: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(dataset_cache, "KEEP_FREE_BYTES", 512 * 1024 * 1024)
    # A 100 GB disk with 100 MB free: the cache would eat what checkpoints need.
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100 * 2**30, 0, 100 * 2**20))
    loaded = data.load_dataset("fashion-mnist")
    assert loaded.train_labels[:3].tolist() == [0, 1, 2]
    assert cache_files() == []
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(100 * 2**30, 0, 2**30))
    data.load_dataset("fashion-mnist")
    assert len(cache_files()) == 1
