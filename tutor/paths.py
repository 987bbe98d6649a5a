"""Where things live: the learner's data directory, the dataset root and the bundled lessons.

Nothing is ever written inside the package or the repository. ``PYTORCH_TUTOR_HOME`` replaces the
user data directory and ``PYTORCH_TUTOR_DATA`` the dataset root; tests set both.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "PYTORCH_TUTOR_HOME"
DATA_ENV = "PYTORCH_TUTOR_DATA"
APP_NAME = "pytorch-tutor"


def home_dir(*, create: bool = True) -> Path:
    """The learner's data directory (progress database, runs, checkpoints), created on demand
    (``create=False``: only where it would be, for a caller that handles a folder it cannot make).
    """
    override = os.environ.get(HOME_ENV)
    if override:
        path = Path(override).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_root(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The dataset root: ``--data-root``, else ``PYTORCH_TUTOR_DATA``, else ``<home>/datasets``."""
    if explicit:
        return Path(explicit).expanduser()
    override = os.environ.get(DATA_ENV)
    if override:
        return Path(override).expanduser()
    return home_dir() / "datasets"


def database_path(*, create: bool = True) -> Path:
    """The one SQLite database that holds everything a learner does (``create``: its folder)."""
    return home_dir(create=create) / "progress.sqlite3"


def runs_dir() -> Path:
    """The folder holding one sub-folder per training run."""
    path = home_dir() / "runs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def bundled_lessons_dir() -> Path:
    """The lessons shipped with the tutor: inside the wheel, or the repo's ``lessons/`` folder."""
    package = Path(__file__).resolve().parent
    installed = package / "_lessons"
    if installed.is_dir():
        return installed
    return package.parent / "lessons"
