"""Typed objects for lessons, steps and the glossary, as the loader builds them from TOML."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Literal


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a lesson file, printed as ``file:line: message``."""

    path: Path
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Check:
    """A declarative check of an exercise: its kind, its parameters and an optional own message."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    message: str | None = None


@dataclass(frozen=True)
class WrongAnswer:
    """A known wrong answer and the text its failure message must contain (proved by ``lint``)."""

    code: str
    message: str


@dataclass(frozen=True)
class CorrectAnswer:
    """Another right way to solve an exercise (``lint`` proves it passes); ``note`` says which,
    and ``tip``, when given, is text the passing verdict's tip must contain."""

    code: str
    note: str = ""
    tip: str = ""


@dataclass(frozen=True)
class StepBase:
    """Fields every step has. ``id`` is the short id; ``full_id`` is ``lesson.step``."""

    id: str
    lesson_id: str
    title: str
    line: int | None

    @property
    def full_id(self) -> str:
        return f"{self.lesson_id}.{self.id}"


@dataclass(frozen=True)
class ConceptStep(StepBase):
    """A short concept page in Markdown, with ``[[term]]`` glossary links.

    ``picture`` names a picture drawn under the text (see ``PICTURES``), or is None. ``setup`` is
    code ``lint`` runs before the page's code blocks (never shown), or ``@step`` for an exercise's.
    """

    text: str = ""
    picture: str | None = None
    setup: str = ""
    kind: Literal["concept"] = "concept"


@dataclass(frozen=True)
class ExerciseStep(StepBase):
    """A REPL-style task: setup runs first, the learner's code next, then the checks."""

    prompt: str = ""
    setup: str = ""
    starter: str = ""
    solution: str = ""
    hints: tuple[str, ...] = ()
    given: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    wrong_answers: tuple[WrongAnswer, ...] = ()
    correct_answers: tuple[CorrectAnswer, ...] = ()
    timeout: float = 5.0
    terms: tuple[str, ...] = ()
    kind: Literal["exercise"] = "exercise"


@dataclass(frozen=True)
class TrainingStep(StepBase):
    """A step that trains a named lesson model with the trainer and shows the live chart."""

    text: str = ""
    model: str = ""
    dataset: str = "fashion-mnist"
    epochs: int = 1
    batch_size: int = 64
    lr: float = 0.003
    optimizer: str = "adam"
    target_train_loss: float | None = None
    kind: Literal["training"] = "training"


Step = ConceptStep | ExerciseStep | TrainingStep

# Pictures a concept page may show under its text, with what each draws.
PICTURES = {
    "samples": "a row of Fashion-MNIST images from the bundled sample, with their classes",
    "transforms": "the lesson image before and after each transform",
    "classify-untrained": "an image beside an untrained network's class probabilities",
    "classify-trained": "an image beside the newest trained classifier's class probabilities",
}


@dataclass(frozen=True)
class Lesson:
    """One lesson file: ``lessons/NN-slug.toml``; the slug is the lesson id."""

    id: str
    number: int
    title: str
    summary: str
    path: Path
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step | None:
        """The step with this short id, or None."""
        return next((s for s in self.steps if s.id == step_id), None)

    def index_of(self, step_id: str) -> int:
        """The position of a step, or 0 when the id is unknown."""
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), 0)


@dataclass(frozen=True)
class Term:
    """A glossary entry: a course term or an API entry."""

    id: str
    term: str
    definition: str
    kind: Literal["concept", "api"] = "concept"
    aliases: tuple[str, ...] = ()
    example: str = ""
    related: tuple[str, ...] = ()
    steps: tuple[str, ...] = ()
    line: int | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The term and its aliases: every spelling a link or a typed answer may use."""
        return (self.term, *self.aliases)


def term_id(name: str) -> str:
    """The stable id of a term: lower case, runs of anything but letters and digits become ``-``.

    ``Tensor.view`` becomes ``tensor-view``; ``step size (learning rate)`` becomes
    ``step-size-learning-rate``. Quiz cards are keyed by it, so it must never depend on the clock.
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@dataclass(frozen=True)
class Glossary:
    """All terms, with lookup by id, name or alias (case-insensitive)."""

    terms: tuple[Term, ...] = ()
    path: Path | None = None

    @cached_property
    def _index(self) -> dict[str, Term]:
        """Every spelling's id mapped to its term; the first term wins, as the loader reports."""
        index: dict[str, Term] = {}
        for term in self.terms:
            for key in (term.id, *(term_id(name) for name in term.names)):
                index.setdefault(key, term)
        return index

    def lookup(self, name: str) -> Term | None:
        """The term named ``name`` (its term, an alias or its id), or None."""
        return self._index.get(term_id(name))
