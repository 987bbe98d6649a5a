"""Prove the code on concept pages (``pytorch-tutor lint``): it runs, and prints what the page says.

Each concept page gets a fresh namespace in the kernel, with the page's ``setup`` run first (its own
code, or ``@step`` for the setup of an exercise). Its Python blocks then run in order, like
notebook cells, and every quoted output is compared with what the code really printed (see
``tutor.checks.prose``). Problems read ``file:line: step 'id': ...`` with the line of the block.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tutor.checks.prose import (
    Block,
    Example,
    output_matches,
    parse_blocks,
    proves_nothing,
    quotes_error,
    syntax_problem,
)
from tutor.lessons import Catalog
from tutor.lessons.model import ConceptStep, ExerciseStep, Lesson
from tutor.lessons.toml_lines import scan

PAGE_FILE = "<page>"  # not a learner file: tracebacks keep only the exception itself
BLOCK_TIMEOUT = 30.0
# Every warning is shown each time, so a page may quote one whatever ran before it.
WARNINGS_ALWAYS = "import warnings as _warnings\n_warnings.simplefilter('always')\ndel _warnings\n"


@dataclass(frozen=True)
class Outcome:
    """What one example did: its printed output, and the exception text when it raised."""

    ok: bool
    output: str
    exception: str = ""
    failure: str = ""  # a timeout or crash: nothing to compare


@dataclass
class PageReport:
    """How many examples of one page ran and had their output compared, and the problems found."""

    ran: int = 0
    compared: int = 0
    problems: list[str] = field(default_factory=list)


def text_line(path: Path, step: ConceptStep) -> int:
    """The file line of the page text's first line (0 when it cannot be found)."""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        return 0
    for table in scan(source).arrays.get("steps", []):
        if table.line == step.line and "text" in table.keys:
            key_line = table.keys["text"]
            raw = source.splitlines()[key_line - 1].rstrip()
            # A multi-line string trims the newline right after its opening quotes.
            return key_line + 1 if raw.endswith(("'''", '"""')) else key_line
    return 0


def page_setup(lesson: Lesson, catalog: Catalog, step: ConceptStep) -> tuple[str, str | None]:
    """The code to run before the page's blocks, or a problem naming an unknown ``@step``.

    A first line ``@step`` (or ``@lesson.step``) runs that exercise's setup; lines after it run next.
    """
    first, _, rest = step.setup.strip().partition("\n")
    if not first.startswith("@"):
        return step.setup, None
    target = first[1:].strip()
    found = catalog.step(target) if "." in target else lesson.step(target)
    if not isinstance(found, ExerciseStep):
        return "", f"'setup' names {first!r}, which is not an exercise; write @step or @lesson.step"
    return found.setup + "\n" + rest, None


def python_words(error: str) -> str:
    """The error as Python printed it: a page quotes Python's and torch's own words, not the
    kernel's plain-language line above them."""
    from tutor.execution.runner import split_explanation

    return split_explanation(error)[1]


def _run(kernel: object, example: Example) -> Outcome:
    from tutor.kernel import Kernel

    assert isinstance(kernel, Kernel)
    result = kernel.run(example.source, BLOCK_TIMEOUT, filename=PAGE_FILE)
    if result.status == "ok":
        return Outcome(True, result.output)
    if result.status != "error":
        return Outcome(False, result.output, failure=result.error or result.status)
    return Outcome(False, result.output, exception=python_words(result.error))


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text.strip()


def check_example(example: Example, outcome: Outcome) -> str | None:
    """The problem with one example's outcome, or None when it proves what the page says."""
    if outcome.failure:
        return f"the block did not finish: {outcome.failure}"
    got = outcome.output + (("\n" + outcome.exception) if outcome.exception else "")
    if example.want is None:
        if outcome.exception:
            return (
                f"the block raises {_last_line(outcome.exception)}; quote the error in an "
                "```output block, fix the code, or mark it ```python no-run: REASON"
            )
        return None
    if proves_nothing(example.want):
        return "the quoted output is only `...`, which proves nothing; quote what matters"
    if quotes_error(example.want) and not outcome.exception:
        return "the page quotes an error, but the code raises none"
    if output_matches(example.want, got):
        return None
    shown_got = " / ".join(line.strip() for line in got.strip().splitlines()) or "nothing"
    if not example.want.strip():
        return f"the page shows no output here, but the code prints {shown_got!r}"
    shown_want = " / ".join(line.strip() for line in example.want.strip().splitlines())
    return f"the page quotes {shown_want!r}, but the code prints {shown_got!r}"


def prove_page(
    kernel: object,
    lesson: Lesson,
    catalog: Catalog,
    step: ConceptStep,
    first_line: int,
    prefix: str = "",
) -> PageReport:
    """Run one page's blocks in a fresh namespace and compare their quoted output."""
    from tutor.kernel import Kernel

    assert isinstance(kernel, Kernel)
    report = PageReport()

    def add(line: int, message: str) -> None:
        report.problems.append(f"{lesson.path}:{line}: step {step.id!r}: {message}")

    blocks, parse_problems = parse_blocks(step.text)
    for found in parse_problems:
        add(first_line + found.line, found.message)
    for block in blocks:
        syntax = syntax_problem(block) if block.kind == "no-run" else None
        if syntax:
            add(first_line + block.line, syntax)
    runnable: list[Block] = [b for b in blocks if b.kind in ("python", "session")]
    if not runnable:
        return report
    setup, unknown = page_setup(lesson, catalog, step)
    if unknown:
        add(step.line or first_line, unknown)
        return report
    reset = kernel.reset(setup=WARNINGS_ALWAYS + prefix + setup)
    if not reset.ok:
        add(step.line or first_line, f"the page setup fails: {reset.message}")
        return report
    for block in runnable:
        for example in block.examples:
            outcome = _run(kernel, example)
            report.ran += 1
            report.compared += example.want is not None
            wrong = check_example(example, outcome)
            if wrong:
                add(first_line + example.line, wrong)
                if outcome.failure:
                    return report  # the namespace is gone: later blocks would fail for nothing
    return report


@dataclass(frozen=True)
class Tally:
    """Blocks run and outputs compared for one lesson."""

    lesson: str
    ran: int
    compared: int


def prove_pages(
    catalog: Catalog,
    progress: Callable[[str], None] | None = None,
    tallies: list[Tally] | None = None,
) -> list[str]:
    """Every problem of every concept page's code, as ``path:line: step 'id': ...``."""
    pages = [
        (lesson, step)
        for lesson in catalog.lessons
        for step in lesson.steps
        if isinstance(step, ConceptStep)
    ]
    if not pages:
        return []
    from tutor.kernel import Kernel, KernelError

    problems: list[str] = []
    counts: dict[str, list[int]] = {}
    kernel = Kernel.start()
    # Pages save files ("checkpoint.pth"): they land in a folder of their own, removed afterwards.
    folder = tempfile.TemporaryDirectory(prefix="tutor-pages-")
    in_folder = f"import os as _os\n_os.chdir({folder.name!r})\ndel _os\n"
    try:
        for lesson, step in pages:
            if progress is not None:
                progress(step.full_id)
            first_line = text_line(lesson.path, step)
            report = prove_page(kernel, lesson, catalog, step, first_line, prefix=in_folder)
            problems.extend(report.problems)
            ran, compared = counts.setdefault(lesson.id, [0, 0])
            counts[lesson.id] = [ran + report.ran, compared + report.compared]
    except KernelError as exc:
        problems.append(f"{pages[0][0].path}: the kernel could not run the pages' code: {exc}")
    finally:
        kernel.close()
        folder.cleanup()
    if tallies is not None:
        tallies.extend(Tally(lesson, ran, compared) for lesson, (ran, compared) in counts.items())
    return problems
