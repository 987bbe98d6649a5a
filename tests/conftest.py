"""Shared test setup: every test gets its own tutor home and dataset root, and no colour quirks."""

from __future__ import annotations

import contextlib
import multiprocessing.resource_tracker
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.lessons.model import Glossary
from tutor.store.db import Database, open_database

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

# Textual swaps sys.stdout/stderr for objects without a real fileno; start the tracker first.
multiprocessing.resource_tracker.ensure_running()


@pytest.fixture(autouse=True)
def tutor_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point PYTORCH_TUTOR_HOME and PYTORCH_TUTOR_DATA at temp dirs; return the home."""
    home = tmp_path / "home"
    data = tmp_path / "data"
    home.mkdir()
    data.mkdir()
    monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(home))
    monkeypatch.setenv("PYTORCH_TUTOR_DATA", str(data))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    # No network in tests: dataset resolution never tries a download.
    monkeypatch.setenv("PYTORCH_TUTOR_OFFLINE", "1")
    for name in ("NO_COLOR", "TEXTUAL_DEBUG", "TEXTUAL_DEVTOOLS_PORT", "TEXTUAL_ANIMATIONS"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; the test is skipped where it is absent (a learner's clone)."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return path


@pytest.fixture
def glossary() -> Glossary:
    """The quiz tests' small glossary (tests/fixtures/quiz); a module may define its own."""
    from tutor.quiz.source import load_quiz_glossary

    return load_quiz_glossary(Path(__file__).parent / "fixtures" / "quiz")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated progress database in a temp folder."""
    database = open_database(tmp_path / "progress.sqlite3")
    yield database
    database.close()


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


@pytest.fixture
def full_disk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    """A 3 MB tmpfs whose ``home`` folder is PYTORCH_TUTOR_HOME; the test fills it when it wants.

    Mounting needs root: the test is skipped otherwise. Unmounted when the test ends.
    """
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    disk = FullDisk(mount)
    try:
        disk.home.mkdir()
        monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(disk.home))
        yield disk
    finally:
        # Lazy: a child process still holding a file there must not keep the mount alive.
        subprocess.run(["umount", "-l", str(mount)], check=False)


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
