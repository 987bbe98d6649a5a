"""Prove a catalog's exercises (``pytorch-tutor lint``): the checks must tell right from wrong.

For every exercise: its declared checks are well formed; the reference solution and every
other correct answer pass; the starter fails; every wrong answer fails with a message containing its ``message`` (compared
case-insensitively). One kernel serves the whole catalog; each run starts from a fresh reset.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tutor.checks.spec import step_problems
from tutor.lessons import Catalog
from tutor.lessons.model import ExerciseStep


def _where(path: Path, step: ExerciseStep) -> str:
    line = f":{step.line}" if step.line else ""
    return f"{path}{line}: step {step.id!r}"


def prove_step(kernel: object, step: ExerciseStep) -> list[str]:
    """Problems found running one exercise (without the ``path:line`` prefix)."""
    from tutor.kernel import Kernel

    assert isinstance(kernel, Kernel)
    problems = [f"{p}" for p in step_problems(step)]
    if problems:
        return problems

    def attempt(code: str) -> tuple[bool, list[str]] | None:
        setup = kernel.reset(step)
        if not setup.ok:
            problems.append(f"the setup fails: {setup.message}")
            return None
        _, verdict = kernel.answer(step, code)
        return verdict.passed, verdict.messages

    outcome = attempt(step.solution)
    if outcome is None:
        return problems
    passed, messages = outcome
    if not passed:
        problems.append("the reference solution fails its checks: " + " / ".join(messages))
    outcome = attempt(step.starter)
    if outcome is not None and outcome[0]:
        problems.append("the starter code passes the checks; it must fail")
    for position, right in enumerate(step.correct_answers, start=1):
        outcome = attempt(right.code)
        if outcome is None:
            break
        label = f" ({right.note})" if right.note else ""
        if not outcome[0]:
            problems.append(
                f"correct answer {position}{label} fails its checks: " + " / ".join(outcome[1])
            )
        elif right.tip and not any(right.tip.lower() in m.lower() for m in outcome[1][1:]):
            problems.append(
                f"correct answer {position}{label} passes without a tip containing {right.tip!r}"
            )
    for position, wrong in enumerate(step.wrong_answers, start=1):
        outcome = attempt(wrong.code)
        if outcome is None:
            break
        passed, messages = outcome
        if passed:
            problems.append(f"wrong answer {position} passes the checks; it must fail")
        elif not any(wrong.message.lower() in m.lower() for m in messages):
            shown = " / ".join(messages)
            problems.append(
                f"wrong answer {position} fails, but no message contains {wrong.message!r}; "
                f"got: {shown}"
            )
    return problems


def prove_catalog(catalog: Catalog, progress: Callable[[str], None] | None = None) -> list[str]:
    """Every problem as ``path:line: step 'id': ...``; empty when every exercise proves out."""
    exercises = [
        (lesson.path, step)
        for lesson in catalog.lessons
        for step in lesson.steps
        if isinstance(step, ExerciseStep)
    ]
    if not exercises:
        return []
    from tutor.kernel import Kernel, KernelError

    kernel = Kernel.start()
    problems: list[str] = []
    try:
        for path, step in exercises:
            if progress is not None:
                progress(step.full_id)
            problems.extend(f"{_where(path, step)}: {p}" for p in prove_step(kernel, step))
    except KernelError as exc:
        problems.append(f"{exercises[0][0]}: the kernel could not run exercises: {exc}")
    finally:
        kernel.close()
    return problems
