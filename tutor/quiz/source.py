"""Where the quiz's terms come from: the glossary file, checked so a bad one gets one clear sentence."""

from __future__ import annotations

from pathlib import Path

from tutor.lessons.catalog import GLOSSARY_FILE
from tutor.lessons.loader import load_glossary
from tutor.lessons.model import Glossary


class QuizError(Exception):
    """The quiz cannot start; the message is one sentence for the learner."""


def glossary_path(lessons: Path | None = None) -> Path:
    """The glossary file: ``lessons`` itself when it is a file, else ``glossary.toml`` inside it."""
    if lessons is None:
        from tutor.paths import bundled_lessons_dir

        lessons = bundled_lessons_dir()
    return lessons if lessons.suffix == ".toml" else lessons / GLOSSARY_FILE


def load_quiz_glossary(lessons: Path | None = None) -> Glossary:
    """Load the glossary for a quiz, or raise ``QuizError`` when there is nothing to ask.

    A file with some broken entries still gives a quiz over the good ones: the loader skips bad
    entries, and ``pytorch-tutor lint`` reports them.
    """
    path = glossary_path(lessons)
    if not path.is_file():
        raise QuizError(f"No glossary found at {path}; pass --lessons with a folder that has one.")
    glossary, problems = load_glossary(path)
    if not glossary.terms:
        detail = str(problems[0]) if problems else str(path)
        raise QuizError(
            f"The glossary has no usable terms ({detail}); fix it and run the quiz again."
        )
    return glossary
