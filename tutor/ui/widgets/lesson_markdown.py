"""Markdown for lesson text: code blocks without a language are highlighted as Python.

Textual guesses the language of an untagged block by loading every Pygments lexer, which cost
about 0.6 s on the first page shown. Lesson code is Python, so there is nothing to guess.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBlock, MarkdownFence


class PythonFence(MarkdownFence):
    """A code block highlighted as Python unless it names another language.

    Only the first word of the info string names the language: ``python no-run: needs a GPU``
    is Python (the rest is for ``lint``). Python written as a ``>>>`` session is highlighted as
    one, so the quoted output under each prompt is not coloured as code.
    """

    @classmethod
    def highlight(cls, code: str, language: str, ansi: bool = False, dark: bool = False) -> Content:
        words = (language or "").split()
        name = words[0] if words else "python"
        if name in ("python", "py") and code.lstrip().startswith(">>>"):
            name = "pycon"
        return super().highlight(code, name, ansi=ansi, dark=dark)


class LessonMarkdown(Markdown):
    """Markdown that never guesses a code block's language and never opens links in a browser."""

    BLOCKS: dict[str, type[MarkdownBlock]] = {
        **Markdown.BLOCKS,
        "fence": PythonFence,
        "code_block": PythonFence,
    }

    def __init__(self, markdown: str | None = None, **kwargs: object) -> None:
        kwargs.setdefault("open_links", False)
        super().__init__(markdown, **kwargs)  # type: ignore[arg-type]
