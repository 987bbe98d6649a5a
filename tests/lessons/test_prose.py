"""Proven prose: parsing a page's code blocks, comparing quoted output, and lint running them."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.checks.prose import output_matches, parse_blocks, strip_traceback, syntax_problem
from tutor.lessons import Catalog, load_catalog
from tutor.lessons.model import ConceptStep
from tutor.lint.prove_pages import Tally, prove_pages

# --- parsing (no code runs) --------------------------------------------------------------------


def test_fences_are_sorted_by_their_info_word() -> None:
    page = textwrap.dedent(
        """\
        Words.

        ```python
        x = 1
        ```

        ```output
        1
        ```

        ```python no-run: needs a CUDA GPU
        torch.cuda.synchronize()
        ```

        ```text
        y = f(x)
        ```

            z = 2
        """
    )
    blocks, problems = parse_blocks(page)
    assert problems == []
    assert [b.kind for b in blocks] == ["python", "no-run", "shown", "python"]
    script, no_run, _, indented = blocks
    assert script.examples[0].source == "x = 1\n" and script.examples[0].want == "1\n"
    assert script.examples[0].line == 3  # the code's first line, 0-based within the page
    assert no_run.reason == "needs a CUDA GPU"
    assert indented.examples[0].want is None  # untagged code runs, like the reader's Python


def test_a_session_splits_into_examples_with_their_quoted_lines() -> None:
    page = (
        "```python\n>>> a = 2\n>>> a * 3\n6\n>>> for i in range(2):\n...     print(i)\n0\n1\n```\n"
    )
    (block,), _ = parse_blocks(page)
    assert block.kind == "session"
    assert [(e.source, e.want) for e in block.examples] == [
        ("a = 2\n", ""),
        ("a * 3\n", "6\n"),
        ("for i in range(2):\n    print(i)\n", "0\n1\n"),
    ]
    assert [e.line for e in block.examples] == [1, 2, 4]


def test_misplaced_output_and_missing_reason_are_problems() -> None:
    page = "```output\n1\n```\n\n```python no-run:\nx = 1\n```\n\nText.\n\n```output\n2\n```\n"
    _, problems = parse_blocks(page)
    messages = [(p.line, p.message.split(" ")[1]) for p in problems]
    assert messages == [(0, "```output"), (4, "why"), (10, "```output")]


def test_output_after_prose_does_not_attach_to_the_code_above() -> None:
    page = "```python\nprint(1)\n```\n\nSo it prints one:\n\n```output\n1\n```\n"
    blocks, problems = parse_blocks(page)
    assert blocks[0].examples[0].want is None
    assert len(problems) == 1


def test_a_no_run_block_must_still_be_python() -> None:
    (block,), _ = parse_blocks("```python no-run: GPU\nfor x in\n```\n")
    problem = syntax_problem(block)
    assert problem is not None and "not valid Python" in problem


# --- comparison ----------------------------------------------------------------------------------


def test_output_compares_exactly_modulo_whitespace() -> None:
    assert output_matches("torch.Size([64, 784])\n", "torch.Size([64, 784])")
    assert output_matches("(True,\n  0.0357)", "(True, 0.0357)\n")
    assert not output_matches("torch.Size([64, 784])", "torch.Size([784, 64])")
    assert not output_matches("0.1595", "0.15951")


def test_ellipsis_stands_for_any_text_in_order() -> None:
    assert output_matches("<PowBackward0 object at ...>", "<PowBackward0 object at 0x7f3a>")
    assert output_matches("['a', ..., 'z']", "['a', 'b', 'c', 'z']")
    assert not output_matches("['a', ..., 'z']", "['b', 'c', 'z']")
    assert not output_matches("a ... b ... c", "a c b")
    assert not output_matches("abc ... abc", "abc")  # the pieces may not overlap


def test_a_quoted_traceback_is_reduced_to_its_exception() -> None:
    want = 'Traceback (most recent call last):\n  File "x", line 1\n    ...\nValueError: bad\n'
    assert strip_traceback(want) == "ValueError: bad"
    assert output_matches(want, "ValueError: bad")
    assert not output_matches(want, "ValueError: worse")


# --- running pages in the kernel ---------------------------------------------------------------

LESSON = '''\
id = "prose"
title = "Proven prose"

[[steps]]
id = "drill"
kind = "exercise"
title = "An exercise whose setup a page borrows"
prompt = "Make `y`."
setup = """
import torch
features = torch.ones(1, 5)
"""
solution = "y = features.sum()"
defines = ["y"]

[[steps]]
id = "page"
kind = "concept"
title = "A page"
setup = "@drill"
text = \'\'\'
Some words.

```python
>>> features.shape
{shape}
>>> torch.mm(features, features)
Traceback (most recent call last):
RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x5 and 1x5)
```

```python
total = features.sum()
print(total.item())
```

```output
{total}
```

```python no-run: needs a GPU
torch.cuda.synchronize()
```
\'\'\'
'''


def lesson_file(tmp_path: Path, **values: str) -> Path:
    fields = {"shape": "torch.Size([1, 5])", "total": "5.0", **values}
    path = tmp_path / "01-prose.toml"
    path.write_text(LESSON.format(**fields), encoding="utf-8")
    return path


def prove(path: Path) -> tuple[list[str], list[Tally]]:
    catalog: Catalog = load_catalog([path])
    assert [str(p) for p in catalog.problems if "glossary" not in str(p)] == []
    tallies: list[Tally] = []
    return prove_pages(catalog, tallies=tallies), tallies


@pytest.fixture
def proven(tmp_path: Path) -> Iterator[tuple[list[str], list[Tally]]]:
    yield prove(lesson_file(tmp_path))


def test_a_true_page_proves_clean(proven: tuple[list[str], list[Tally]]) -> None:
    problems, tallies = proven
    assert problems == []
    assert tallies == [Tally("prose", ran=3, compared=3)]


def test_a_wrong_quoted_shape_is_caught_on_its_line(tmp_path: Path) -> None:
    path = lesson_file(tmp_path, shape="torch.Size([5, 1])")
    problems, _ = prove(path)
    assert len(problems) == 1
    line = path.read_text().splitlines().index(">>> features.shape") + 1
    assert problems[0].startswith(f"{path}:{line}: step 'page': ")
    assert "'torch.Size([5, 1])'" in problems[0] and "'torch.Size([1, 5])'" in problems[0]


def test_a_wrong_quoted_value_in_an_output_block_is_caught(tmp_path: Path) -> None:
    path = lesson_file(tmp_path, total="6.0")
    problems, _ = prove(path)
    assert len(problems) == 1
    line = path.read_text().splitlines().index("total = features.sum()") + 1
    assert problems[0].startswith(f"{path}:{line}: ")
    assert "quotes '6.0', but the code prints '5.0'" in problems[0]


def test_a_wrong_error_message_is_caught(tmp_path: Path) -> None:
    text = LESSON.replace("(1x5 and 1x5)", "(5x1 and 1x5)")
    path = tmp_path / "01-prose.toml"
    path.write_text(text.format(shape="torch.Size([1, 5])", total="5.0"), encoding="utf-8")
    problems, _ = prove(path)
    assert len(problems) == 1 and "(5x1 and 1x5)" in problems[0]


def test_an_error_the_page_does_not_quote_is_a_problem(tmp_path: Path) -> None:
    text = LESSON.replace("print(total.item())", "print(totl.item())")
    path = tmp_path / "01-prose.toml"
    path.write_text(text.format(shape="torch.Size([1, 5])", total="5.0"), encoding="utf-8")
    problems, _ = prove(path)
    assert len(problems) == 1 and "NameError: name 'totl' is not defined" in problems[0]


def test_a_quoted_error_that_never_happens_is_a_problem(tmp_path: Path) -> None:
    text = LESSON.replace(
        ">>> torch.mm(features, features)", ">>> torch.mm(features, features.t())"
    )
    path = tmp_path / "01-prose.toml"
    path.write_text(text.format(shape="torch.Size([1, 5])", total="5.0"), encoding="utf-8")
    problems, _ = prove(path)
    assert len(problems) == 1 and "quotes an error, but the code raises none" in problems[0]


def test_a_page_setup_naming_no_exercise_is_a_problem(tmp_path: Path) -> None:
    text = LESSON.replace('setup = "@drill"', 'setup = "@nowhere"')
    path = tmp_path / "01-prose.toml"
    path.write_text(text.format(shape="torch.Size([1, 5])", total="5.0"), encoding="utf-8")
    problems, _ = prove(path)
    assert len(problems) == 1 and "'@nowhere'" in problems[0]


def test_loading_a_page_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = LESSON.replace("total = features.sum()", f"open({str(marker)!r}, 'w').close()")
    path = tmp_path / "01-prose.toml"
    path.write_text(text.format(shape="torch.Size([1, 5])", total="5.0"), encoding="utf-8")
    catalog = load_catalog([path])
    page = catalog.step("prose.page")
    assert isinstance(page, ConceptStep) and page.setup == "@drill"
    assert not marker.exists()


def test_the_reader_highlights_by_the_first_info_word() -> None:
    from tutor.ui.widgets.lesson_markdown import PythonFence

    code = "x = 1  # one"
    as_python = PythonFence.highlight(code, "python")
    assert PythonFence.highlight(code, "python no-run: needs a GPU").spans == as_python.spans
    assert len(PythonFence.highlight(code, "output").spans) < len(as_python.spans)
    session = PythonFence.highlight(">>> x = 1\n1 + 1 = 2", "python")
    quoted_output = len(">>> x = 1\n")
    # In a session the quoted output line is plain text: only the base style covers it.
    styled = [span for span in session.spans if span.style != "$text"]
    assert styled and all(span.end <= quoted_output for span in styled)
