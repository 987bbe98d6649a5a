"""``pytorch-tutor answer STEP_ID [--file PATH | -] [--json]``: check an answer headless.

The step's setup runs in a fresh kernel, then the code, then the checks. The code comes from
``--file PATH``; ``--file -`` or no ``--file`` reads standard input (no ``--file`` on a terminal
is a usage error rather than a silent wait). Exit 0 pass, 1 fail, 2 unknown step or usage. Every
answer is recorded as an attempt in the progress database; when the disk refuses the write (full,
read-only) the verdict is still given, with one sentence on stderr saying the attempt was not saved.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutor.cli import UsageError
from tutor.cli.common import close_database, database_or_none, fail, print_json

MAX_ANSWER_BYTES = 4 * 1024 * 1024


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "answer",
        help="check an answer to an exercise step headless",
        description="Run a step's setup, then your code, then the step's checks. "
        "Exit 0 pass, 1 fail, 2 unknown step or usage.",
    )
    parser.add_argument(
        "step", metavar="STEP_ID", help="the exercise step, e.g. tensors.neuron-sum"
    )
    parser.add_argument(
        "--file", metavar="PATH", help="the code to check; '-' or no --file reads standard input"
    )
    parser.add_argument("--json", action="store_true", help='print {"step", "passed", "messages"}')
    parser.add_argument(
        "--lessons",
        metavar="DIR",
        action="append",
        help="lesson folder (default: the bundled lessons)",
    )


def read_code(path: str | None) -> str:
    """The answer's text, decoded leniently: odd bytes must give a verdict, not a crash."""
    if path is None or path == "-":
        if path is None and sys.stdin.isatty():
            raise UsageError("give the answer with --file PATH, or pipe it in with --file -")
        data = sys.stdin.buffer.read(MAX_ANSWER_BYTES + 1)
    else:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_ANSWER_BYTES + 1)
        except OSError as exc:
            raise UsageError(f"cannot read {path} ({exc.strerror}); check the path") from None
    if len(data) > MAX_ANSWER_BYTES:
        raise UsageError(f"the answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB")
    return data.decode("utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    from tutor.lessons import load_catalog
    from tutor.lessons.model import ExerciseStep

    catalog = load_catalog([Path(p) for p in args.lessons] if args.lessons else None)
    step = catalog.step(args.step)
    if step is None:
        nearest = catalog.nearest_steps(args.step)
        hint = f" Did you mean: {', '.join(nearest)}?" if nearest else ""
        return fail(f"there is no step {args.step!r}.{hint}", 2)
    if not isinstance(step, ExerciseStep):
        return fail(
            f"step {args.step!r} is a {step.kind} step, not an exercise; nothing to check.", 2
        )
    code = read_code(args.file)

    from tutor.kernel import Kernel, KernelError

    kernel = Kernel.start()
    try:
        setup = kernel.reset(step)
        reached = False
        if not setup.ok:
            passed, messages = False, [f"The step's setup failed: {setup.message}"]
            output = ""
        else:
            from tutor.exercises.session import reached_checks

            result, verdict = kernel.answer(step, code)
            passed, messages, output = verdict.passed, verdict.messages, result.output
            reached = reached_checks(step, code, result)
    except KernelError as exc:
        return fail(str(exc), 1)
    finally:
        kernel.close()

    db = database_or_none()
    if db is not None:
        from tutor.store.progress import Progress

        progress = Progress(db)
        progress.record_attempt(step.full_id, code, passed)
        if passed:
            progress.mark(step.full_id, "solved")
        elif reached:
            from tutor.quiz.feed import exercise_failed

            # A failed attempt that reached the checks makes the step's glossary terms due
            # sooner; a SyntaxError or the untouched starter says nothing about the terms.
            exercise_failed(db, catalog.glossary, step.terms)
    # The verdict first: a disk that refused the attempt must not hide it.
    saved = db is not None and not db.pending
    if args.json:
        print_json(
            {
                "step": step.full_id,
                "passed": passed,
                "messages": messages,
                "output": output,
                "saved": saved,
            }
        )
    else:
        if output:
            sys.stdout.write(output if output.endswith("\n") else output + "\n")
        print(("PASS" if passed else "FAIL") + f": {step.full_id}")
        for message in messages:
            print(message)
    if db is not None:
        sys.stdout.flush()
        close_database(db, "The attempt was not saved")
    return 0 if passed else 1
