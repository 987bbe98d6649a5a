"""The built wheel carries the lessons, and an installed (non-editable) tutor finds them anywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("pytorch_tutor-*.whl")
    return built


@pytest.mark.slow
def test_wheel_contains_every_lesson(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    lesson_files = sorted(p.name for p in (REPO / "lessons").glob("*.toml"))
    assert lesson_files, "the repo has no lessons"
    for name in lesson_files:
        assert f"tutor/_lessons/{name}" in names
    assert "tutor/ui/app.tcss" in names


@pytest.mark.slow
def test_installed_wheel_finds_lessons_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "lessons", "--json"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = json.loads(result.stdout)["lessons"]
    assert len(listed) == len(list((REPO / "lessons").glob("[0-9][0-9]-*.toml")))
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tutor.paths import bundled_lessons_dir; print(bundled_lessons_dir())",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(target))
