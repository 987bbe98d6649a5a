"""Turn lesson links into Markdown links the reader can act on.

``[[term]]`` becomes ``[term](term:<id>)`` and ``[[@lesson.step]]`` becomes ``[...](step:lesson.step)``;
the reader handles ``Markdown.LinkClicked`` for those two schemes.
"""

from __future__ import annotations

from tutor.lessons.links import LINK, find_links
from tutor.lessons.model import Glossary, term_id

TERM_SCHEME = "term:"
STEP_SCHEME = "step:"


def to_markdown(text: str) -> str:
    """``text`` with every lesson link rewritten as a Markdown link."""

    def replace(match) -> str:  # type: ignore[no-untyped-def]
        target = match.group("target").strip()
        shown = (match.group("shown") or target.lstrip("@")).strip()
        if target.startswith("@"):
            return f"[{shown}]({STEP_SCHEME}{target[1:]})"
        return f"[{shown}]({TERM_SCHEME}{term_id(target)})"

    return LINK.sub(replace, text)


def linked_terms(texts: list[str], glossary: Glossary) -> list[str]:
    """The glossary terms linked from ``texts``, in order of first appearance, without repeats."""
    names: list[str] = []
    for text in texts:
        for link in find_links(text):
            if link.is_step:
                continue
            term = glossary.lookup(link.target)
            if term and term.term not in names:
                names.append(term.term)
    return names
