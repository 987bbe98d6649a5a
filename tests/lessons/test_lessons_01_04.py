"""Course content, lessons 01-04 and the glossary: the required exercises answer right and wrong
through ``pytorch-tutor answer``, every exercise is complete, and the glossary holds every term.

The answer runs start a kernel (and torch) each, so they run a few at a time in one module-scoped
fixture, in their own temporary tutor home, and each test reads its verdict from there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tutor.lessons import load_catalog
from tutor.lessons.catalog import Catalog
from tutor.lessons.model import ConceptStep, ExerciseStep, Glossary, TrainingStep

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"
MY_LESSONS = ("tensors", "neural-networks", "training", "fashion-mnist")

# The contract in design.md: step id -> (given names, defined names).
REQUIRED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tensors.neuron-sum": (("features", "weights", "bias", "activation"), ("y",)),
    "tensors.neuron-mm": (("features", "weights", "bias", "activation"), ("y",)),
    "tensors.two-layer": (("features", "W1", "W2", "B1", "B2", "activation"), ("h", "output")),
    "neural-networks.flatten": (("images",), ("inputs",)),
    "neural-networks.softmax": ((), ("softmax",)),
    "neural-networks.network-class": ((), ("Network", "model")),
    "training.nll-loss": (("images", "labels"), ("model", "criterion", "loss")),
    "training.autograd": (("x",), ("z",)),
    "training.loop": (("model", "criterion", "optimizer", "trainloader", "epochs"), ("losses",)),
}

# Every course term and API entry design.md lists, spelled as there.
DESIGN_TERMS = (
    "Tensor", "hyperparameter", "neural network", "MNIST", "activation function",
    "backpropagation", "batch", "batch size", "cross-entropy", "epoch", "hidden layer", "logits",
    "optimizer", "step", "step size (learning rate)", "stochastic gradient descent (SGD)",
    "dropout regularization", "inference", "overfitting", "precision", "recall", "validation set",
    "checkpoint",
)  # fmt: skip
DESIGN_API = (
    "torch.sum", "torch.mm", "torch.matmul", "Tensor.reshape", "Tensor.resize_", "Tensor.view",
    "nn.Sequential", "nn.CrossEntropyLoss", "nn.LogSoftmax", "nn.NLLLoss", "torch.optim",
    "nn.Dropout", "datasets.ImageFolder", "transforms", "DataLoader", "torchvision models", "CUDA",
)  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog([LESSONS])


@pytest.fixture(scope="module")
def glossary(catalog: Catalog) -> Glossary:
    return catalog.glossary


def my_exercises(catalog: Catalog) -> Iterator[ExerciseStep]:
    for lesson_id in MY_LESSONS:
        lesson = catalog.lesson(lesson_id)
        assert lesson is not None, f"lesson {lesson_id} did not load"
        yield from (s for s in lesson.steps if isinstance(s, ExerciseStep))


# --- structure (no code runs) -------------------------------------------------------------------


def test_my_lessons_load_without_problems(catalog: Catalog) -> None:
    mine = {f"{n:02d}-{lesson_id}.toml" for n, lesson_id in enumerate(MY_LESSONS, start=1)}
    mine.add("glossary.toml")
    problems = [str(p) for p in catalog.problems if p.path.name in mine]
    assert problems == []
    assert [lesson.id for lesson in catalog.lessons][:4] == list(MY_LESSONS)


@pytest.mark.parametrize("full_id", sorted(REQUIRED))
def test_required_step_matches_the_contract(catalog: Catalog, full_id: str) -> None:
    step = catalog.step(full_id)
    assert isinstance(step, ExerciseStep), f"{full_id} is missing or not an exercise"
    given, defines = REQUIRED[full_id]
    assert set(given) <= set(step.given)
    assert step.defines == defines


def test_every_exercise_is_complete(catalog: Catalog) -> None:
    exercises = list(my_exercises(catalog))
    assert len(exercises) >= len(REQUIRED)
    for step in exercises:
        assert len(step.hints) == 3, step.full_id
        assert step.starter.strip() and step.solution.strip(), step.full_id
        assert len(step.wrong_answers) >= 2, step.full_id
        assert step.checks, step.full_id
        assert step.terms, step.full_id
        # Expression checks need a sentence saying what is wrong; lint relies on it.
        assert all(c.message for c in step.checks if c.kind == "expr"), step.full_id


# Steps whose typical mistakes the kernel's misconception detectors explain (lint proves each
# detector's message through a wrong answer of the step).
DETECTORS = {
    "tensors.neuron-sum": ["missing-bias", "missing-activation"],
    "tensors.neuron-mm": ["missing-bias", "missing-activation"],
    "neural-networks.flatten": ["transposed"],
    "neural-networks.softmax": ["softmax-wrong-dim"],
}


def test_the_loop_step_uses_the_training_loop_check(catalog: Catalog) -> None:
    # Its zero-grad, kept-tensor and mean-loss explanations live in the check kind.
    step = catalog.step("training.loop")
    assert isinstance(step, ExerciseStep)
    assert [c.kind for c in step.checks] == ["training-loop"]
    assert any("never cleared" in w.message for w in step.wrong_answers)


@pytest.mark.parametrize("full_id", sorted(DETECTORS))
def test_typical_mistakes_use_the_detectors(catalog: Catalog, full_id: str) -> None:
    step = catalog.step(full_id)
    assert isinstance(step, ExerciseStep)
    found = [c.params.get("detector") for c in step.checks if c.kind == "misconception"]
    assert found == DETECTORS[full_id]


def test_the_predict_page_shows_the_trained_classifier(catalog: Catalog) -> None:
    step = catalog.step("fashion-mnist.predict")
    assert isinstance(step, ConceptStep)
    assert step.picture == "classify-trained"


def test_fashion_mnist_trains_the_mlp_below_0_4(catalog: Catalog) -> None:
    lesson = catalog.lesson("fashion-mnist")
    assert lesson is not None
    training = [s for s in lesson.steps if isinstance(s, TrainingStep)]
    assert len(training) == 1
    step = training[0]
    assert (step.model, step.dataset, step.epochs) == ("mlp", "fashion-mnist", 5)
    assert step.target_train_loss == pytest.approx(0.4)


def test_course_values_are_stated_in_the_prompts(catalog: Catalog) -> None:
    for full_id, value in (("tensors.neuron-sum", "0.1595"), ("tensors.two-layer", "0.3171")):
        step = catalog.step(full_id)
        assert isinstance(step, ExerciseStep)
        assert value in step.prompt


def test_no_outdated_pytorch_idioms(catalog: Catalog, glossary: Glossary) -> None:
    """Code the learner sees or runs uses today's API (prose may warn about the old one)."""
    code: list[str] = [term.example for term in glossary.terms]
    for lesson_id in MY_LESSONS:
        lesson = catalog.lesson(lesson_id)
        assert lesson is not None
        for step in lesson.steps:
            if isinstance(step, ExerciseStep):
                code += [step.setup, step.starter, step.solution]
                code += [wrong.code for wrong in step.wrong_answers]
            else:
                # Code blocks in the Markdown pages are the indented lines.
                code += [line for line in step.text.splitlines() if line.startswith("    ")]
    for snippet in code:
        assert ".next()" not in snippet and "pretrained=" not in snippet, snippet


# --- glossary ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DESIGN_TERMS + DESIGN_API)
def test_design_term_is_in_the_glossary(glossary: Glossary, name: str) -> None:
    term = glossary.lookup(name)
    assert term is not None, f"{name!r} is not in lessons/glossary.toml"
    assert term.definition and term.example.strip()
    assert term.kind == ("api" if name in DESIGN_API else "concept")


@pytest.mark.parametrize(
    ("alias", "term"),
    [
        ("SGD", "stochastic gradient descent"),
        ("learning rate", "step size"),
        ("tensors", "Tensor"),
        ("epochs", "epoch"),
        ("hidden layers", "hidden layer"),
        ("dropout", "dropout regularization"),
        ("backprop", "backpropagation"),
    ],
)
def test_aliases_reach_their_term(glossary: Glossary, alias: str, term: str) -> None:
    found = glossary.lookup(alias)
    assert found is not None and found.term == term


def test_glossary_terms_are_complete_and_linked(catalog: Catalog, glossary: Glossary) -> None:
    assert len(glossary.terms) >= len(DESIGN_TERMS) + len(DESIGN_API)
    for term in glossary.terms:
        assert term.related, term.term
        for name in term.related:
            assert glossary.lookup(name) is not None, f"{term.term}: related {name!r}"
        for full_id in term.steps:
            if full_id.partition(".")[0] in MY_LESSONS:
                assert catalog.step(full_id) is not None, f"{term.term}: step {full_id!r}"


# --- answers through the command line ----------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One ``pytorch-tutor answer --json`` run: exit code and parsed output."""

    returncode: int
    passed: bool | None
    messages: tuple[str, ...]
    stderr: str


def _answer(env: dict[str, str], workdir: Path, full_id: str, label: str, code: str) -> Verdict:
    path = workdir / f"{full_id}.{label}.py"
    path.write_text(code, encoding="utf-8")
    command = [sys.executable, "-m", "tutor", "answer", full_id, "--file", str(path), "--json"]
    done = subprocess.run(
        [*command, "--lessons", str(LESSONS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=workdir,
    )
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        return Verdict(done.returncode, None, (), done.stdout + done.stderr)
    return Verdict(
        done.returncode, data.get("passed"), tuple(data.get("messages", ())), done.stderr
    )


@pytest.fixture(scope="module")
def verdicts(
    catalog: Catalog, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], Verdict]:
    """Each required step answered with its solution and its first wrong answer."""
    root = tmp_path_factory.mktemp("answers")
    # Module scope runs before the per-test environment fixture: give the children their own
    # tutor home and data root so no answer lands in a real progress database.
    env = {
        **os.environ,
        "PYTORCH_TUTOR_HOME": str(root / "home"),
        "PYTORCH_TUTOR_DATA": str(root / "data"),
        "TORCH_HOME": str(root / "torch-home"),
    }
    jobs = []
    for full_id in REQUIRED:
        step = catalog.step(full_id)
        assert isinstance(step, ExerciseStep)
        jobs.append((full_id, "solution", step.solution))
        jobs.append((full_id, "wrong", step.wrong_answers[0].code))
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = pool.map(lambda job: _answer(env, root, *job), jobs)
        return {
            (full_id, label): verdict
            for (full_id, label, _), verdict in zip(jobs, results, strict=True)
        }


@pytest.mark.slow
@pytest.mark.parametrize("full_id", sorted(REQUIRED))
def test_solution_passes(verdicts: dict[tuple[str, str], Verdict], full_id: str) -> None:
    verdict = verdicts[(full_id, "solution")]
    assert verdict.passed is True, (verdict.messages, verdict.stderr)
    assert verdict.returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("full_id", sorted(REQUIRED))
def test_wrong_answer_fails_with_its_message(
    catalog: Catalog, verdicts: dict[tuple[str, str], Verdict], full_id: str
) -> None:
    step = catalog.step(full_id)
    assert isinstance(step, ExerciseStep)
    verdict = verdicts[(full_id, "wrong")]
    assert verdict.passed is False, (verdict.messages, verdict.stderr)
    assert verdict.returncode == 1
    expected = step.wrong_answers[0].message.lower()
    assert any(expected in m.lower() for m in verdict.messages), verdict.messages
