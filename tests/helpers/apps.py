"""A host app for tests of one screen or a few widgets, with what the tutor's app offers them.

Screens and widgets read ``app.db`` and ``app.progress`` (``None`` unless given); notifications are
kept in ``notes`` (and shown as usual) so that a test can read what the user was told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget


class HostApp(App[None]):
    """Opens ``screen()`` on mount and composes ``widgets()``; ``styled`` loads app.tcss."""

    def __init__(
        self,
        screen: Callable[[], Screen[Any]] | None = None,
        widgets: Callable[[], Iterable[Widget]] | None = None,
        *,
        styled: bool = False,
        db: Any = None,
        progress: Any = None,
    ) -> None:
        css_path = None
        if styled:
            # Screens keep their rules in the app's stylesheet, not in DEFAULT_CSS.
            from tutor.ui.app import TutorApp

            css_path = TutorApp.CSS_PATH
        super().__init__(css_path=css_path)
        self.opening = screen
        self.widgets = widgets
        self.db = db
        self.progress = progress
        self.notes: list[str] = []

    def compose(self) -> ComposeResult:
        if self.widgets is not None:
            yield from self.widgets()

    def on_mount(self) -> None:
        if self.opening is not None:
            self.push_screen(self.opening())

    def notify(self, message: str, **kwargs: Any) -> None:  # type: ignore[override]
        self.notes.append(message)
        super().notify(message, **kwargs)
