"""Links inside lesson text: ``[[term]]``, ``[[term|shown text]]``, ``[[@lesson]]``, ``[[@lesson.step]]``.

The loader checks that every link points at something that exists; the reader turns them into
clickable glossary terms and step jumps.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

LINK = re.compile(r"\[\[(?P<target>[^\]|]+?)(?:\|(?P<shown>[^\]]+))?\]\]")


@dataclass(frozen=True)
class Link:
    """One link found in a text: what it points at and the words shown for it."""

    target: str
    shown: str
    start: int
    end: int

    @property
    def is_step(self) -> bool:
        """True for ``[[@lesson]]`` and ``[[@lesson.step]]`` links."""
        return self.target.startswith("@")


def find_links(text: str) -> Iterator[Link]:
    """Every link in ``text``, in order."""
    for match in LINK.finditer(text):
        target = match.group("target").strip()
        shown = (match.group("shown") or target.lstrip("@")).strip()
        yield Link(target, shown, match.start(), match.end())


def plain(text: str) -> str:
    """``text`` with each link replaced by its shown words."""
    return LINK.sub(lambda m: (m.group("shown") or m.group("target").lstrip("@")).strip(), text)
