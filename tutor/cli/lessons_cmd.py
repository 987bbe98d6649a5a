"""``pytorch-tutor lessons [--json]``: the lessons and their steps, with ids, titles and kinds."""

from __future__ import annotations

import argparse

from tutor.cli.common import print_json
from tutor.lessons import load_catalog


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("lessons", help="list lessons and their steps")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def run(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    if args.json:
        print_json(
            {
                "lessons": [
                    {
                        "id": lesson.id,
                        "title": lesson.title,
                        "summary": lesson.summary,
                        "steps": [
                            {"id": step.full_id, "title": step.title, "kind": step.kind}
                            for step in lesson.steps
                        ],
                    }
                    for lesson in catalog.lessons
                ],
                "broken": [{"path": str(b.path), "reason": b.reason} for b in catalog.broken],
            }
        )
        return 0
    for lesson in catalog.lessons:
        print(f"{lesson.number:02d} {lesson.id}: {lesson.title}")
        for step in lesson.steps:
            print(f"   {step.full_id:<40} {step.kind:<9} {step.title}")
    for broken in catalog.broken:
        print(f"!! {broken.path.name}: broken ({broken.reason})")
    return 0
