"""A one-line REPL input with history: up and down walk through earlier lines, as in a shell.

The panel puts a permanent ``>>> `` label before it, so the prompt stays once the learner types.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input


class ReplInput(Input):
    """Enter submits a line (posted as ``ReplInput.Line``); up/down recall earlier lines."""

    BINDINGS = [
        Binding("up", "history(-1)", "Earlier", show=False),
        Binding("down", "history(1)", "Later", show=False),
    ]

    class Line(Message):
        """A line the learner entered."""

        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(
            placeholder="one line of Python; enter runs it, up/down: history",
            id=id,
            classes=classes,
            compact=True,  # one row: at 80x24 the editor and the output need the others
        )
        self.history: list[str] = []
        self._position = 0
        self._draft = ""

    def action_history(self, delta: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value  # keep what was being typed, like a shell
        self._position = max(0, min(len(self.history), self._position + delta))
        self.value = (
            self._draft if self._position == len(self.history) else self.history[self._position]
        )
        self.cursor_position = len(self.value)

    async def action_submit(self) -> None:
        code = self.value
        if code.strip():
            if not self.history or self.history[-1] != code:
                self.history.append(code)
            self.post_message(self.Line(code))
        self._position = len(self.history)
        self._draft = ""
        self.value = ""
