"""Shared test setup: every test gets its own tutor home and dataset root, and no colour quirks."""

from __future__ import annotations

import multiprocessing.resource_tracker
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.fulldisk import FullDisk, small_tmpfs
from helpers.tiny_data import write_tiny_fashion_mnist

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
    # No spare kernel child importing torch beside each test's kernel: it only saves restarts.
    monkeypatch.setattr("tutor.exercises.kernels.SPARE_KERNEL", False)
    for name in ("NO_COLOR", "TEXTUAL_DEBUG", "TEXTUAL_DEVTOOLS_PORT", "TEXTUAL_ANIMATIONS"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture(autouse=True)
def simulated_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's device probe answers at once for a machine without CUDA (and no GPU device
    files), and nothing is known of the hardware when a test starts; a test that wants GPUs
    replaces ``hardware.probe`` and ``hardware.gpu_device_files``."""
    from helpers.machines import cpu_report, probe_of

    from tutor.ui import hardware

    monkeypatch.setattr(hardware, "probe", probe_of(cpu_report()))
    monkeypatch.setattr(hardware, "gpu_device_files", lambda: 0)
    monkeypatch.setattr(hardware, "_report", None)
    monkeypatch.setattr(hardware, "_failed", False)


@pytest.fixture(autouse=True)
def no_template_left_asked_for() -> Iterator[None]:
    """A test that runs the app's entry point asks for the warm template: later tests ask none."""
    yield
    from tutor.processes import template

    template.stop()


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


@pytest.fixture
def full_disk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    """A 3 MB tmpfs whose ``home`` folder is PYTORCH_TUTOR_HOME; the test fills it when it wants.

    Mounting needs root: the test is skipped otherwise. Unmounted when the test ends.
    """
    mount = tmp_path / "small-disk"
    mount.mkdir()
    with small_tmpfs(mount):
        disk = FullDisk(mount)
        disk.home.mkdir()
        monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(disk.home))
        yield disk


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")


@pytest.fixture
def tiny_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The tiny generated Fashion-MNIST in the data root; no system copy, no download."""
    from tutor import paths
    from tutor.training import data

    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    return write_tiny_fashion_mnist(paths.data_root())
