"""Datasets decoded once: the normalised tensors saved with ``torch.save`` and memory-mapped back.

A cache file (``<home>/cache/datasets/<name>-<key>.pt``) holds the four tensors of a dataset and
what they were made from: every source file's path, size and modification time, and the format
and normalisation of the tensors. ``torch.load(..., mmap=True)`` maps it instead of reading it, so
loading takes the same few milliseconds for any size, and processes that load it share its pages
through the page cache. A source that changed (or a different normalisation) rebuilds it; a cache
that cannot be read (cut short, damaged) is rebuilt, never fatal; a cache that cannot be written
(read-only home, full disk) is skipped. Writes go through a temp file and a rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor import paths
from tutor.atomic import atomic_open

if TYPE_CHECKING:
    import torch

FORMAT = 1
TENSORS = ("train_images", "train_labels", "test_images", "test_labels")
DISABLE_ENV = "PYTORCH_TUTOR_DATASET_CACHE"  # "0": decode from the sources every time
# The cache is a convenience: it is written only when it takes at most a quarter of the free
# space and this much stays free beside it (a tenth of a small disk), so it never takes the room
# a run's checkpoints and the progress database need.
KEEP_FREE_BYTES = 512 * 1024 * 1024


def cache_dir() -> Path:
    return paths.home_dir() / "cache" / "datasets"


def fingerprint(sources: Iterable[Path]) -> list[list[Any]]:
    """Each source file as [path, size, mtime in ns], in a fixed order."""
    found = []
    for source in sorted(Path(s).resolve() for s in sources):
        stat = source.stat()
        found.append([str(source), stat.st_size, stat.st_mtime_ns])
    return found


def cache_path(name: str, sources: list[list[Any]]) -> Path:
    """One file per dataset and set of source paths (their sizes and times are checked inside)."""
    key = hashlib.sha256("\0".join(str(s[0]) for s in sources).encode()).hexdigest()[:16]
    return cache_dir() / f"{name}-{key}.pt"


def _load(path: Path, expected: dict[str, Any]) -> dict[str, torch.Tensor] | None:
    import torch

    try:
        stored = torch.load(path, mmap=True, weights_only=True, map_location="cpu")
    except FileNotFoundError:
        return None
    except Exception:  # cut short, damaged, another format: rebuilt below
        return None
    if not isinstance(stored, dict) or stored.get("meta") != expected:
        return None
    if not all(isinstance(stored.get(name), torch.Tensor) for name in TENSORS):
        return None
    return {name: stored[name] for name in TENSORS}


def _room_for(path: Path, size: int) -> bool:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        usage = shutil.disk_usage(path.parent)
        keep = min(KEEP_FREE_BYTES, usage.total // 10)
        return 4 * size <= usage.free and usage.free - size >= keep
    except OSError:
        return False


def _save(path: Path, meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    import torch

    size = sum(t.numel() * t.element_size() for t in tensors.values())
    if not _room_for(path, size):
        return
    with contextlib.suppress(OSError), atomic_open(path, "wb") as handle:
        torch.save({"meta": meta, **{n: tensors[n].contiguous() for n in TENSORS}}, handle)


def load_or_build(
    name: str,
    sources: Iterable[Path],
    build: Callable[[], dict[str, torch.Tensor]],
    settings: dict[str, Any],
) -> dict[str, torch.Tensor]:
    """The dataset's four tensors from the cache, or from ``build`` (then cached).

    ``settings`` is everything besides the source files that decides the tensors (normalisation,
    image size): a different value rebuilds the cache too.
    """
    if os.environ.get(DISABLE_ENV) == "0":
        return build()
    try:
        stamp = fingerprint(sources)
    except OSError:
        return build()
    meta = {"format": FORMAT, "name": name, "sources": stamp, "settings": settings}
    path = cache_path(name, stamp)
    cached = _load(path, meta)
    if cached is not None:
        return cached
    tensors = build()
    _save(path, meta, tensors)
    return tensors
