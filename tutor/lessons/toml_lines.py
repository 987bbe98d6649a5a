"""Line numbers for TOML keys, which ``tomllib`` does not report.

A small scanner walks the raw text, skipping multi-line strings, and records where each table of an
array of tables starts and on which line each of its keys is set. Good enough to point a learner or a
lesson author at the right line; not a TOML parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


@dataclass
class Table:
    """One table in the file: its header line (0 for the root) and the lines of its keys."""

    line: int
    keys: dict[str, int] = field(default_factory=dict)


@dataclass
class LineMap:
    """Tables by dotted name; arrays of tables keep one entry per ``[[name]]`` in file order."""

    root: Table
    arrays: dict[str, list[Table]]

    def array_item(self, name: str, index: int) -> Table | None:
        """The ``index``-th ``[[name]]`` table, or None."""
        items = self.arrays.get(name, [])
        return items[index] if 0 <= index < len(items) else None

    def line_of(self, name: str, index: int, key: str | None = None) -> int | None:
        """The line of ``key`` in the ``index``-th ``[[name]]`` table, else of its header."""
        table = self.array_item(name, index)
        if table is None:
            return None
        if key is not None and key in table.keys:
            return table.keys[key]
        return table.line


def scan(text: str) -> LineMap:
    """Scan ``text`` and map its tables and keys to line numbers (1-based)."""
    root = Table(line=0)
    arrays: dict[str, list[Table]] = {}
    current = root
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header:
            current = Table(line=number)
            if header.group(1) == "[[":
                arrays.setdefault(header.group(2), []).append(current)
            continue
        key = _KEY.match(line)
        if key:
            current.keys.setdefault(key.group(1), number)
        for quote in ('"""', "'''"):
            if line.count(quote) % 2 == 1:
                in_string = quote
                break
    return LineMap(root=root, arrays=arrays)
