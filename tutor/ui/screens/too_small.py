"""Shown instead of a squashed layout when the terminal is smaller than the tutor needs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

MIN_WIDTH = 60
MIN_HEIGHT = 18


class TooSmallScreen(ModalScreen[None]):
    """Says how large the terminal must be; the app removes it once the terminal grows."""

    BINDINGS = [("ctrl+q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static(id="too-small-text")

    def on_mount(self) -> None:
        self.update_text()

    def on_resize(self) -> None:
        self.update_text()

    def update_text(self) -> None:
        width, height = self.app.size
        self.query_one(Static).update(
            f"The terminal is {width}x{height}; pytorch-tutor needs at least "
            f"{MIN_WIDTH}x{MIN_HEIGHT} (80x24 is comfortable). Enlarge the window, or ctrl+q to quit."
        )
