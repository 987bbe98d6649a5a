"""The devices lesson: structure and the contract ids, then every exercise run in a real kernel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tutor.lessons import load_catalog
from tutor.lessons.model import ConceptStep, ExerciseStep, Lesson

LESSON = Path(__file__).resolve().parents[2] / "lessons" / "09-devices.toml"


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    catalog = load_catalog([LESSON])
    assert [str(p) for p in catalog.problems] == []
    found = catalog.lesson("devices")
    assert found is not None
    return found


def exercise(lesson: Lesson, step_id: str) -> ExerciseStep:
    step = lesson.step(step_id)
    assert isinstance(step, ExerciseStep)
    return step


def test_contract_exercises(lesson: Lesson) -> None:
    pick = exercise(lesson, "pick")
    assert pick.defines == ("device",)
    move = exercise(lesson, "move")
    assert move.defines == ("loss",)
    assert {"model", "x", "labels", "criterion", "device"} <= set(move.given)
    assert exercise(lesson, "timing").defines == ("measure",)


def test_concepts_cover_the_topics(lesson: Lesson) -> None:
    pages = "\n".join(s.text for s in lesson.steps if isinstance(s, ConceptStep))
    text = " ".join(pages.split())  # a phrase may wrap onto the next line
    for topic in (
        "torch.cuda.is_available()",
        "torch.device",
        "leaves the original where it was",
        "returns the very same tensor",
        "in place",
        "same device",
        "meta",
        "map_location",
        "synchronize",
        "warms up",
    ):
        assert topic in text, topic
    for step in lesson.steps:
        if isinstance(step, ExerciseStep):
            assert len(step.hints) >= 2 and step.wrong_answers and step.starter.strip()


def verdict(kernel: Any, step: ExerciseStep, code: str) -> tuple[bool, str]:
    assert kernel.reset(step).ok
    _result, outcome = kernel.answer(step, code)
    return outcome.passed, " / ".join(outcome.messages)


@pytest.mark.slow
@pytest.mark.parametrize("step_id", ["pick", "move", "timing"])
def test_each_exercise_proves_out(lesson: Lesson, kernel: Any, step_id: str) -> None:
    # Solution passes, starter fails, every wrong answer fails with its message (as lint does).
    from tutor.lint.prove import prove_step

    assert prove_step(kernel, exercise(lesson, step_id)) == []


@pytest.mark.slow
def test_pick_needs_mps_and_accepts_other_right_answers(lesson: Lesson, kernel: Any) -> None:
    import torch

    step = exercise(lesson, "pick")
    cuda_or_cpu = "device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')"
    passed, message = verdict(kernel, step, cuda_or_cpu)
    if not torch.cuda.is_available():
        assert not passed and "torch.backends.mps.is_available()" in message
    accelerator = (
        "device = torch.accelerator.current_accelerator(check_available=True) "
        "or torch.device('cpu')"
    )
    assert verdict(kernel, step, accelerator) == (True, "All checks pass.")
    helper = (
        "def best():\n"
        "    if torch.cuda.is_available():\n        return torch.device('cuda')\n"
        "    if torch.backends.mps.is_available():\n        return torch.device('mps')\n"
        "    return torch.device('cpu')\n"
        "device = best()\n"
    )
    assert verdict(kernel, step, helper)[0]


@pytest.mark.slow
def test_move_accepts_inline_moves_and_names_the_device(lesson: Lesson, kernel: Any) -> None:
    step = exercise(lesson, "move")
    inline = "model = model.to(device)\nloss = criterion(model(x.to(device)), labels.to(device))"
    assert verdict(kernel, step, inline)[0]
    passed, message = verdict(kernel, step, "loss = criterion(model(x), labels)")
    assert not passed and "move the model (model.to(device))" in message
