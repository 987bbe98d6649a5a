"""Parse lesson and glossary TOML files into typed objects, reporting every problem with its line.

Each file is parsed on its own: a broken file yields problems and no lesson, and never stops the
others from loading. Cross-file links (terms, steps, lessons) are checked by ``catalog``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.lessons.model import (
    PICTURES,
    Check,
    ConceptStep,
    CorrectAnswer,
    ExerciseStep,
    Glossary,
    Lesson,
    Problem,
    Step,
    Term,
    TrainingStep,
    WrongAnswer,
    term_id,
)
from tutor.lessons.toml_lines import LineMap, scan

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

LESSON_FILE = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9]+(?:-[a-z0-9]+)*)\.toml$")
STEP_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
STEP_KINDS = ("concept", "exercise", "training")


@dataclass(frozen=True)
class FieldSpec:
    """One allowed key: the Python type(s) it must have and whether it is required."""

    types: tuple[type, ...]
    required: bool = False
    type_name: str = ""


def _spec(*types: type, required: bool = False, name: str = "") -> FieldSpec:
    return FieldSpec(types, required, name or " or ".join(t.__name__ for t in types))


_STR = _spec(str)
_REQ_STR = _spec(str, required=True)
_STR_LIST = _spec(list, name="list of strings")
_NUMBER = _spec(int, float, name="number")
_INT = _spec(int, name="integer")

LESSON_FIELDS = {"id": _REQ_STR, "title": _REQ_STR, "summary": _STR, "steps": _spec(list)}
STEP_COMMON = {"id": _REQ_STR, "kind": _REQ_STR, "title": _REQ_STR}
STEP_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "concept": {**STEP_COMMON, "text": _REQ_STR, "picture": _STR, "setup": _STR},
    "exercise": {
        **STEP_COMMON,
        "prompt": _REQ_STR,
        "setup": _STR,
        "starter": _STR,
        "solution": _REQ_STR,
        "hints": _STR_LIST,
        "given": _STR_LIST,
        "defines": _STR_LIST,
        "checks": _spec(list, name="list of tables"),
        "wrong_answers": _spec(list, name="list of tables"),
        "correct_answers": _spec(list, name="list of tables"),
        "timeout": _NUMBER,
        "terms": _STR_LIST,
    },
    "training": {
        **STEP_COMMON,
        "text": _REQ_STR,
        "model": _REQ_STR,
        "dataset": _STR,
        "epochs": _INT,
        "batch_size": _INT,
        "lr": _NUMBER,
        "optimizer": _STR,
        "target_train_loss": _NUMBER,
    },
}
WRONG_ANSWER_FIELDS = {"code": _REQ_STR, "message": _REQ_STR}
CORRECT_ANSWER_FIELDS = {"code": _REQ_STR, "note": _STR, "tip": _STR}
TERM_FIELDS = {
    "term": _REQ_STR,
    "definition": _REQ_STR,
    "kind": _STR,
    "aliases": _STR_LIST,
    "example": _STR,
    "related": _STR_LIST,
    "steps": _STR_LIST,
}


class _Reporter:
    """Collects problems for one file, finding lines through the scanned ``LineMap``."""

    def __init__(self, path: Path, lines: LineMap | None) -> None:
        self.path = path
        self.lines = lines
        self.problems: list[Problem] = []

    def add(self, message: str, line: int | None = None) -> None:
        self.problems.append(Problem(self.path, message, line))

    def line(self, array: str | None, index: int, key: str | None = None) -> int | None:
        if self.lines is None:
            return None
        if array is None:
            return self.lines.root.keys.get(key or "", None)
        return self.lines.line_of(array, index, key)


def _read_toml(path: Path, report: _Reporter) -> dict[str, Any] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        report.add(
            f"cannot read the file ({exc.__class__.__name__}: {exc}); check it exists and is UTF-8"
        )
        return None
    report.lines = scan(text)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        line = int(match.group(1)) if match else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        report.add(f"invalid TOML: {message}", line)
        return None


def _check_fields(
    table: dict[str, Any],
    fields: dict[str, FieldSpec],
    report: _Reporter,
    what: str,
    where: Callable[[str | None], int | None],
) -> bool:
    """Report unknown keys, missing required keys and wrong types; True when all is well."""
    ok = True
    for key in table:
        if key not in fields:
            known = ", ".join(sorted(fields))
            report.add(f"{what}: unknown key {key!r} (known keys: {known})", where(key))
            ok = False
    for key, spec in fields.items():
        if key not in table:
            if spec.required:
                report.add(f"{what}: missing required key {key!r}", where(None))
                ok = False
            continue
        value = table[key]
        bad_type = not isinstance(value, spec.types) or isinstance(value, bool)
        if spec is _STR_LIST and isinstance(value, list):
            bad_type = not all(isinstance(item, str) for item in value)
        if bad_type:
            report.add(
                f"{what}: {key!r} must be a {spec.type_name}, not {type(value).__name__}",
                where(key),
            )
            ok = False
    return ok


def _tuple(table: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(table.get(key, ()))


def _build_checks(raw: list[Any], step_index: int, report: _Reporter, what: str) -> list[Check]:
    checks = []
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
            report.add(f"{what}: check {position} needs a 'kind' string", None)
            continue
        params = {k: v for k, v in item.items() if k not in ("kind", "message")}
        message = item.get("message")
        checks.append(Check(item["kind"], params, message if isinstance(message, str) else None))
    return checks


def _build_step(lesson_id: str, raw: Any, index: int, report: _Reporter) -> Step | None:
    def where(key: str | None) -> int | None:
        return report.line("steps", index, key)

    if not isinstance(raw, dict):
        report.add(f"step {index + 1} must be a table ([[steps]])", where(None))
        return None
    step_id = raw.get("id")
    what = f"step {step_id!r}" if isinstance(step_id, str) else f"step {index + 1}"
    kind = raw.get("kind")
    if kind not in STEP_KINDS:
        report.add(
            f"{what}: 'kind' must be one of {', '.join(STEP_KINDS)}, not {kind!r}", where("kind")
        )
        return None
    if not _check_fields(raw, STEP_FIELDS[kind], report, what, where):
        return None
    if not STEP_ID.match(raw["id"]):
        report.add(f"{what}: ids use lower-case letters, digits and single hyphens", where("id"))
        return None
    common = {"id": raw["id"], "lesson_id": lesson_id, "title": raw["title"], "line": where(None)}
    if kind == "concept":
        picture = raw.get("picture")
        if picture is not None and picture not in PICTURES:
            choices = ", ".join(PICTURES)
            report.add(
                f"{what}: 'picture' must be one of {choices}, not {picture!r}", where("picture")
            )
            picture = None
        return ConceptStep(**common, text=raw["text"], picture=picture, setup=raw.get("setup", ""))
    if kind == "training":
        return TrainingStep(
            **common,
            text=raw["text"],
            model=raw["model"],
            dataset=raw.get("dataset", "fashion-mnist"),
            epochs=raw.get("epochs", 1),
            batch_size=raw.get("batch_size", 64),
            lr=float(raw.get("lr", 0.003)),
            optimizer=raw.get("optimizer", "adam"),
            target_train_loss=raw.get("target_train_loss"),
        )
    checks = _build_checks(raw.get("checks", []), index, report, what)
    wrong = []
    for position, item in enumerate(raw.get("wrong_answers", []), start=1):
        label = f"{what}: wrong answer {position}"
        if not isinstance(item, dict):
            report.add(f"{label} must be a table with 'code' and 'message'", where("wrong_answers"))
            continue
        if _check_fields(item, WRONG_ANSWER_FIELDS, report, label, lambda _k: None):
            wrong.append(WrongAnswer(item["code"], item["message"]))
    correct = []
    for position, item in enumerate(raw.get("correct_answers", []), start=1):
        label = f"{what}: correct answer {position}"
        if not isinstance(item, dict):
            report.add(f"{label} must be a table with 'code'", where("correct_answers"))
            continue
        if _check_fields(item, CORRECT_ANSWER_FIELDS, report, label, lambda _k: None):
            correct.append(CorrectAnswer(item["code"], item.get("note", ""), item.get("tip", "")))
    timeout = raw.get("timeout", 5.0)
    if timeout <= 0:
        report.add(f"{what}: 'timeout' must be positive seconds", where("timeout"))
        timeout = 5.0
    return ExerciseStep(
        **common,
        prompt=raw["prompt"],
        setup=raw.get("setup", ""),
        starter=raw.get("starter", ""),
        solution=raw["solution"],
        hints=_tuple(raw, "hints"),
        given=_tuple(raw, "given"),
        defines=_tuple(raw, "defines"),
        checks=tuple(checks),
        wrong_answers=tuple(wrong),
        correct_answers=tuple(correct),
        timeout=float(timeout),
        terms=_tuple(raw, "terms"),
    )


def load_lesson(path: Path) -> tuple[Lesson | None, list[Problem]]:
    """Parse one lesson file. Returns the lesson (None when it cannot be used) and its problems."""
    report = _Reporter(path, None)
    name = LESSON_FILE.match(path.name)
    if not name:
        report.add("lesson files are named NN-slug.toml (two digits, a hyphen, a lower-case slug)")
        return None, report.problems
    data = _read_toml(path, report)
    if data is None:
        return None, report.problems

    def where(key: str | None) -> int | None:
        return report.line(None, 0, key)

    if not _check_fields(data, LESSON_FIELDS, report, "lesson", where):
        return None, report.problems
    lesson_id = data["id"]
    if lesson_id != name.group("slug"):
        report.add(
            f"lesson id {lesson_id!r} must equal the file's slug {name.group('slug')!r}",
            where("id"),
        )
    steps: list[Step] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data.get("steps", [])):
        step = _build_step(lesson_id, raw, index, report)
        if step is None:
            continue
        if step.id in seen:
            report.add(
                f"duplicate step id {step.id!r} (first used on line {seen[step.id]})", step.line
            )
            continue
        seen[step.id] = step.line or 0
        steps.append(step)
    if not data.get("steps"):
        report.add("a lesson needs at least one [[steps]] table")
    lesson = Lesson(
        id=lesson_id,
        number=int(name.group("number")),
        title=data["title"],
        summary=data.get("summary", ""),
        path=path,
        steps=tuple(steps),
    )
    return lesson, report.problems


def load_glossary(path: Path) -> tuple[Glossary, list[Problem]]:
    """Parse the glossary file. A broken file yields an empty glossary and its problems."""
    report = _Reporter(path, None)
    data = _read_toml(path, report)
    if data is None:
        return Glossary(path=path), report.problems
    unknown = [key for key in data if key != "terms"]
    for key in unknown:
        report.add(
            f"glossary: unknown key {key!r} (only [[terms]] tables)", report.line(None, 0, key)
        )
    raw_terms = data.get("terms", [])
    if not isinstance(raw_terms, list) or not raw_terms:
        report.add("glossary: no [[terms]] tables found; add at least one term")
        return Glossary(path=path), report.problems
    terms: list[Term] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raw_terms):

        def where(key: str | None, index: int = index) -> int | None:
            return report.line("terms", index, key)

        label = f"term {raw.get('term')!r}" if isinstance(raw, dict) else f"term {index + 1}"
        if not isinstance(raw, dict) or not _check_fields(raw, TERM_FIELDS, report, label, where):
            continue
        kind = raw.get("kind", "concept")
        if kind not in ("concept", "api"):
            report.add(f"{label}: 'kind' must be 'concept' or 'api', not {kind!r}", where("kind"))
            continue
        term = Term(
            id=term_id(raw["term"]),
            term=raw["term"],
            definition=raw["definition"].strip(),
            kind=kind,
            aliases=_tuple(raw, "aliases"),
            example=raw.get("example", ""),
            related=_tuple(raw, "related"),
            steps=_tuple(raw, "steps"),
            line=where(None),
        )
        for name in term.names:
            key = term_id(name)
            if key in seen:
                report.add(f"{label}: {name!r} is already used on line {seen[key]}", where("term"))
            seen[key] = term.line or 0
        terms.append(term)
    return Glossary(tuple(terms), path), report.problems
