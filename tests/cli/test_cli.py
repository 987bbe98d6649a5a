"""The command line contract: exit codes, --version, lessons, lint, usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tutor import __version__
from tutor.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args], capture_output=True, text=True, timeout=120
    )


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pytorch-tutor {__version__}"


@pytest.mark.parametrize(
    "args", [["bogus"], ["--bogus"], ["lessons", "--nope"], ["lint", "--frobnicate"]]
)
def test_unknown_commands_and_flags_exit_2(args: list[str]) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


def test_lessons_json_lists_ids_titles_kinds() -> None:
    result = run_cli("lessons", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    for lesson in data["lessons"]:
        assert lesson["id"] and lesson["title"]
        for step in lesson["steps"]:
            assert step["id"].startswith(lesson["id"] + ".")
            assert step["kind"] in ("concept", "exercise", "training")


def test_lint_clean_fixture_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-run", str(FIXTURES / "lessons")]) == 0
    assert "Clean: 2 lessons, 4 steps, 2 terms." in capsys.readouterr().out


def test_lint_problems_exit_1_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "01-demo.toml"
    bad.write_text(
        'id = "demo"\ntitle = "Demo"\n[[steps]]\nid = "a"\nkind = "concept"\ntitle = 3\ntext = "x"\n'
    )
    assert main(["lint", "--no-run", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:6: step 'a': 'title' must be a str, not int" in out


def test_lint_missing_path_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "--no-run", str(tmp_path / "nope")]) == 1
    assert "no such file or folder" in capsys.readouterr().out
