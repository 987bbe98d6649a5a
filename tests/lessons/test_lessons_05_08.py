"""Lessons 05-08 (inference-validation, saving-loading, image-data, transfer-learning).

Fast tests check what design.md asks of these lessons without running code: the values the checks
rely on, links, page sizes and training steps. A slow test runs the code: ``pytorch-tutor lint``
proves every exercise of these lessons with one kernel. The required exercises (contract, answers
right and wrong through ``pytorch-tutor answer``) are checked in ``test_required_exercises.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tutor.lessons import Catalog
from tutor.lessons.links import find_links
from tutor.lessons.model import ConceptStep, ExerciseStep, Lesson, TrainingStep

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"
FILES = {
    "inference-validation": LESSONS / "05-inference-validation.toml",
    "saving-loading": LESSONS / "06-saving-loading.toml",
    "image-data": LESSONS / "07-image-data.toml",
    "transfer-learning": LESSONS / "08-transfer-learning.toml",
}

# Training steps these lessons need: step id -> (model, dataset) as `pytorch-tutor train` names them.
TRAINING = {
    "inference-validation.train-dropout": ("mlp-dropout", "fashion-mnist"),
    "transfer-learning.train-transfer": ("transfer", "image-folder"),
}


def lesson(catalog: Catalog, lesson_id: str) -> Lesson:
    found = catalog.lesson(lesson_id)
    assert found is not None, f"lesson {lesson_id} did not load: {catalog.problems}"
    return found


def exercise(catalog: Catalog, step_id: str) -> ExerciseStep:
    step = catalog.step(step_id)
    assert isinstance(step, ExerciseStep), f"{step_id} should be an exercise step"
    return step


def test_the_four_lessons_load_without_problems(catalog: Catalog) -> None:
    mine = {path.resolve() for path in FILES.values()}
    problems = [str(p) for p in catalog.problems if p.path.resolve() in mine]
    assert problems == []
    for lesson_id, path in FILES.items():
        assert lesson(catalog, lesson_id).path.resolve() == path.resolve()


def test_contract_values_the_checks_rely_on(catalog: Catalog) -> None:
    classifier = exercise(catalog, "transfer-learning.classifier")
    assert "densenet121(weights=None)" in classifier.setup
    assert "262,914" in classifier.prompt
    # 1024 * 256 + 256 + 256 * 2 + 2: only the new head trains.
    assert 1024 * 256 + 256 + 256 * 2 + 2 == 262_914
    accuracy = exercise(catalog, "inference-validation.accuracy")
    detectors = [c.params.get("detector") for c in accuracy.checks if c.kind == "misconception"]
    assert detectors == ["broadcast-nn"]
    checkpoint = exercise(catalog, "saving-loading.checkpoint")
    assert "weights_only=True" in " ".join(c.params.get("expr", "") for c in checkpoint.checks)
    transforms = exercise(catalog, "image-data.transforms")
    assert all(t in transforms.solution for t in ("Resize(255)", "CenterCrop(224)", "ToTensor()"))
    loader = exercise(catalog, "image-data.loader")
    assert "batch_size=32" in loader.solution and "shuffle=True" in loader.solution


def test_modern_pytorch_spellings_only() -> None:
    for path in FILES.values():
        text = path.read_text(encoding="utf-8")
        assert "pretrained=True" not in text.replace("`pretrained=True`", "")
        assert ".next()" not in text.replace("iter(trainloader).next()", "")
        for line in text.splitlines():
            if "torch.load(" in line and "weights_only" not in line and "map_location" not in line:
                pytest.fail(f"{path.name}: torch.load without weights_only: {line.strip()}")


@pytest.mark.parametrize("step_id", sorted(TRAINING))
def test_training_steps_name_models_train_knows(catalog: Catalog, step_id: str) -> None:
    step = catalog.step(step_id)
    assert isinstance(step, TrainingStep)
    assert (step.model, step.dataset) == TRAINING[step_id]
    assert step.epochs >= 1 and step.text.strip()


@pytest.mark.parametrize("lesson_id", sorted(FILES))
def test_concept_pages_are_a_screen_or_two_without_tables(catalog: Catalog, lesson_id: str) -> None:
    concepts = [s for s in lesson(catalog, lesson_id).steps if isinstance(s, ConceptStep)]
    assert concepts, "every lesson explains before it asks"
    for step in concepts:
        wrapped = [
            row for line in step.text.strip().splitlines() for row in textwrap.wrap(line) or [""]
        ]
        assert len(wrapped) <= 50, f"{step.full_id} is {len(wrapped)} lines at 80 columns"
        assert not any(line.lstrip().startswith("|") for line in step.text.splitlines())


@pytest.mark.parametrize("lesson_id", sorted(FILES))
def test_links_point_at_glossary_terms_and_steps(catalog: Catalog, lesson_id: str) -> None:
    assert catalog.glossary.terms, "the glossary (lessons/glossary.toml) must not be empty"
    texts = []
    for step in lesson(catalog, lesson_id).steps:
        texts.append(getattr(step, "text", "") or getattr(step, "prompt", ""))
    links = [link for text in texts for link in find_links(text)]
    assert links, "lessons link the glossary terms they use"
    for link in links:
        if link.is_step:
            assert catalog.step(link.target[1:]) or catalog.lesson(link.target[1:]), link.target
        else:
            assert catalog.glossary.lookup(link.target), f"no glossary term {link.target!r}"


# --- running the code (slow: each needs torch in a kernel child) -------------------------------


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tutor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


@pytest.mark.slow
def test_lint_proves_every_exercise_of_these_lessons() -> None:
    result = cli("lint", *(str(path) for path in FILES.values()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().startswith("Clean")
