"""Typed answers: what the quiz forgives (case, spacing, hyphens, plurals, small typos, aliases,
odd unicode) and what it never accepts (another term, even a close one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.lessons.model import Glossary
from tutor.quiz.matching import check_typed, edit_distance, normalize
from tutor.quiz.source import load_quiz_glossary

FIXTURE = Path(__file__).parents[1] / "fixtures" / "quiz"


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_quiz_glossary(FIXTURE)


ACCEPTED = [
    ("Tensor", "Tensor"),
    ("tensor", "Tensor"),
    ("  TENSOR  ", "Tensor"),
    ("tensors", "Tensor"),
    ("tenser", "Tensor"),
    ("Tensör", "Tensor"),
    ("ｔｅｎｓｏｒ", "Tensor"),  # full-width letters
    ("ten\u200bsor", "Tensor"),  # a zero-width space inside
    ("neural networks", "neural network"),
    ("neural-network", "neural network"),
    ("neuralnetwork", "neural network"),
    ("neural netwrok", "neural network"),  # swapped letters
    ("batches", "batch"),
    ("batch-size", "batch size"),
    ("Batch_Size", "batch size"),
    ("SGD", "stochastic gradient descent (SGD)"),
    ("sgd", "stochastic gradient descent (SGD)"),
    ("stochastic gradient descent", "stochastic gradient descent (SGD)"),
    ("stochastic gradient decent", "stochastic gradient descent (SGD)"),
    ("learning rate", "step size (learning rate)"),
    ("Learning-Rate", "step size (learning rate)"),
    ("step size", "step size (learning rate)"),
    ("backpropogation", "backpropagation"),
    ("epochs", "epoch"),
    ("torch.sum", "torch.sum"),
    ("torch sum", "torch.sum"),
    ("torch.mm", "torch.mm"),
    ("tensor.view", "Tensor.view"),
    ("view", "Tensor.view"),
    ("nn.dropout", "nn.Dropout"),
    ("torch.nn.Dropout", "nn.Dropout"),
    ("Dropout", "nn.Dropout"),
]

REJECTED = [
    ("", "Tensor"),
    ("   ", "Tensor"),
    ("?!", "Tensor"),
    ("batch", "batch size"),  # another term, exactly
    ("batch size", "batch"),
    ("step", "step size (learning rate)"),
    ("step size", "step"),
    ("torch.mm", "torch.sum"),  # close in letters, still another term
    ("torch.sum", "torch.mm"),
    ("torch.mn", "torch.sum"),  # a typo of torch.mm
    ("Tensor", "Tensor.view"),
    ("tensor view", "Tensor"),
    ("epoxy", "epoch"),  # two typos in a short word
    ("overfit", "overfitting"),
    ("backprop", "backpropagation"),  # not an alias in this glossary
    ("lr", "Tensor"),
    ("sdg", "stochastic gradient descent (SGD)"),  # three letters must be exact
    ("x" * 5000, "Tensor"),
    ("🙂", "Tensor"),
]


@pytest.mark.parametrize(("answer", "term"), ACCEPTED)
def test_accepted(glossary: Glossary, answer: str, term: str) -> None:
    target = glossary.lookup(term)
    assert target is not None
    assert check_typed(answer, target, glossary).accepted, answer


@pytest.mark.parametrize(("answer", "term"), REJECTED)
def test_rejected(glossary: Glossary, answer: str, term: str) -> None:
    target = glossary.lookup(term)
    assert target is not None
    assert not check_typed(answer, target, glossary).accepted, answer


def test_rejection_names_the_other_term(glossary: Glossary) -> None:
    target = glossary.lookup("torch.sum")
    assert target is not None
    verdict = check_typed("torch.mm", target, glossary)
    assert verdict.other is not None and verdict.other.term == "torch.mm"


def test_typos_are_counted(glossary: Glossary) -> None:
    target = glossary.lookup("Tensor")
    assert target is not None
    assert check_typed("Tensor", target, glossary).typos == 0
    assert check_typed("tensro", target, glossary).typos == 1


def test_normalize_folds_case_accents_and_separators() -> None:
    assert normalize("Step-Size (Learning Rate)") == "stepsizelearningrate"
    assert normalize("Ｔｅｎｓöｒ\u200d") == "tensor"
    assert normalize("\x00\x1b[31m") == "31m"


def test_edit_distance_is_bounded() -> None:
    assert edit_distance("tensor", "tensor", 1) == 0
    assert edit_distance("tensor", "tesnor", 1) == 1
    assert edit_distance("tensor", "vector", 1) == 2  # more than the limit: limit + 1
    assert edit_distance("a" * 1000, "b", 2) == 3
