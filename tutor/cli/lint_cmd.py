"""``pytorch-tutor lint [PATH...]``: validate lesson files, prove every exercise and every page's code.

Exit 0 when clean, 1 when anything is wrong. Structure is checked without running code; then, for
each exercise, the kernel runs the reference solution (must pass), the starter (must fail) and every
wrong answer (must fail with its message); and every concept page's Python blocks run, their quoted
output compared with what they print.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tutor.lessons import load_catalog


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("lint", help="validate lesson files and run every solution")
    parser.add_argument("paths", nargs="*", metavar="PATH", help="lesson files or folders")
    parser.add_argument(
        "--no-run", action="store_true", help="check structure only; run no exercise code"
    )


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog([Path(p) for p in args.paths] if args.paths else None)
    problems = [str(problem) for problem in catalog.problems]
    if not args.no_run:
        from tutor.lint.prove import prove_catalog
        from tutor.lint.prove_pages import prove_pages

        problems.extend(prove_catalog(catalog))
        problems.extend(prove_pages(catalog))
    for line in problems:
        print(line)
    steps = sum(len(lesson.steps) for lesson in catalog.lessons)
    summary = f"{len(catalog.lessons)} lessons, {steps} steps, {len(catalog.glossary.terms)} terms"
    if problems:
        print(f"{len(problems)} problem(s) in {summary}.")
        return 1
    print(f"Clean: {summary}.")
    return 0
