"""The catalog: every lesson in a folder plus the glossary, with links between them checked.

A lesson file that cannot be used is kept as a ``BrokenLesson`` so the browser can show it with its
reason while the others load.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tutor.lessons.links import find_links
from tutor.lessons.loader import LESSON_FILE, load_glossary, load_lesson
from tutor.lessons.model import (
    ConceptStep,
    ExerciseStep,
    Glossary,
    Lesson,
    Problem,
    Step,
    TrainingStep,
)

GLOSSARY_FILE = "glossary.toml"


@dataclass(frozen=True)
class BrokenLesson:
    """A lesson file that could not be loaded, and why."""

    path: Path
    problems: tuple[Problem, ...]

    @property
    def reason(self) -> str:
        return self.problems[0].message if self.problems else "unreadable"


@dataclass
class Catalog:
    """Lessons in order, broken lesson files, the glossary and every problem found."""

    lessons: list[Lesson] = field(default_factory=list)
    broken: list[BrokenLesson] = field(default_factory=list)
    glossary: Glossary = field(default_factory=Glossary)
    problems: list[Problem] = field(default_factory=list)

    def lesson(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def steps(self) -> Iterator[Step]:
        for lesson in self.lessons:
            yield from lesson.steps

    def step(self, full_id: str) -> Step | None:
        """The step ``lesson.step``, or None."""
        lesson_id, _, step_id = full_id.partition(".")
        lesson = self.lesson(lesson_id)
        return lesson.step(step_id) if lesson else None

    def step_title(self, full_id: str) -> str:
        """``Tensors › A neuron's sum``: the lesson and step titles, or the id when unknown."""
        lesson = self.lesson(full_id.partition(".")[0])
        step = self.step(full_id)
        if lesson is None or step is None:
            return full_id
        return f"{lesson.title} › {step.title}"

    def step_ids(self) -> list[str]:
        return [step.full_id for step in self.steps()]

    def nearest_steps(self, full_id: str, count: int = 3) -> list[str]:
        """The step ids closest to a mistyped one, best first."""
        ids = self.step_ids()
        close = difflib.get_close_matches(full_id, ids, n=count, cutoff=0.4)
        if close:
            return close
        prefix = full_id.partition(".")[0]
        return [i for i in ids if i.startswith(prefix + ".")][:count]


def _texts(step: Step) -> Iterable[tuple[str, str]]:
    """The Markdown texts of a step that may hold links, each with the key it came from."""
    if isinstance(step, ConceptStep | TrainingStep):
        yield "text", step.text
    elif isinstance(step, ExerciseStep):
        yield "prompt", step.prompt
        for hint in step.hints:
            yield "hints", hint


def _check_links(catalog: Catalog) -> None:
    glossary = catalog.glossary
    for lesson in catalog.lessons:
        for step in lesson.steps:
            for key, text in _texts(step):
                for link in find_links(text):
                    if link.is_step:
                        target = link.target[1:]
                        known = catalog.step(target) if "." in target else catalog.lesson(target)
                        if known is None:
                            catalog.problems.append(
                                Problem(
                                    lesson.path,
                                    f"step {step.id!r} {key}: link to unknown lesson or step {target!r}",
                                    step.line,
                                )
                            )
                    elif glossary.terms and glossary.lookup(link.target) is None:
                        catalog.problems.append(
                            Problem(
                                lesson.path,
                                f"step {step.id!r} {key}: link to unknown glossary term "
                                f"{link.target!r}",
                                step.line,
                            )
                        )
            if isinstance(step, ExerciseStep) and glossary.terms:
                for name in step.terms:
                    if glossary.lookup(name) is None:
                        catalog.problems.append(
                            Problem(
                                lesson.path,
                                f"step {step.id!r} terms: unknown glossary term {name!r}",
                                step.line,
                            )
                        )
    if glossary.path is None:
        return
    for term in glossary.terms:
        for name in term.related:
            if glossary.lookup(name) is None:
                catalog.problems.append(
                    Problem(
                        glossary.path,
                        f"term {term.term!r} related: unknown term {name!r}",
                        term.line,
                    )
                )
        if catalog.lessons:
            for full_id in term.steps:
                if catalog.step(full_id) is None:
                    catalog.problems.append(
                        Problem(
                            glossary.path,
                            f"term {term.term!r} steps: unknown step {full_id!r}",
                            term.line,
                        )
                    )


def load_catalog(paths: Iterable[Path] | None = None) -> Catalog:
    """Load lessons and the glossary from folders or files (default: the bundled lessons).

    Never raises for a bad lesson: every problem lands in ``catalog.problems``.
    """
    if paths is None:
        from tutor.paths import bundled_lessons_dir

        paths = [bundled_lessons_dir()]
    files: list[Path] = []
    catalog = Catalog()
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(path.glob("*.toml")))
        elif path.is_file():
            files.append(path)
        else:
            catalog.problems.append(Problem(path, "no such file or folder"))
    seen_ids: dict[str, Path] = {}
    for file in files:
        if file.name == GLOSSARY_FILE:
            glossary, problems = load_glossary(file)
            catalog.glossary = glossary
            catalog.problems.extend(problems)
            continue
        if not LESSON_FILE.match(file.name):
            catalog.problems.append(
                Problem(file, "lesson files are named NN-slug.toml; the glossary is glossary.toml")
            )
            continue
        lesson, problems = load_lesson(file)
        catalog.problems.extend(problems)
        if lesson is None or not lesson.steps:
            catalog.broken.append(BrokenLesson(file, tuple(problems)))
            continue
        if lesson.id in seen_ids:
            problem = Problem(
                file, f"duplicate lesson id {lesson.id!r} (also {seen_ids[lesson.id]})"
            )
            catalog.problems.append(problem)
            catalog.broken.append(BrokenLesson(file, (problem,)))
            continue
        seen_ids[lesson.id] = file
        catalog.lessons.append(lesson)
    catalog.lessons.sort(key=lambda lesson: (lesson.number, lesson.id))
    _check_links(catalog)
    return catalog
