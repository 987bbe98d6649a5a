"""The app's header: Textual's Header, made safe against a screen that leaves while it mounts.

Textual's Header updates its title from watchers that may run after its screen was popped (a quick
key press on a loaded machine), and then fails to find its own title widget. This one skips the
update instead of ending the app.
"""

from __future__ import annotations

from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.events import Mount
from textual.widgets import Header
from textual.widgets._header import HeaderTitle


class TutorHeader(Header):
    """Header whose title watchers tolerate a header that is already being removed."""

    def _on_mount(self, event: Mount) -> None:
        # Replaces Header._on_mount: handlers run up the class hierarchy unless stopped here.
        event.prevent_default()

        async def set_title() -> None:
            if not self.is_attached:
                return
            try:
                self.query_one(HeaderTitle).update(self.format_title())
            except (NoMatches, NoScreen):
                pass

        self.watch(self.app, "title", set_title)
        self.watch(self.app, "sub_title", set_title)
        self.watch(self.screen, "title", set_title)
        self.watch(self.screen, "sub_title", set_title)
