"""Count, per lesson, the wrong and correct answers lint proves, and how errors are explained.

    python scripts/feedback_report.py [LESSON_DIR]

Runs every exercise's wrong answers and other correct answers in one kernel. A wrong answer
whose verdict shows an error (a traceback or an exception line) is a runtime or syntax error; it is "explained" when a
plain-language line names the cause, "generic" when only the fallback line ("Your code stopped
on line N ...") stands above it, and "bare" when nothing does.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

from tutor.kernel import Kernel
from tutor.lessons import load_catalog
from tutor.lessons.model import ExerciseStep

ERROR_LINE = re.compile(
    r"^(Traceback \(most recent call last\)|  File \"<|\w+(Error|Exception|Interrupt)\b)"
)


def classify(messages: list[str]) -> str:
    """``value`` (no error shown), ``explained``, ``generic`` or ``bare``."""
    for message in messages:
        lines = message.splitlines()
        first_error = next((i for i, line in enumerate(lines) if ERROR_LINE.match(line)), None)
        if first_error is None:
            continue
        before = [line for line in lines[:first_error] if line.strip()]
        if not before:
            return "bare"
        if before[-1].startswith("Your code stopped"):
            return "generic"
        return "explained"
    return "value"


def main() -> int:
    paths = [Path(sys.argv[1])] if len(sys.argv) > 1 else None
    catalog = load_catalog(paths)
    kernel = Kernel.start()
    totals: Counter[str] = Counter()
    try:
        for lesson in catalog.lessons:
            counts: Counter[str] = Counter()
            for step in lesson.steps:
                if not isinstance(step, ExerciseStep):
                    continue
                for right in step.correct_answers:
                    kernel.reset(step)
                    counts[
                        "correct passing"
                        if kernel.answer(step, right.code)[1].passed
                        else "correct FAILING"
                    ] += 1
                for wrong in step.wrong_answers:
                    kernel.reset(step)
                    verdict = kernel.answer(step, wrong.code)[1]
                    counts["wrong"] += 1
                    kind = classify(verdict.messages)
                    counts[f"wrong {kind}"] += 1
                    if kind in ("generic", "bare"):
                        first = verdict.messages[0].splitlines()[0] if verdict.messages else ""
                        print(f"  {kind}: {step.full_id}: {first[:100]}")
            totals.update(counts)
            print(f"{lesson.id}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    finally:
        kernel.close()
    print("all: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
