"""What screens say, checked in words: which run reached a training goal, quiz step titles and
counts across a mode switch, CPU threads and cores told alike everywhere, array summaries."""

from __future__ import annotations

import io
import random
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers.apps import HostApp
from helpers.machines import cpu_report
from textual.widgets import Static

from tutor.devices.report_text import auto_text, report_text, training_cpu_text
from tutor.exercises.text import describe_summary
from tutor.lessons import load_catalog
from tutor.lessons.model import Glossary
from tutor.quiz.plain import run_plain
from tutor.quiz.scheduler import QuizScheduler
from tutor.quiz.session import QuizSession
from tutor.store.db import Database
from tutor.training.config import TrainConfig
from tutor.training.runs import RunInfo
from tutor.training.setup import cpu_device_text
from tutor.ui.screens.devices import DevicesScreen
from tutor.ui.screens.quiz import QuizApp, QuizScreen
from tutor.ui.widgets.training_step import step_runs_text

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def run_info(run_id: str, state: str, epoch: int, loss: float | None) -> RunInfo:
    return RunInfo(
        id=run_id,
        path=Path(run_id),
        config=TrainConfig(model="mlp", epochs=5),
        state=state,
        epoch=epoch,
        train_loss=loss,
    )


# Training goal ------------------------------------------------------------------------------


def test_a_goal_reached_by_an_earlier_run_names_that_run() -> None:
    last = run_info("20260112-150000-mlp-bbbb", "stopped", 0, None)
    earlier = run_info("20260112-140000-mlp-aaaa", "done", 5, 0.352)
    text, reached = step_runs_text([last, earlier], 0.4)
    first, second = text.splitlines()
    assert reached
    # The last run's own state, and nothing about the goal on its line.
    assert first == "Last run 20260112-150000-mlp-bbbb: stopped, epoch 0/5."
    assert second == (
        "Goal reached by the earlier run 20260112-140000-mlp-aaaa (train loss 0.352, below 0.4)."
    )


def test_a_goal_reached_by_the_last_run_or_by_none() -> None:
    last = run_info("20260112-150000-mlp-bbbb", "done", 5, 0.31)
    text, reached = step_runs_text([last], 0.4)
    assert reached and text.endswith("\nGoal reached by this run: a training loss below 0.4.")
    assert "train loss 0.310" in text.splitlines()[0]
    slow = run_info("20260112-160000-mlp-cccc", "done", 5, 0.55)
    text, reached = step_runs_text([slow], 0.4)
    assert not reached and text.endswith("Goal not reached yet: a training loss below 0.4.")
    assert step_runs_text([], 0.4) == ("No run of this step yet.", False)
    assert step_runs_text([slow], None)[0] == (
        "Last run 20260112-160000-mlp-cccc: done, epoch 5/5, train loss 0.550."
    )


# Quiz -----------------------------------------------------------------------------------------


def test_steps_are_named_by_lesson_and_step_titles() -> None:
    catalog = load_catalog()
    assert catalog.step_title("tensors.neuron-sum") == (
        "Tensors: the numbers a network is made of › A neuron, with a sum"
    )
    assert catalog.step_title("no-such.step") == "no-such.step"


def test_plain_quiz_names_the_step_by_its_titles(db: Database, glossary: Glossary) -> None:
    session = QuizSession(
        QuizScheduler(db, glossary, lambda: T0), "choice", 1, rng=random.Random(3)
    )
    assert session.question is not None
    right = session.question.answer_index + 1
    out = io.StringIO()
    run_plain(session, io.StringIO(f"{right}\n"), out, {"tensors.intro": "Tensors › Intro"}.get)
    assert "Taught in: Tensors › Intro" in out.getvalue()
    assert "tensors.intro" not in out.getvalue()


def quiz_app(glossary: Glossary, db: Database, count: int) -> QuizApp:
    return QuizApp(
        glossary,
        db,
        mode="choice",
        count=count,
        clock=lambda: T0,
        rng=random.Random(5),
        step_title={"tensors.intro": "Tensors › What a tensor is"}.get,
    )


async def test_feedback_names_the_step_and_a_mode_switch_keeps_counting(
    glossary: Glossary, db: Database
) -> None:
    app = quiz_app(glossary, db, count=3)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, QuizScreen) and screen.session is not None
        status = screen.query_one("#quiz-status", Static)
        assert "question 1/3" in str(status.render())
        question = screen.session.question
        assert question is not None and question.term.steps == ("tensors.intro",)
        await pilot.press(str(question.answer_index + 1))
        feedback = str(screen.query_one("#quiz-feedback", Static).render())
        assert "Taught in: Tensors › What a tensor is" in feedback
        await pilot.press("m")  # the answered question counts; the next comes in the new mode
        assert screen.session.mode == "typed"
        assert "question 2/3" in str(status.render())
        assert screen.session.summary.asked == 1
        await pilot.press("f3")  # unanswered: the same place in the count, asked in code mode
        assert screen.session.mode == "code"
        assert "question 2/" in str(status.render())
        asked = [term.id for term in screen.session.terms]
        assert len(asked) == len(set(asked))  # no term twice in one sitting


def test_switching_mode_keeps_the_unanswered_place(db: Database, glossary: Glossary) -> None:
    session = QuizSession(
        QuizScheduler(db, glossary, lambda: T0), "choice", 3, rng=random.Random(1)
    )
    assert session.question is not None and session.index == 0
    session.switch_mode("typed")
    assert session.index == 0 and session.question is not None
    assert session.question.mode == "typed" and session.position == "1/3"


# Threads and cores --------------------------------------------------------------------------


CPU_REPORT: dict[str, Any] = cpu_report()


def test_devices_and_training_say_threads_and_cores_alike() -> None:
    both = "1 thread of 2 cores (1 left free for the UI"
    training = cpu_device_text("cpu, 1 thread", 1, 2, chosen=False)
    assert training == f"cpu, {both})"
    assert training_cpu_text(CPU_REPORT) == f"cpu, up to {both})"
    assert auto_text(CPU_REPORT) == (
        f"cpu, up to {both}; auto: no CUDA, since this PyTorch is a CPU-only build)"
    )
    text = report_text(CPU_REPORT)
    assert "2 threads" not in text and "torch uses" not in text


async def test_the_devices_screen_says_what_training_takes() -> None:
    app = HostApp(lambda: DevicesScreen(probe=lambda cancel: dict(CPU_REPORT)))
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        note = str(app.screen.query_one("#device-note", Static).render())
        report = str(app.screen.query_one("#device-text", Static).render())
    assert note.startswith("Training uses: cpu, up to 1 thread of 2 cores (1 left free for the UI")
    assert "training on it: cpu, up to 1 thread of 2 cores" in report


# REPL summaries -----------------------------------------------------------------------------


def test_numpy_arrays_are_summed_up_by_shape_and_dtype() -> None:
    import numpy as np

    from tutor.execution.runner import describe

    info = describe(np.zeros((2, 3)))
    assert info == {"kind": "array", "shape": [2, 3], "dtype": "float64"}
    assert describe_summary("c", info) == "c: ndarray (2, 3) float64"
    assert describe_summary("v", describe(np.arange(4, dtype=np.int32))) == "v: ndarray (4,) int32"
    # Other objects are named once, not "list = list".
    assert describe_summary("xs", describe([1, 2])) == "xs: list"
    assert describe_summary("n", describe(3)) == "n: int = 3"
