"""``pytorch-tutor answer``: exit codes, JSON, stdin, bad input, and the recorded attempt."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tutor.cli import main
from tutor.store import open_database
from tutor.store.progress import Progress

LESSONS = str(Path(__file__).parents[1] / "fixtures" / "exercises" / "good")
SOLUTION = "y = activation(torch.sum(features * weights) + bias)\n"


def stdin(monkeypatch: pytest.MonkeyPatch, data: bytes, tty: bool = False) -> None:
    stream = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stream)
    monkeypatch.setattr(stream, "isatty", lambda: tty)


def answer(*args: str) -> int:
    return main(["answer", *args, "--lessons", LESSONS])


def test_pass_from_file_exits_0_and_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = tmp_path / "answer.py"
    code.write_text("print('working')\n" + SOLUTION, encoding="utf-8")
    assert answer("drills.neuron", "--file", str(code)) == 0
    out = capsys.readouterr().out
    assert "working" in out
    assert "PASS: drills.neuron" in out
    record = Progress(open_database()).step("drills.neuron")
    assert record is not None
    assert (record.status, record.attempts) == ("solved", 1)


def test_fail_json_from_stdin_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, b"y = activation(torch.sum(features * weights)).view(1, 1)\n")
    assert answer("drills.neuron", "--file", "-", "--json") == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["step"] == "drills.neuron"
    assert data["passed"] is False and data["saved"] is True
    assert data["messages"] == [
        "`y` matches the answer without the bias: add the bias before the activation."
    ]
    record = Progress(open_database()).step("drills.neuron")
    assert record is not None and record.attempts == 1 and record.status == "seen"


def test_unknown_step_exits_2_with_nearest(capsys: pytest.CaptureFixture[str]) -> None:
    assert answer("drills.neuro", "--file", "-") == 2
    err = capsys.readouterr().err
    assert "no step 'drills.neuro'" in err
    assert "drills.neuron" in err


def test_concept_step_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert answer("drills.intro", "--file", "-") == 2
    assert "not an exercise" in capsys.readouterr().err


def test_usage_errors_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, b"", tty=True)
    assert answer("drills.neuron") == 2
    assert "--file" in capsys.readouterr().err
    assert answer("drills.neuron", "--file", str(tmp_path / "missing.py")) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["answer"])
    assert exc.value.code == 2


def test_syntax_error_shows_caret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, b"y = activation(torch.sum(features * weights) + bias\n")
    assert answer("drills.neuron") == 1
    out = capsys.readouterr().out
    assert "FAIL: drills.neuron" in out
    assert "SyntaxError" in out
    assert "^" in out


@pytest.mark.parametrize(
    "data", [b"", ("# " + "x" * (1024 * 1024) + "\n").encode()], ids=["empty", "1MB"]
)
def test_odd_answers_get_a_verdict(
    data: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, data)
    assert answer("drills.neuron", "--json") == 1
    result = json.loads(capsys.readouterr().out)
    assert result["passed"] is False
    assert result["messages"]


def test_odd_bytes_are_decoded_not_fatal(monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.cli.answer_cmd import read_code

    stdin(monkeypatch, "y = '\u00e9\U0001f600\u202e'\n".encode() + b"\xff\xfe")
    code = read_code("-")
    assert code.startswith("y = '\u00e9\U0001f600\u202e'")
    assert "\ufffd" in code


def test_only_answers_that_reach_the_checks_make_terms_due(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tutor.lessons import load_catalog
    from tutor.quiz.scheduler import QuizScheduler

    glossary = load_catalog().glossary
    code = tmp_path / "answer.py"

    def dues() -> dict[str, object]:
        db = open_database()
        try:
            return dict(QuizScheduler(db, glossary).store.dues())
        finally:
            db.close()

    for text in ("y = (\n", "y = ...\n"):  # a SyntaxError; the untouched starter
        code.write_text(text, encoding="utf-8")
        assert main(["answer", "tensors.neuron-sum", "--file", str(code)]) == 1
        assert dues() == {}
    code.write_text("y = activation(torch.sum(features * weights)).view(1, 1)\n")
    assert main(["answer", "tensors.neuron-sum", "--file", str(code)]) == 1
    assert dues()
    capsys.readouterr()
