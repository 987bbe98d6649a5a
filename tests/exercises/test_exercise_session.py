"""The exercise session without any UI: runs, verdicts, hints, the solution rule, drafts, attempts,
the quiz feed, reset and skip; and the verdict lines (moved here from the panel's tests).

Most tests use ``FakeKernel`` (tests/helpers/fake_kernel.py), which answers at once; one runs a real
kernel to prove the session drives it end to end.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from helpers.fake_kernel import FakeKernel

from tutor.exercises.kernels import KernelHost
from tutor.exercises.session import STUCK_NOTE, ExerciseSession, reached_checks
from tutor.exercises.text import describe_summary, failure_sentence
from tutor.kernel import Kernel, KernelError, RunResult
from tutor.lessons import load_catalog
from tutor.lessons.model import ExerciseStep, Glossary
from tutor.quiz.scheduler import QuizScheduler
from tutor.store.db import Database
from tutor.store.drafts import load_draft, save_draft
from tutor.store.progress import Progress

LESSONS = Path(__file__).parents[1] / "fixtures" / "exercises" / "good"
COURSE = Path(__file__).resolve().parents[2] / "lessons"


def exercise(name: str) -> ExerciseStep:
    step = load_catalog([LESSONS]).step(f"drills.{name}")
    assert isinstance(step, ExerciseStep)
    return step


def course_step(full_id: str) -> tuple[ExerciseStep, Glossary]:
    catalog = load_catalog([COURSE])
    step = catalog.step(full_id)
    assert isinstance(step, ExerciseStep) and step.terms
    return step, catalog.glossary


def session_for(
    step: ExerciseStep, db: Database | None = None, glossary: Glossary | None = None
) -> tuple[ExerciseSession, FakeKernel]:
    kernel = FakeKernel()
    session = ExerciseSession(
        step,
        lambda: kernel,  # type: ignore[arg-type, return-value]
        db=db,
        progress=Progress(db) if db is not None else None,
        glossary=glossary,
    )
    assert session.prepare().verdict is not None
    return session, kernel


def due_terms(db: Database, glossary: Glossary) -> dict[str, Any]:
    return QuizScheduler(db, glossary).store.dues()


def test_a_failed_run_then_a_pass_records_attempts_and_solves(db: Database) -> None:
    step = exercise("neuron")
    session, kernel = session_for(step, db)
    printed: list[str] = []
    failed = session.run("print(1)\ny = 1\n", lambda stream, text: printed.append(text))
    assert failed.verdict == "✗ `y` is wrong.  (F2: a hint)" and failed.state == "failed"
    assert failed.output == ("y: int = 1", "✗ `y` is wrong.", "✗ `y` should be about 0.16.")
    assert printed == ["printed\n"]
    assert session.run_label() == "--- run 2 ---"
    passed = session.run(step.solution)
    assert passed.verdict == "✓ Solved! All checks pass." and passed.state == "passed"
    assert passed.output[-1] == "✓ All checks pass."
    record = Progress(db).step(step.full_id)
    assert record is not None and (record.status, record.attempts) == ("solved", 2)
    assert kernel.calls == ["reset", "answer", "answer"]
    # Solved before: the next opening says so.
    again, _ = session_for(step, db)
    assert again.ready_outcome().verdict is not None
    assert again.ready_outcome().verdict.startswith("✓ Solved before.")  # type: ignore[union-attr]


def test_syntax_errors_never_offer_the_solution(db: Database) -> None:
    session, _ = session_for(exercise("neuron"), db)
    for _ in range(5):
        outcome = session.run("def f(:\n")
        assert outcome.verdict is not None and outcome.verdict.startswith("✗ SyntaxError")
        assert STUCK_NOTE not in outcome.verdict
        assert outcome.note is None  # the solution does not show itself
    assert session.failed_checks == 0
    record = Progress(db).step("drills.neuron")
    assert record is not None and record.attempts == 5  # still recorded as attempts


def test_three_failures_at_the_checks_offer_the_solution_once_and_f3_shows_it(
    db: Database,
) -> None:
    step = exercise("neuron")
    session, _ = session_for(step, db)
    verdicts = []
    for code in ("y = 1", "y = (", "y = 2", "raise", "y = 3", "y = 4"):
        outcome = session.run(code)
        assert outcome.note is None
        verdicts.append(outcome.verdict or "")
    # Only "y = 1", "y = 2", "y = 3" and "y = 4" reached the checks; the third says it, once.
    assert [STUCK_NOTE in v for v in verdicts] == [False, False, False, False, True, False]
    assert session.failed_checks == 4
    shown = session.solution()
    assert shown.note == "Solution:\n" + step.solution.strip() and shown.verdict is None


def test_the_untouched_starter_neither_counts_nor_feeds_the_quiz(db: Database) -> None:
    step, glossary = course_step("tensors.neuron-sum")
    session, _ = session_for(step, db, glossary)
    for _ in range(4):
        outcome = session.run(step.starter)
        assert outcome.state == "failed"
        assert STUCK_NOTE not in (outcome.verdict or "")
    session.run("y = (")  # a SyntaxError makes nothing due either
    session.run("raise")  # nor does a run that stopped before the checks
    assert session.failed_checks == 0
    assert due_terms(db, glossary) == {}
    session.run("y = 1")
    assert set(due_terms(db, glossary)) >= {glossary.lookup(step.terms[0]).id}  # type: ignore[union-attr]


def test_reached_checks_rule() -> None:
    step = exercise("neuron")
    ok, error = RunResult("ok"), RunResult("error", error="SyntaxError: x")
    assert reached_checks(step, "y = 1", ok)
    assert not reached_checks(step, "y = 1", error)
    assert not reached_checks(step, "\n" + step.starter + "  \n", ok)
    assert not reached_checks(step, "y = 1", RunResult("timeout"))


def test_hints_in_order_then_all_of_them_recorded_once_each(db: Database) -> None:
    session, _ = session_for(exercise("neuron"), db)
    first = session.hint()
    assert first.note == "Hint 1/3: Multiply, sum, add the bias, activate."
    assert first.verdict is None and first.show == "note"
    session.hint()
    third = session.hint()
    assert third.note is not None and third.note.count("Hint") == 3
    assert session.hint().note == third.note  # no fourth hint
    record = Progress(db).step("drills.neuron")
    assert record is not None and record.hints_used == 3
    # With every hint shown the verdict stops pointing at F2.
    assert session.run("y = 1").verdict == "✗ `y` is wrong."


def test_no_hints_points_at_the_solution() -> None:
    session, _ = session_for(exercise("matmul"))
    assert session.hint().note == "This step has no hints; F3 shows the solution."


def test_drafts_kept_restored_and_cleared(db: Database) -> None:
    step = exercise("neuron")
    session, _ = session_for(step, db)
    session.edited("y = 5\n")
    session.close()
    assert load_draft(db, step.full_id) == "y = 5\n"
    again, _ = session_for(step, db)
    assert again.code == "y = 5\n" and again.draft_restored
    assert (again.ready_outcome().verdict or "").startswith("Your code from last time")
    again.edited(step.starter)
    again.close()
    assert load_draft(db, step.full_id) is None
    # A run keeps the code as the draft at once (a crash of the app loses nothing).
    third, _ = session_for(step, db)
    third.run("y = 6\n")
    assert load_draft(db, step.full_id) == "y = 6\n"
    save_draft(db, step.full_id, step.starter)  # a stored starter is no draft
    assert not session_for(step, db)[0].draft_restored


def test_code_is_written_only_when_it_changed(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passing through an exercise writes nothing: on a full disk an untouched step would
    otherwise be listed on exit as "resetting your code" the learner never wrote."""
    calls: list[str] = []
    monkeypatch.setattr("tutor.store.drafts.clear_draft", lambda *args: calls.append("clear"))
    real_save = save_draft

    def save(db: Database, step_id: str, code: str) -> None:
        calls.append(code)
        real_save(db, step_id, code)

    monkeypatch.setattr("tutor.store.drafts.save_draft", save)
    step = exercise("neuron")
    session, _ = session_for(step, db)
    session.close()
    assert calls == []
    session, _ = session_for(step, db)
    session.run("y = 5\n")
    session.run("y = 5\n")
    session.close()
    assert calls == ["y = 5\n"]
    again, _ = session_for(step, db)  # the draft comes back and goes unchanged
    assert again.draft_restored
    again.close()
    assert calls == ["y = 5\n"]


def test_reset_then_reset_again_restores_the_starter(db: Database) -> None:
    step = exercise("neuron")
    session, kernel = session_for(step, db)
    session.edited("y = 7\n")
    first = session.reset()
    assert first.clear_output and first.verdict is not None
    assert "F8 again puts the starter code back" in first.verdict
    assert session.reset_armed and kernel.calls[-1] == "reset"
    restored = session.restore_starter()
    assert restored.editor == "y = ...\n" and not session.reset_armed
    assert load_draft(db, step.full_id) is None
    # Anything between the two presses disarms the second one; an unchanged editor never arms it.
    session.edited("y = 8\n")
    session.reset()
    session.hint()
    assert not session.reset_armed
    session.edited(step.starter)
    assert "F8 again" not in (session.reset().verdict or "")


def test_skip_marks_skipped_and_shows_the_solution_check_records_nothing(db: Database) -> None:
    step = exercise("neuron")
    session, kernel = session_for(step, db)
    skipped = session.skip()
    assert (skipped.verdict or "").startswith("Skipped: the reference solution ran")
    assert skipped.note is not None and skipped.note.endswith(step.solution.strip())
    checked = session.check()
    assert checked.verdict == "✗ `y` is wrong." and checked.state == "failed"
    line = session.run_line("y = 1")
    assert line.verdict == "" and line.show == "output" and line.output == ("y: int = 1",)
    assert kernel.calls == ["reset", "reference", "check", "run <repl>"]
    record = Progress(db).step(step.full_id)
    assert record is not None and (record.status, record.attempts) == ("skipped", 0)


def test_kernel_work_waits_for_the_setup() -> None:
    step = exercise("neuron")
    kernel = FakeKernel()
    session = ExerciseSession(step, lambda: kernel)  # type: ignore[arg-type, return-value]
    done = threading.Event()

    def run() -> None:
        session.run("y = 1")
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert not done.wait(0.2) and kernel.calls == []
    session.prepare()
    assert done.wait(5) and kernel.calls == ["reset", "answer"]


def test_a_kernel_that_cannot_start_gives_one_sentence() -> None:
    def broken() -> Kernel:
        raise KernelError("The Python kernel could not start; run `pytorch-tutor doctor`.")

    session = ExerciseSession(exercise("neuron"), broken)
    prepared = session.prepare()
    assert prepared.state == "failed" and "could not start" in (prepared.verdict or "")
    assert "could not start" in (session.run("y = 1").verdict or "")


def test_kernel_host_starts_once_and_refuses_after_close(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[FakeKernel] = []

    def start(**kwargs: Any) -> FakeKernel:
        started.append(FakeKernel())
        return started[-1]

    monkeypatch.setattr(Kernel, "start", staticmethod(start))
    host = KernelHost()
    assert not host.started
    host.warm()
    assert host.get() is host.get() is started[0] and len(started) == 1
    host.close()
    assert started[0].closed
    with pytest.raises(KernelError, match="closing"):
        host.get()
    host.warm()  # no error, no start
    assert len(started) == 1


@pytest.mark.slow
def test_a_real_kernel_runs_and_checks_through_the_session(db: Database) -> None:
    step = exercise("neuron")
    host = KernelHost(spare=False)
    try:
        session = ExerciseSession(step, host.get, db=db, progress=Progress(db))
        assert (session.prepare().verdict or "").startswith("Ready")
        wrong = session.run("y = activation(torch.sum(features * weights)).view(1, 1)\n")
        assert (wrong.verdict or "").startswith("✗ `y` matches the answer without the bias")
        assert "y: tensor (1, 1) float32 on cpu" in wrong.output
        assert session.failed_checks == 1
        assert (session.run(step.solution).verdict or "").startswith("✓ Solved!")
    finally:
        host.close()


def test_describe_summary_lines() -> None:
    assert describe_summary(
        "y", {"kind": "tensor", "shape": [3], "dtype": "int64", "device": "cpu"}
    ) == ("y: tensor (3,) int64 on cpu")
    line = describe_summary(
        "m", {"kind": "module", "type": "Linear", "parameters": 1010, "device": "cpu"}
    )
    assert line == "m: Linear (1,010 parameters) on cpu"


def test_failure_sentence_for_each_kind_of_failed_run() -> None:
    # The kernel's errors: a plain-language line first, then the traceback or syntax error.
    syntax = RunResult(
        "error",
        error=(
            "A bracket opened on line 1 is never closed.\n"
            "  File \"<answer>\", line 1\n    y = (\n        ^\nSyntaxError: '(' was never closed"
        ),
    )
    assert failure_sentence(syntax) == (
        "A bracket opened on line 1 is never closed. SyntaxError: '(' was never closed"
    )
    mixed = RunResult(
        "error",
        error=(
            "Mixed devices: move them with .to(device).\n"
            "Traceback (most recent call last):\n"
            '  File "<answer>", line 2, in <module>\n    y = a + b\n'
            "RuntimeError: Expected all tensors to be on the same device"
        ),
    )
    assert failure_sentence(mixed) == (
        "Mixed devices: move them with .to(device). "
        "RuntimeError: Expected all tensors to be on the same device"
    )
    plain = RunResult("error", error="NameError: name 'q' is not defined")
    assert failure_sentence(plain) == "NameError: name 'q' is not defined"
    stopped = RunResult("timeout", error="Your code ran longer than 5 s.", notice="Restored.")
    assert failure_sentence(stopped) == "Your code ran longer than 5 s. Restored."
