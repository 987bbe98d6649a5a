"""Course content, lessons 01-04 and the glossary: every exercise is complete, the pages state the
course's values in today's PyTorch, and the glossary holds every term. The required exercises are
checked in ``test_required_exercises.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.lessons.catalog import Catalog
from tutor.lessons.model import ConceptStep, ExerciseStep, Glossary, TrainingStep

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"
MY_LESSONS = ("tensors", "neural-networks", "training", "fashion-mnist")

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


def test_every_exercise_is_complete(catalog: Catalog) -> None:
    exercises = list(my_exercises(catalog))
    assert len(exercises) >= 9  # the nine required ones (tests/lessons/test_required_exercises.py)
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
