"""The distributed lesson: structure, glossary links, then every exercise proven in a real kernel.

The two-rank checks (``distributed.average``, ``distributed.save``) start two gloo ranks on
127.0.0.1 themselves; the slow tests here run them for the reference solution, every wrong answer
and a few other right answers.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from tutor.lessons.catalog import Catalog
from tutor.lessons.links import find_links
from tutor.lessons.model import ConceptStep, ExerciseStep, Lesson

LESSONS = Path(__file__).resolve().parents[2] / "lessons"
EXERCISES = ("sampler", "wrap", "average", "save")
TERMS = (
    "data parallelism", "DistributedDataParallel", "rank", "world size", "process group",
    "all-reduce", "torchrun", "NCCL", "gloo",
)  # fmt: skip


@pytest.fixture(scope="module")
def lesson(catalog: Catalog) -> Lesson:
    problems = [str(p) for p in catalog.problems if p.path.name == "10-distributed.toml"]
    assert problems == []
    found = catalog.lesson("distributed")
    assert found is not None
    assert found.path.name == "10-distributed.toml"
    return found


def exercise(lesson: Lesson, step_id: str) -> ExerciseStep:
    step = lesson.step(step_id)
    assert isinstance(step, ExerciseStep), step_id
    return step


def test_the_four_exercises_are_complete(lesson: Lesson) -> None:
    for step_id in EXERCISES:
        step = exercise(lesson, step_id)
        assert len(step.hints) == 3 and step.starter.strip() and step.solution.strip()
        assert len(step.wrong_answers) >= 3, step_id
        assert step.terms and step.checks
        assert all(c.message for c in step.checks if c.kind == "expr"), step_id
    assert exercise(lesson, "sampler").defines == ("sampler", "indices", "loader")
    assert exercise(lesson, "wrap").defines == ("ddp_model", "loss")
    assert exercise(lesson, "average").defines == ("average",)
    assert exercise(lesson, "save").defines == ("save_checkpoint",)


def test_concepts_cover_the_topics(lesson: Lesson) -> None:
    text = "\n".join(s.text for s in lesson.steps if isinstance(s, ConceptStep))
    for topic in (
        "one process per device", "all-reduce", '"nccl"', '"gloo"', "local rank",
        "--nproc-per-node", "--nnodes", "--node-rank", "--rdzv-endpoint", "LOCAL_RANK",
        "WORLD_SIZE", "set_epoch", "global batch", "learning rate",
        "ddp_model.module.state_dict()", "dist.all_reduce", "EADDRINUSE", "Timed out",
        "device_ids",
    ):  # fmt: skip
        assert topic.lower() in text.lower(), topic


def test_pages_fit_the_reader(lesson: Lesson) -> None:
    for step in lesson.steps:
        body = step.text if isinstance(step, ConceptStep) else getattr(step, "prompt", "")
        rows = [r for line in body.strip().splitlines() for r in textwrap.wrap(line) or [""]]
        assert len(rows) <= 50, f"{step.full_id} is {len(rows)} lines at 80 columns"
        assert not any(line.lstrip().startswith("|") for line in body.splitlines()), step.full_id


def test_glossary_has_the_terms_and_the_lesson_links_them(catalog: Catalog, lesson: Lesson) -> None:
    linked: set[str] = set()
    for step in lesson.steps:
        body = step.text if isinstance(step, ConceptStep) else getattr(step, "prompt", "")
        for link in find_links(body):
            term = catalog.glossary.lookup(link.target)
            if term is not None:
                linked.add(term.term)
    for name in TERMS:
        term = catalog.glossary.lookup(name)
        assert term is not None, name
        assert term.definition and term.example.strip() and term.related
        assert any(s.startswith("distributed.") for s in term.steps), name
        assert name in linked, f"the lesson never links [[{name}]]"
    assert catalog.glossary.lookup("DDP").term == "DistributedDataParallel"


# --- in a real kernel -----------------------------------------------------------------------------


def verdict(kernel: Any, step: ExerciseStep, code: str) -> tuple[bool, str]:
    assert kernel.reset(step).ok
    _result, outcome = kernel.answer(step, code)
    return outcome.passed, " / ".join(outcome.messages)


@pytest.mark.slow
@pytest.mark.parametrize("step_id", EXERCISES)
def test_each_exercise_proves_out(lesson: Lesson, kernel: Any, step_id: str) -> None:
    # The solution passes, the starter fails, each wrong answer fails with its message.
    from tutor.lint.prove import prove_step

    assert prove_step(kernel, exercise(lesson, step_id)) == []


@pytest.mark.slow
def test_other_right_answers_pass(lesson: Lesson, kernel: Any) -> None:
    average = exercise(lesson, "average")
    with_avg = (
        "def average(value):\n"
        "    t = torch.tensor([value])\n"
        "    dist.all_reduce(t, op=dist.ReduceOp.AVG)\n"
        "    return t.item()\n"
    )
    assert verdict(kernel, average, with_avg) == (True, "All checks pass.")
    save = exercise(lesson, "save")
    by_environment = (
        "import os\n"
        "def save_checkpoint(ddp_model, path):\n"
        "    if int(os.environ['RANK']) == 0:\n"
        "        torch.save(ddp_model.module.state_dict(), path)\n"
        "    dist.barrier()\n"
    )
    assert verdict(kernel, save, by_environment) == (True, "All checks pass.")


@pytest.mark.slow
def test_the_group_survives_resets_and_a_learner_who_destroys_it(
    lesson: Lesson, kernel: Any
) -> None:
    step = exercise(lesson, "sampler")
    destroy = step.solution + "\ndist.destroy_process_group()\n"
    assert verdict(kernel, step, destroy)[0]
    # The next reset starts a fresh group: the wrong answer that relies on it still gets its hint.
    passed, message = verdict(kernel, step, step.wrong_answers[0].code)
    assert not passed and "num_replicas=world_size" in message
    assert verdict(kernel, step, step.solution) == (True, "All checks pass.")
