"""A small real file system for tests of a full or read-only disk (used by ``full_disk_home``)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


@contextlib.contextmanager
def small_tmpfs(mount: Path, size: str = "3m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``mount`` for the block; the test is skipped without root.

    Unmounted lazily afterwards: a child process still holding a file there must not keep it.
    """
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


class FullDisk:
    """A small tmpfs mounted for one test: ``fill`` it to the last byte, ``free`` it again.

    ``home`` (a folder on it) is the test's PYTORCH_TUTOR_HOME.
    """

    def __init__(self, mount: Path) -> None:
        self.mount = mount
        self.home = mount / "home"
        self.filler = mount / "filler"

    def fill(self) -> None:
        """Write a filler file until the file system says it is full (ENOSPC)."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            for chunk in (1 << 16, 1 << 12, 1 << 9, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * chunk)
        finally:
            os.close(fd)
        assert shutil.disk_usage(self.mount).free == 0

    def free(self) -> None:
        """Remove the filler: the disk has room again."""
        self.filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        """Remount the file system read-only (EROFS on every write)."""
        subprocess.run(["mount", "-o", "remount,ro", str(self.mount)], check=True)
