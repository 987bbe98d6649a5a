"""The footer shows whole keys only: the palette's key goes first, then keys from the end."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets._footer import FooterKey

from tutor.ui.widgets.footer import FittingFooter


class ManyKeys(App[None]):
    BINDINGS = [Binding(f"f{n}", f"noop({n})", f"Action number {n}") for n in range(1, 9)]

    def __init__(self, compact: bool) -> None:
        super().__init__()
        self.compact = compact

    def compose(self) -> ComposeResult:
        yield FittingFooter(compact=self.compact)

    def action_noop(self, n: int) -> None:
        pass


def shown(app: App[None]) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


@pytest.mark.parametrize("compact", [False, True])
async def test_keys_that_do_not_fit_are_left_out_whole(compact: bool) -> None:
    app = ManyKeys(compact)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        names = shown(app)
        assert 1 <= len(names) < 8 and "palette" not in names
        assert names == [f"Action number {n}" for n in range(1, len(names) + 1)]
        for key in keys:
            assert key.region.right <= 60 and key.region.width == key.get_content_width(
                app.size, app.size
            )
        await pilot.resize_terminal(200, 10)
        await pilot.pause()
        await pilot.pause()
        assert len(shown(app)) == 9 and "palette" in shown(app)  # all of them, and the palette
