"""Lessons: the typed model of lesson and glossary files, and the loader that validates them.

Loading a lesson never runs its code: code runs only in the kernel, when a learner or ``lint`` runs a step.
"""

from tutor.lessons.catalog import Catalog, load_catalog
from tutor.lessons.model import (
    Check,
    ConceptStep,
    ExerciseStep,
    Glossary,
    Lesson,
    Problem,
    Step,
    Term,
    TrainingStep,
    WrongAnswer,
)

__all__ = [
    "Catalog",
    "Check",
    "ConceptStep",
    "ExerciseStep",
    "Glossary",
    "Lesson",
    "Problem",
    "Step",
    "Term",
    "TrainingStep",
    "WrongAnswer",
    "load_catalog",
]
