"""The answer editor: Python code that keeps its indent, says when it has focus, and lets go on escape.

Enter keeps the current line's indent and adds one level after a line ending in ``:``, so a
``def`` or ``for`` typed line by line does not become an IndentationError; backspace in the
leading spaces takes one level back. The border title says
whether the editor has focus (in words, so it shows without colour too) and how to get back in.
"""

from __future__ import annotations

import io
import tokenize

from textual import events
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import TextArea

# TextArea's own editing and cursor keys: key -> action. They are run as the key arrives (see
# ``CodeEditor._on_key``) rather than after the key has bubbled up to the app as bindings are.
IN_ORDER_KEYS = {
    key.strip(): binding.action
    for binding in TextArea.BINDINGS
    if isinstance(binding, Binding)
    for key in binding.key.split(",")
}

FOCUSED_TITLE = "your code · esc leaves"
BLURRED_TITLE = "your code · e to edit"


def next_line_indent(line: str, indent_width: int = 4) -> str:
    """The indent for the line after ``line`` (the text before the cursor): kept, or one more.

    A trailing comment is ignored, so ``for x in xs:  # each row`` still opens a block, and a
    ``#`` or ``:`` inside a string is text, not a comment or a block.
    """
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if _last_token(line) == ":":
        indent += " " * indent_width
    return indent


def _last_token(line: str) -> str:
    """The line's last Python token, comments aside; an unfinished line gives what it has so far."""
    last = ""
    tokens = tokenize.generate_tokens(io.StringIO(line.strip() + "\n").readline)
    try:
        for token in tokens:
            if token.type == tokenize.ERRORTOKEN:
                break  # an unclosed quote: what follows is inside the string
            if token.type in (tokenize.OP, tokenize.NAME, tokenize.NUMBER, tokenize.STRING):
                last = token.string
    except (tokenize.TokenError, SyntaxError):
        pass  # an open bracket or string: the tokens before it still count
    return last


class CodeEditor(TextArea):
    """A Python code editor for answers; escape leaves it for the panel around it.

    TextArea's own escape moves focus to the next widget; here escape is a binding that focuses
    the editor's parent (the exercise panel, where n, p, j and the F-keys work).

    Keys arrive together over a slow link (SSH) or a multiplexer. Textual inserts typed text as
    each key is handled but applies bindings (backspace, delete, the arrows) only once the key has
    bubbled up to the app, so in a burst "enter, backspace, a, b" the backspace used to land
    after "b". The editor's own keys therefore run as they arrive, in the order typed.
    """

    BINDINGS = [Binding("escape", "leave", "Leave editor")]

    def on_mount(self) -> None:
        self.border_title = BLURRED_TITLE

    def on_focus(self) -> None:
        self.border_title = FOCUSED_TITLE

    def on_blur(self) -> None:
        self.border_title = BLURRED_TITLE

    async def _on_key(self, event: events.Key) -> None:
        # Textual calls each class's _on_key in turn; prevent_default skips TextArea's.
        if event.key == "escape":
            event.prevent_default()  # the key goes on to the binding above
        elif event.key == "enter" and not self.read_only:
            event.stop()
            event.prevent_default()
            start, end = self.selection
            top = min(start, end)
            before = self.document.get_line(top[0])[: top[1]]
            self._replace_via_keyboard(
                "\n" + next_line_indent(before, self.indent_width), start, end
            )
        else:
            action = IN_ORDER_KEYS.get(event.key)
            if action is not None and self.check_action(action.split("(")[0], ()):
                event.stop()
                event.prevent_default()
                await self.run_action(action)

    def action_delete_left(self) -> None:
        """Backspace; in a line's leading spaces it takes one indent level back, as enter gave
        one, so ending a block is one key (an indent off the grid goes to the level below)."""
        start, end = self.selection
        row, column = end
        before = self.document.get_line(row)[:column]
        if start == end and before and not before.strip(" "):
            level = (column - 1) // self.indent_width * self.indent_width
            self._delete_via_keyboard((row, level), end)
            return
        super().action_delete_left()

    def action_leave(self) -> None:
        """Focus the nearest focusable ancestor without scrolling (the verdict stays in sight)."""
        for ancestor in self.ancestors:
            if isinstance(ancestor, Widget) and ancestor.focusable:
                self.screen.set_focus(ancestor, scroll_visible=False)
                return
        self.screen.set_focus(None)
