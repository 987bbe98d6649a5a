"""On a real full (or read-only) file system: the app, ``answer`` and ``quiz --plain`` carry on.

Each test mounts a 3 MB tmpfs as PYTORCH_TUTOR_HOME (``full_disk_home``; root only, skipped
otherwise), fills it to the last byte and checks that nothing calls the database damaged, that
nothing ends in a traceback, and that the learner is told what was not saved.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from helpers.fulldisk import FullDisk

from tutor.cli import main
from tutor.lessons import load_catalog
from tutor.store import CorruptDatabase, open_database
from tutor.store.db import Database
from tutor.store.progress import Progress
from tutor.ui.app import TutorApp
from tutor.ui.dialogs.damaged_db import DamagedDatabaseDialog
from tutor.ui.screens.reader import ReaderScreen

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXERCISES = str(FIXTURES / "exercises" / "good")
QUIZ = str(FIXTURES / "quiz")
REPO = Path(__file__).resolve().parents[2]
SOLUTION = "y = activation(torch.sum(features * weights) + bias)\n"
SIZE = (80, 24)
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def seed(disk: FullDisk, steps: int = 30) -> None:
    """Progress worth keeping: the learner is on basics.more, with some history."""
    db = open_database()
    # One transaction: the write-ahead log of many small ones would fill the small disk itself.
    with db.transaction() as conn:
        for n in range(steps):
            conn.execute(
                "INSERT INTO attempts(step_id, at, passed, code) VALUES (?, '', 0, ?)",
                (f"drills.step-{n}", "x = 1\n" * 40),
            )
            conn.execute(
                "INSERT INTO step_progress(step_id, status, updated_at) VALUES (?, 'seen', '')",
                (f"drills.step-{n}",),
            )
    Progress(db).set_current("basics", "more")
    db.close()
    assert db.unsaved_report() is None


def rows(disk: FullDisk, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(disk.home / "progress.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def messages(app: TutorApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


# The store ------------------------------------------------------------------------------------


@pytest.mark.parametrize("wal", [True, False], ids=["wal-held-open", "closed-cleanly"])
def test_the_store_reads_keeps_and_later_saves(full_disk_home: FullDisk, wal: bool) -> None:
    seed(full_disk_home)
    held = open_database() if wal else None  # another window holds the WAL and its index
    if held is not None:
        Progress(held).mark("drills.held", "seen")
    full_disk_home.fill()
    db = open_database()
    progress = Progress(db)
    assert progress.current("basics") == "more" and len(progress.statuses()) >= 30
    progress.record_attempt("drills.neuron", SOLUTION, passed=True)
    progress.mark("drills.neuron", "solved")
    assert db.problem is not None and db.problem.kind == "full"
    assert "is full (0 B free)" in db.problem.reason
    assert progress.statuses()["drills.neuron"] == "solved"
    assert db.pending == ["an attempt at drills.neuron (passed)", "step drills.neuron solved"]
    full_disk_home.free()
    progress.mark("drills.next", "seen")  # the next write lands the queue
    assert db.pending == [] and db.problem is None
    db.close()
    if held is not None:
        held.close()
    assert rows(full_disk_home, "SELECT status FROM step_progress WHERE step_id = 'drills.neuron'")
    assert rows(
        full_disk_home, "SELECT COUNT(*) FROM attempts WHERE step_id = 'drills.neuron'"
    ) == [(1,)]


def test_damage_is_still_found_on_a_full_disk(full_disk_home: FullDisk) -> None:
    seed(full_disk_home, steps=200)
    path = full_disk_home.home / "progress.sqlite3"
    data = bytearray(path.read_bytes())
    assert len(data) > 8 * 4096
    data[3 * 4096 : 6 * 4096] = b"\xa5" * (3 * 4096)
    path.write_bytes(bytes(data))
    full_disk_home.fill()
    with pytest.raises(CorruptDatabase, match="is damaged"):
        open_database()


def test_a_read_only_file_system_opens_read_only(full_disk_home: FullDisk) -> None:
    seed(full_disk_home)
    full_disk_home.read_only()
    db = open_database()
    assert Progress(db).current("basics") == "more"
    Progress(db).mark("basics.more", "solved")
    assert db.problem is not None and db.problem.kind == "read-only"
    db.close()
    report = db.unsaved_report()
    assert report is not None and "read-only file system" in report
    assert "step basics.more solved" in report


# answer and quiz --plain -----------------------------------------------------------------------


@pytest.mark.parametrize("wal", [True, False], ids=["wal-held-open", "closed-cleanly"])
def test_answer_gives_the_verdict_and_says_the_attempt_was_not_saved(
    full_disk_home: FullDisk, tmp_path: Path, capsys: pytest.CaptureFixture[str], wal: bool
) -> None:
    code = tmp_path / "answer.py"
    code.write_text(SOLUTION, encoding="utf-8")
    seed(full_disk_home)
    held: Database | None = open_database() if wal else None
    if held is not None:
        Progress(held).mark("drills.held", "seen")
    full_disk_home.fill()
    try:
        status = main(["answer", "drills.neuron", "--file", str(code), "--lessons", EXERCISES])
    finally:
        if held is not None:
            held.close()
    out, err = capsys.readouterr()
    assert status == 0
    assert "PASS: drills.neuron" in out
    assert "damaged" not in out + err and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pytorch-tutor: The attempt was not saved: the disk holding ")
    assert str(full_disk_home.home) in lines[0] and "is full (0 B free)" in lines[0]
    full_disk_home.free()
    saved = "SELECT COUNT(*) FROM attempts WHERE step_id = 'drills.neuron'"
    assert rows(full_disk_home, saved) == [(0,)]  # as it said


def test_answer_json_says_the_attempt_was_not_saved(
    full_disk_home: FullDisk, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "answer.py"
    code.write_text("y = 0\n", encoding="utf-8")
    seed(full_disk_home)
    full_disk_home.fill()
    args = ["answer", "drills.neuron", "--file", str(code), "--json", "--lessons", EXERCISES]
    assert main(args) == 1
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert (result["step"], result["passed"], result["saved"]) == ("drills.neuron", False, False)
    assert err.startswith("pytorch-tutor: The attempt was not saved: the disk holding ")


def test_plain_quiz_still_quizzes_and_says_the_reviews_were_not_saved(
    full_disk_home: FullDisk,
) -> None:
    seed(full_disk_home)
    full_disk_home.fill()
    result = subprocess.run(
        [sys.executable, "-m", "tutor", "quiz", "--plain", "--count", "2", "--lessons", QUIZ],
        input=b"1\n2\n",
        capture_output=True,
        cwd=REPO,
        env=os.environ.copy(),
        timeout=60,
    )
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 0, err
    assert "[2/2]" in out and "Done. " in out
    assert "Traceback" not in err and "damaged" not in err
    assert err.strip() == (
        "pytorch-tutor: 2 quiz review(s) from this session were not saved: the disk holding "
        f"{full_disk_home.home} is full (0 B free); free some space there, or set "
        "PYTORCH_TUTOR_HOME to a folder on another disk."
    )


# The app --------------------------------------------------------------------------------------


def make_app() -> TutorApp:
    return TutorApp(catalog=load_catalog([FIXTURES / "lessons"]))


async def test_the_app_opens_on_a_full_disk_and_lists_what_was_not_saved(
    full_disk_home: FullDisk,
) -> None:
    seed(full_disk_home)
    full_disk_home.fill()
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        assert not any(isinstance(s, DamagedDatabaseDialog) for s in app.screen_stack)
        assert isinstance(app.screen, ReaderScreen)  # progress was read: it resumed the lesson
        assert app.screen.step.full_id == "basics.more"
        notes = messages(app)
        assert len(notes) == 1
        assert notes[0].startswith("Progress cannot be saved right now: the disk holding ")
        assert "is full (0 B free)" in notes[0]
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.step.full_id == "basics.intro"
        await pilot.press("n")
        await pilot.press("n")
        await pilot.pause()
        assert len(messages(app)) == 1  # said once, not once per refused write
        await pilot.press("q")
    report = app.unsaved_report
    assert report is not None
    assert "the disk holding" in report and "is full" in report
    assert "your place in lesson basics (intro)" in report
    assert "your place in lesson basics (more)" in report


async def test_the_app_saves_what_waited_once_space_comes_back(full_disk_home: FullDisk) -> None:
    seed(full_disk_home)
    full_disk_home.fill()
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert app.db is not None and app.db.pending
        full_disk_home.free()
        await pilot.press("p")  # the next write lands the queue
        await pilot.pause()
        assert app.db.pending == []
        assert any(m.startswith("Progress is saved again") for m in messages(app))
        await pilot.press("q")
    assert app.unsaved_report is None
    assert rows(full_disk_home, "SELECT current_step FROM lesson_progress") == [("more",)]
    assert rows(full_disk_home, "SELECT status FROM step_progress WHERE step_id = 'basics.last'")


async def test_the_app_runs_an_exercise_on_a_full_disk_and_hands_the_code_back(
    full_disk_home: FullDisk, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Static, TextArea

    from tutor.ui.widgets.exercise import ExercisePanel

    seed(full_disk_home)
    full_disk_home.fill()
    app = TutorApp(catalog=load_catalog([Path(EXERCISES)]), start=None)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        app.open_step("drills.neuron")
        await app.workers.wait_for_complete()
        await pilot.pause()
        panel = app.screen.query_one(ExercisePanel)
        editor = panel.query_one("#exercise-editor", TextArea)
        editor.load_text(SOLUTION)
        editor.focus()
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        verdict = str(panel.query_one("#exercise-verdict", Static).render())
        assert verdict.startswith("✓ Solved!")
        assert app.progress is not None and app.progress.statuses()["drills.neuron"] == "solved"
        await pilot.press("ctrl+q")
    report = app.unsaved_report
    assert report is not None
    assert "  - an attempt at drills.neuron (passed)\n" in report
    assert "  - step drills.neuron solved" in report
    assert f"  - your code in drills.neuron:\n      {SOLUTION.strip()}" in report, report


async def test_a_damaged_database_on_a_full_disk_is_still_called_damaged(
    full_disk_home: FullDisk,
) -> None:
    (full_disk_home.home / "progress.sqlite3").write_bytes(b"this is not a database" * 100)
    full_disk_home.fill()
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DamagedDatabaseDialog)
        await pilot.click("#quit")


def test_answer_with_a_data_folder_that_cannot_be_made(
    full_disk_home: FullDisk,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = tmp_path / "answer.py"
    code.write_text("y = 0\n", encoding="utf-8")
    full_disk_home.read_only()
    monkeypatch.setenv("PYTORCH_TUTOR_HOME", str(full_disk_home.home / "new"))
    status = main(["answer", "drills.neuron", "--file", str(code), "--lessons", EXERCISES])
    out, err = capsys.readouterr()
    assert status == 1 and "FAIL: drills.neuron" in out
    assert err.startswith("pytorch-tutor: The attempt was not saved: ")
    assert f"{full_disk_home.home / 'new'} is on a read-only file system" in err


def test_a_folder_without_write_permission_opens_read_only(tmp_path: Path) -> None:
    """As an ordinary user (root writes anywhere): SQLite cannot create its index files there."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to act as another user")
    # Outside pytest's own temp folder, which only root may enter.
    base = Path(tempfile.mkdtemp(prefix="tutor-permission-"))
    try:
        base.chmod(0o755)
        home = base / "home"
        home.mkdir()
        env = {**os.environ, "PYTORCH_TUTOR_HOME": str(home)}
        first = open_database(home / "progress.sqlite3")
        Progress(first).set_current("basics", "more")
        first.close()
        home.chmod(0o555)
        script = (
            "from tutor.store import open_database\n"
            "from tutor.store.progress import Progress\n"
            "db = open_database()\n"
            "print(Progress(db).current('basics'))\n"
            "Progress(db).mark('basics.more', 'solved')\n"
            "print(Progress(db).statuses())\n"
            "db.close()\n"
            "print(db.unsaved_report())\n"
        )
        done = subprocess.run(
            [*AS_NOBODY, sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
        )
        if "Permission denied" in done.stderr and "python" in done.stderr.lower():
            pytest.skip("the test interpreter is not readable by another user")
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "more"  # progress was read
        assert lines[1] == "{'basics.more': 'solved'}"  # and the change is kept meanwhile
        assert lines[2].startswith(
            f"Progress not saved: you have no permission to write in {home} ("
        )
        assert lines[3:] == [
            "These changes were lost when the tutor closed:",
            "  - step basics.more solved",
        ]
    finally:
        (base / "home").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
