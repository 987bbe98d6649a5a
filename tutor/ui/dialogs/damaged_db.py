"""Ask before moving a damaged progress database aside: progress is never deleted silently."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static


class DamagedDatabaseDialog(ModalScreen[bool]):
    """Explains the damage; "Move aside" keeps the old file under a new name, "Quit" leaves it."""

    BINDINGS = [Binding("escape", "quit_app", "Quit")]

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(Text("Progress database damaged", style="bold"))
            yield Static(
                Text(
                    f"{self.message}\nMove it aside (it is renamed, not deleted) and start with "
                    "fresh progress, or quit and repair or restore it yourself."
                )
            )
            with Horizontal(classes="buttons"):
                yield Button("Move aside", id="move", variant="warning")
                yield Button("Quit", id="quit")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "move")

    def action_quit_app(self) -> None:
        self.dismiss(False)
