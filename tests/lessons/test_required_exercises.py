"""The required exercises of design.md, lessons 01-08: each follows the contract (ids, given and
defined names, hints, wrong answers), and each answers right and wrong through
``pytorch-tutor answer``: the reference solution passes (exit 0) and a known wrong answer fails
(exit 1) with that answer's message.

The answer runs start a kernel (and torch) each, so they run a few at a time in one module-scoped
fixture, in their own temporary tutor home, and each test reads its verdict from there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tutor.lessons import Catalog
from tutor.lessons.model import ExerciseStep

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"

# The contract in design.md: step id -> (names the setup must give, names the learner defines).
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
    "inference-validation.accuracy": (("ps", "labels"), ("accuracy",)),
    "inference-validation.dropout": ((), ("Classifier", "model")),
    "inference-validation.validation": (
        ("model", "testloader", "criterion"),
        ("test_loss", "accuracy"),
    ),
    "saving-loading.checkpoint": (("Network", "model", "path"), ()),
    "saving-loading.load": (("Network", "path"), ("load_checkpoint",)),
    "image-data.transforms": (("image", "transforms"), ("train_transforms", "test_transforms")),
    "image-data.loader": (("data_dir", "train_transforms"), ("train_data", "trainloader")),
    "transfer-learning.classifier": (("model", "nn"), ("model",)),
    "transfer-learning.device": (("model",), ("device", "model")),
}


def exercise(catalog: Catalog, step_id: str) -> ExerciseStep:
    step = catalog.step(step_id)
    assert isinstance(step, ExerciseStep), f"{step_id} is missing or not an exercise"
    return step


# --- structure (no code runs) -------------------------------------------------------------------


@pytest.mark.parametrize("step_id", sorted(REQUIRED))
def test_required_exercise_follows_the_contract(catalog: Catalog, step_id: str) -> None:
    step = exercise(catalog, step_id)
    given, defines = REQUIRED[step_id]
    missing = sorted(set(given) - set(step.given))
    assert not missing, f"{step_id} must give {missing}"
    assert tuple(step.defines) == defines
    for name in given:
        assert name in step.setup, f"{step_id}: the setup never mentions {name}"
    assert len(step.hints) == 3, "three tiered hints, mildest first"
    assert step.starter.strip() and step.solution.strip()
    assert step.starter.strip() != step.solution.strip()
    assert len(step.wrong_answers) >= 2
    assert len({w.code.strip() for w in step.wrong_answers}) == len(step.wrong_answers)
    assert step.checks, "an exercise needs checks"
    assert step.terms, "each exercise feeds the quiz with the terms it teaches"


# --- answers through the command line ----------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """One ``pytorch-tutor answer --json`` run: exit code and parsed output."""

    returncode: int
    step: str | None
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
        timeout=300,
        cwd=workdir,
    )
    try:
        data = json.loads(done.stdout)
    except json.JSONDecodeError:
        return Verdict(done.returncode, None, None, (), done.stdout + done.stderr)
    return Verdict(
        done.returncode,
        data.get("step"),
        data.get("passed"),
        tuple(data.get("messages", ())),
        done.stderr,
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
        step = exercise(catalog, full_id)
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
    assert verdict.step == full_id


@pytest.mark.slow
@pytest.mark.parametrize("full_id", sorted(REQUIRED))
def test_wrong_answer_fails_with_its_message(
    catalog: Catalog, verdicts: dict[tuple[str, str], Verdict], full_id: str
) -> None:
    step = exercise(catalog, full_id)
    verdict = verdicts[(full_id, "wrong")]
    assert verdict.passed is False, (verdict.messages, verdict.stderr)
    assert verdict.returncode == 1
    expected = step.wrong_answers[0].message.lower()
    assert any(expected in m.lower() for m in verdict.messages), verdict.messages
