"""Code blocks of concept pages, as ``lint`` proves them: which run, and what they must print.

A page's Markdown is parsed (never run) into ``Block`` objects:

* a ```` ```python ```` fence, an untagged fence or an indented block is Python that runs; when
  its lines start with ``>>>`` it is a session whose examples run one by one, each compared with
  the lines under it, doctest style;
* an ```` ```output ```` fence right after a Python block is what that block prints;
* ```` ```python no-run: REASON ```` is Python that is only compiled (a GPU-only example, a
  download); the reason is required;
* any other language (``text``, ``console``, ``toml`` ...) is shown and never run.

``output_matches`` compares quoted output with real output: runs of whitespace are equal, ``...``
stands for any text, and a quoted traceback is reduced to its last line, the exception itself.
Only the standard library and markdown-it (the parser the reader uses) are imported here.
"""

from __future__ import annotations

import ast
import doctest
import re
from dataclasses import dataclass, field

PYTHON_WORDS = ("python", "py", "python3", "pycon")
OUTPUT_WORDS = ("output",)
NO_RUN = re.compile(r"^no-run\s*:?\s*(?P<reason>.*)$")
TRACEBACK = re.compile(r"^Traceback \(most recent call last\):\s*$")
ELLIPSIS = "..."


@dataclass(frozen=True)
class Example:
    """One piece of code to run and what it must print (None: not quoted, any output will do)."""

    source: str
    want: str | None
    line: int  # 0-based, within the page text


@dataclass(frozen=True)
class Block:
    """One code block of a page: ``kind`` is python, session, no-run, output or shown."""

    kind: str
    code: str
    line: int  # 0-based line of the fence (or of the first indented line) in the page text
    info: str = ""
    reason: str = ""
    examples: tuple[Example, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class PageProblem:
    """Something wrong with a page's blocks found without running them."""

    line: int
    message: str


def _kind(info: str) -> tuple[str, str]:
    """The block kind and the no-run reason from a fence's info string."""
    words = info.strip().split(None, 1)
    language = words[0].lower() if words else ""
    rest = words[1].strip() if len(words) > 1 else ""
    if language in OUTPUT_WORDS:
        return "output", ""
    if language in PYTHON_WORDS or not language:
        match = NO_RUN.match(rest)
        if match:
            return "no-run", match.group("reason").strip()
        return "python", ""
    return "shown", ""


def _session_examples(code: str, first_line: int) -> tuple[Example, ...]:
    """The ``>>>`` examples of a session block, each with the lines quoted under it."""
    parsed = doctest.DocTestParser().get_examples(code)
    return tuple(
        Example(source=ex.source, want=ex.want, line=first_line + ex.lineno) for ex in parsed
    )


def parse_blocks(text: str) -> tuple[list[Block], list[PageProblem]]:
    """The page's code blocks in order, output blocks attached to the Python block before them."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse(text)
    blocks: list[Block] = []
    problems: list[PageProblem] = []
    previous_was_block = False
    for token in tokens:
        if token.type not in ("fence", "code_block"):
            # Any other token (a paragraph, a list item) separates an output block from its code.
            if token.type not in ("list_item_close", "bullet_list_close", "ordered_list_close"):
                previous_was_block = False
            continue
        line = token.map[0] if token.map else 0
        info = token.info if token.type == "fence" else ""
        kind, reason = _kind(info)
        code = token.content
        # Fenced code starts on the line after the fence; an indented block on its own line.
        code_line = line + 1 if token.type == "fence" else line
        if kind == "output":
            owner = blocks[-1] if blocks and previous_was_block else None
            if owner is None or owner.kind != "python" or owner.examples[-1].want is not None:
                problems.append(
                    PageProblem(
                        line,
                        "an ```output block must come right after a ```python block "
                        "(one output per block); put the code it quotes just above it",
                    )
                )
            else:
                example = owner.examples[-1]
                blocks[-1] = Block(
                    owner.kind,
                    owner.code,
                    owner.line,
                    owner.info,
                    examples=(Example(example.source, code, example.line),),
                )
            previous_was_block = True
            continue
        if kind in ("python", "no-run") and code.lstrip().startswith(">>>"):
            examples = _session_examples(code, code_line)
            if kind == "python":
                kind = "session"
        else:
            examples = (Example(code, None, code_line),)
        if kind == "no-run" and not reason:
            problems.append(
                PageProblem(line, "say why a block cannot run: ```python no-run: REASON")
            )
        blocks.append(Block(kind, code, line, info.strip(), reason, examples))
        previous_was_block = True
    return blocks, problems


def syntax_problem(block: Block) -> str | None:
    """A no-run block must still be Python: the syntax error, or None."""
    for example in block.examples:
        try:
            ast.parse(example.source)
        except SyntaxError as exc:
            return f"the block is not valid Python (line {exc.lineno}: {exc.msg})"
    return None


def strip_traceback(text: str) -> str:
    """Quoted output with a traceback cut to the exception: header and frame lines are dropped."""
    kept: list[str] = []
    in_frames = False
    for line in text.splitlines():
        if TRACEBACK.match(line):
            in_frames = True
            continue
        if in_frames and (line[:1].isspace() or line.strip() == ELLIPSIS or not line.strip()):
            continue
        in_frames = False
        kept.append(line)
    return "\n".join(kept)


def quotes_error(want: str) -> bool:
    """Whether quoted output shows a traceback (so the code must raise)."""
    return any(TRACEBACK.match(line) for line in want.splitlines())


def _normalise(text: str) -> str:
    return " ".join(text.split())


def output_matches(want: str, got: str) -> bool:
    """True when ``got`` is what ``want`` quotes: whitespace runs equal, ``...`` matches any text."""
    pieces = _normalise(strip_traceback(want)).split(ELLIPSIS)
    actual = _normalise(got)
    if len(pieces) == 1:
        return pieces[0] == actual
    first, *middle, last = (piece.strip() for piece in pieces)
    if not actual.startswith(first) or not actual.endswith(last):
        return False
    position = len(first)
    end = len(actual) - len(last)
    if position > end:
        return False
    for piece in middle:
        found = actual.find(piece, position, end)
        if found < 0:
            return False
        position = found + len(piece)
    return True


def proves_nothing(want: str) -> bool:
    """Quoted output made only of ``...`` would accept anything (empty output means none)."""
    quoted = _normalise(strip_traceback(want))
    return ELLIPSIS in quoted and not quoted.replace(ELLIPSIS, "").strip()
