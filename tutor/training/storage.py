"""Why a run's folder could not be written, in words: a full disk, a quota, read-only, an I/O error.

A write that fails for lack of space is not damage: the run goes on, says what was not saved and
why, and a resume after space is freed continues from the last checkpoint that exists.
"""

from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass
from pathlib import Path

# errno -> (the problem in a few words, what to do about it)
_KINDS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("the disk is full", "free some space"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space in your quota"),
    errno.EROFS: ("the file system is read-only", "make it writable"),
    errno.EACCES: ("there is no permission to write there", "fix the folder's permissions"),
    errno.EPERM: ("there is no permission to write there", "fix the folder's permissions"),
    errno.EIO: ("the disk reported an I/O error", "check the disk"),
}

STORAGE_ERRNOS = frozenset(_KINDS)


@dataclass(frozen=True)
class StorageProblem:
    """One failed write, classified."""

    errno: str
    reason: str
    remedy: str
    directory: str

    def free(self) -> str:
        """``12.0 KB free``, or "" when the free space cannot be read."""
        free = free_bytes(Path(self.directory))
        return f"{_size(free)} free" if free is not None else ""

    def where(self) -> str:
        """``/home/x/runs/r1, 12.0 KB free``: the folder and its free space when known."""
        free = self.free()
        return f"{self.directory}, {free}" if free else self.directory


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` (torch.save wraps write errors in RuntimeError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno is not None:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def classify(exc: BaseException, directory: Path) -> StorageProblem:
    """What kind of storage problem ``exc`` is; an unknown one keeps its own text."""
    os_error = _os_error(exc)
    code = os_error.errno if os_error is not None else None
    if code in _KINDS:
        reason, remedy = _KINDS[code]  # type: ignore[index]
        return StorageProblem(errno.errorcode[code], reason, remedy, str(directory))  # type: ignore[index]
    text = (os_error.strerror if os_error is not None else None) or str(exc).splitlines()[0]
    name = errno.errorcode.get(code, "") if code is not None else ""
    return StorageProblem(
        name, f"the write failed ({text[:160]})", "check the folder", str(directory)
    )


def free_bytes(directory: Path) -> int | None:
    """Free bytes on the file system holding ``directory`` (its nearest existing parent)."""
    for candidate in (directory, *directory.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
