"""``pytorch-tutor quiz --plain`` driven through stdin in a child process, as a script would."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parents[1] / "fixtures" / "quiz"
REPO = Path(__file__).resolve().parents[2]


def quiz(*args: str, stdin: str | bytes = b"") -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "tutor", "quiz", *args],
        input=data,
        capture_output=True,
        cwd=REPO,
        env=os.environ.copy(),  # the autouse fixture points PYTORCH_TUTOR_HOME at a temp dir
        timeout=60,
    )


def test_plain_quiz_reads_answers_from_stdin(tutor_env: Path) -> None:
    # A number per question (choices are shuffled, so some right, some wrong); EOF ends it.
    result = quiz("--plain", "--count", "3", "--lessons", str(FIXTURE), stdin="1\n2\n3\n")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    assert out.count("[1/3]") == 1 and "[3/3]" in out
    assert "Taught in: tensors.intro" in out and "Rated " in out
    assert re.search(r"Done\. \d of 3 right \(ratings: ", out)
    rows = (
        sqlite3.connect(tutor_env / "progress.sqlite3")
        .execute("SELECT term_id, reviewed_at FROM review_log ORDER BY id")
        .fetchall()
    )
    assert [r[0] for r in rows] == ["tensor", "neural-network", "batch"]
    assert all(r[1].endswith("+00:00") for r in rows)


def test_end_of_input_ends_cleanly_with_a_summary() -> None:
    result = quiz("--plain", "--lessons", str(FIXTURE), stdin="")
    assert result.returncode == 0
    assert result.stdout.decode().rstrip().endswith("Done. No questions answered.")


def test_typed_mode_with_odd_unicode_and_bad_bytes() -> None:
    answers = "Ｔｅｎｓｏｒ\n".encode() + b"\xff\xfe\n" + "?\nba\u200btch\n".encode() + b"\n:q\n"
    result = quiz("--plain", "--mode", "typed", "--lessons", str(FIXTURE), stdin=answers)
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "Right." in out and "Not quite" in out
    assert "Type the term, or ? for a hint." in out  # the empty line
    assert "The term looks like: b____" in out
    assert (
        "Done. 2 of 3 right, 1 with a hint" in out
    )  # Tensor right, the bad bytes wrong, batch right


def test_stats_after_a_session() -> None:
    quiz("--plain", "--count", "2", "--lessons", str(FIXTURE), stdin="1\n1\n")
    result = quiz("--stats", "--lessons", str(FIXTURE))
    out = result.stdout.decode()
    assert result.returncode == 0
    assert "Terms: 14   with cards: 2   reviews: 2" in out
    assert "Streak: 1 day" in out and "new today: 8 left" in out


def test_empty_broken_and_missing_glossaries_exit_1(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "glossary.toml").write_text("# nothing yet\n")
    (tmp_path / "broken.toml").write_text('[[terms]]\nterm = "x"\ndefinition = \n')
    for where, words in [
        (tmp_path / "empty", "no usable terms"),
        (tmp_path / "broken.toml", "invalid TOML"),
        (tmp_path / "missing", "No glossary found"),
    ]:
        result = quiz("--plain", "--lessons", str(where))
        err = result.stderr.decode()
        assert result.returncode == 1
        assert words in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


def test_usage_errors_exit_2() -> None:
    for args in (["--count", "0"], ["--count", "x"], ["--mode", "essay"]):
        result = quiz("--plain", *args)
        assert result.returncode == 2, args
        assert "Traceback" not in result.stderr.decode()
