"""A footer that shows only the keys that fit whole: no label is ever cut at the right edge.

Textual's footer lays its keys out in one row and cuts whatever passes the edge ("esc Less").
This one measures each key as it will be drawn and leaves out, from the end, those that do not
fit; the command palette's key goes first, since it is on the help screen too. The order of the
keys is the focus chain's (the focused widget's own keys first), so what stays is what matters
most where the learner is. It measures again when the terminal is resized.
"""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def key_width(key: FooterKey, compact: bool) -> int:
    """Columns a footer key takes, its margin included (see Footer's and FooterKey's CSS)."""
    if key.has_class("-command-palette"):
        # A left border, the key, its description; padded on the right unless compact.
        return 1 + len(key.key_display) + 1 + len(key.description) + (0 if compact else 2)
    margin = 1 if compact else 0
    if not key.description:
        return len(key.key_display) + margin
    if compact:
        return len(key.key_display) + 1 + len(key.description) + margin
    return len(key.key_display) + 2 + len(key.description) + 1


class FittingFooter(Footer):
    """A ``Footer`` that drops whole keys, never parts of labels, when the row is too short."""

    def compose(self) -> ComposeResult:
        widgets = list(super().compose())
        width = self.size.width or self.app.size.width
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        if len(keys) != len(widgets):  # groups: measured by Textual, left as they are
            yield from widgets
            return
        palette = [k for k in keys if k.has_class("-command-palette")]
        plain = [k for k in keys if not k.has_class("-command-palette")]
        needed = sum(key_width(k, self.compact) for k in plain)
        extra = sum(key_width(k, self.compact) for k in palette)
        if needed + extra > width:
            palette = []
        kept: list[Widget] = []
        used = sum(key_width(k, self.compact) for k in palette)
        for key in plain:
            used += key_width(key, self.compact)
            if used > width:
                break
            kept.append(key)
        self.styles.grid_size_columns = len(kept)
        yield from kept
        yield from palette

    def on_resize(self, event: events.Resize) -> None:
        if self._bindings_ready:
            self.call_after_refresh(self.recompose)
