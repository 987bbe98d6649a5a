"""``pytorch-tutor quiz [--plain] [--count N] [--mode choice|typed|code]``: the glossary quiz.

``--plain`` runs it in the terminal, reading answers from stdin (scriptable; the end of input
ends the session with a summary). Without it the app starts on the quiz screen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.cli import UsageError
from tutor.cli.common import close_database, database_or_none, fail

if TYPE_CHECKING:
    from collections.abc import Callable

    from tutor.lessons.model import Glossary
    from tutor.quiz.questions import Mode
    from tutor.store.db import Database

MODE_KEY = "quiz.mode"
COUNT_KEY = "quiz.count"
MAX_COUNT = 500


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "quiz",
        help="glossary quiz with spaced repetition",
        description="Review glossary terms; due terms first, then a few new ones a day.",
    )
    parser.add_argument(
        "--plain", action="store_true", help="ask in this terminal, answers on stdin"
    )
    parser.add_argument("--count", type=int, default=10, metavar="N", help="questions (default 10)")
    parser.add_argument(
        "--mode",
        choices=("choice", "typed", "code"),
        default="choice",
        help="choice: term to definition; typed: definition to term; code: snippet to concept",
    )
    parser.add_argument("--stats", action="store_true", help="print review stats and exit")
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        help="a lessons folder (or glossary file) instead of the bundled one",
    )


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.count <= MAX_COUNT:
        raise UsageError(f"--count must be between 1 and {MAX_COUNT}, not {args.count}.")
    from tutor.quiz.source import QuizError, load_quiz_glossary

    lessons = Path(args.lessons).expanduser() if args.lessons else None
    try:
        glossary = load_quiz_glossary(lessons)
    except QuizError as exc:
        return fail(str(exc))
    db = database_or_none()
    if db is None:
        return 1
    try:
        if args.stats:
            return _stats(db, glossary)
        if args.plain:
            return _plain(db, glossary, args.mode, args.count, _step_titles(lessons))
        db.set_setting(MODE_KEY, args.mode)
        db.set_setting(COUNT_KEY, str(args.count))
        if lessons is not None:
            # Lessons from elsewhere: a quiz-only app over their glossary.
            from tutor.ui.screens.quiz import QuizApp

            QuizApp(
                glossary,
                db,
                mode=args.mode,
                count=args.count,
                step_title=_step_titles(lessons),
            ).run()
            return 0
    finally:
        sys.stdout.flush()
        close_database(db, _unsaved_what(db.pending))
    from tutor.cli.app_cmd import run_app

    return run_app(start="quiz")


def _unsaved_what(pending: list[str]) -> str:
    """How the quiz words what the disk refused: reviews counted, anything else named."""
    reviews = sum(1 for what in pending if what.startswith("a quiz review"))
    settings = sum(1 for what in pending if what.startswith("the setting "))
    if reviews and reviews == len(pending):
        return f"{reviews} quiz review(s) from this session were not saved"
    if settings and settings == len(pending):
        return "The quiz settings (mode and count) were not saved"
    return "Quiz settings and reviews from this session were not saved"


def _stats(db: Database, glossary: Glossary) -> int:
    from tutor.quiz.scheduler import QuizScheduler
    from tutor.quiz.stats import compute_stats

    for line in compute_stats(QuizScheduler(db, glossary)).lines():
        print(line)
    return 0


def _step_titles(lessons: Path | None) -> Callable[[str], str]:
    """Names steps by their lesson and step titles (``Catalog.step_title``) for "Taught in"."""
    from tutor.lessons.catalog import load_catalog

    folder = lessons.parent if lessons is not None and lessons.is_file() else lessons
    return load_catalog(None if folder is None else [folder]).step_title


def _plain(
    db: Database, glossary: Glossary, mode: Mode, count: int, title: Callable[[str], str]
) -> int:
    from tutor.quiz.plain import run_plain
    from tutor.quiz.scheduler import QuizScheduler
    from tutor.quiz.session import QuizSession

    # Odd bytes on stdin or a terminal that cannot show a character must not end the quiz.
    for stream in (sys.stdin, sys.stdout):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    session = QuizSession(QuizScheduler(db, glossary), mode, count)
    run_plain(session, sys.stdin, sys.stdout, title)
    return 0
