"""The exercise panel at 80x24 and 60x18: the whole verdict in sight after a run, output that wraps,
an editor that shows its focus, has a key of its own and keeps the indent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.fake_kernel import FakeKernel
from textual import events
from textual.widgets import RichLog, Static
from textual.widgets._footer import FooterKey

from tutor.kernel import Kernel
from tutor.lessons import load_catalog
from tutor.ui.app import TutorApp
from tutor.ui.widgets.exercise import ExercisePanel
from tutor.ui.widgets.exercise_editor import (
    BLURRED_TITLE,
    FOCUSED_TITLE,
    CodeEditor,
    next_line_indent,
)

ARRIVAL = Path(__file__).parents[1] / "fixtures" / "arrival"
LONG_LINE = (
    "add the bias before the activation, and remember that each row must sum to one "
    "when the output is a probability distribution"
)


async def settle(app: TutorApp, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def footer_labels(app: TutorApp) -> set[str]:
    return {f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey)}


@pytest.mark.slow
@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_whole_verdict_in_sight_after_a_run_and_output_wraps(size: tuple[int, int]) -> None:
    app = TutorApp()
    async with app.run_test(size=size) as pilot:
        app.open_step("tensors.neuron-sum")
        await settle(app, pilot)
        editor = app.screen.query_one(CodeEditor)
        editor.load_text(
            f"y = activation(torch.sum(features * weights) + bias).sum()\nprint({LONG_LINE!r})\n"
        )
        await pilot.press("f5")
        await settle(app, pilot)
        verdict = app.screen.query_one("#exercise-verdict", Static)
        text = str(verdict.render())
        # The shape complaint is several lines long at these widths; all of it is on screen.
        assert text.startswith("✗ `y` has shape () but should be (1, 1).")
        assert text.endswith("(F2: a hint)") and verdict.region.height >= 2
        body = app.screen.query_one("#step-body")
        assert body.region.contains_region(verdict.region), (body.region, verdict.region)

        # The output pane wraps the long printed line instead of cutting it.
        output = app.screen.query_one("#exercise-output", RichLog)
        width = output.scrollable_content_region.width
        assert all(line.cell_length <= width for line in output.lines)
        joined = " ".join(" ".join(line.text.split()) for line in output.lines)
        assert LONG_LINE in joined


@pytest.fixture
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Kernel, "start", staticmethod(lambda **kwargs: FakeKernel()))


@pytest.mark.parametrize("size", [(80, 24), (60, 18)])
async def test_editor_shows_focus_has_its_key_and_keeps_the_indent(
    size: tuple[int, int], fake_kernel: None
) -> None:
    app = TutorApp(catalog=load_catalog([ARRIVAL]))
    async with app.run_test(size=size) as pilot:
        app.open_step("kinds.sum")
        await settle(app, pilot)
        panel = app.screen.query_one(ExercisePanel)
        editor = app.screen.query_one(CodeEditor)
        assert app.focused is editor
        assert editor.border_title == FOCUSED_TITLE
        assert editor.styles.border_top[0] == "heavy"  # a shape, so focus shows without colour
        assert "esc Leave editor" in footer_labels(app)
        assert "e Edit" not in footer_labels(app)  # e is typed text in the editor

        await pilot.press("escape")
        await pilot.pause()
        assert app.focused is panel
        assert editor.border_title == BLURRED_TITLE
        assert editor.styles.border_top[0] == "round"
        assert "e Edit" in footer_labels(app)
        # The >>> line shows its focus too (reversed), and e brings the editor back from it.
        prompt = app.screen.query_one("#exercise-repl-prompt")
        assert not prompt.styles.text_style.reverse
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is app.screen.query_one("#exercise-repl")
        assert prompt.styles.text_style.reverse
        await pilot.press("escape", "e")
        await pilot.pause()
        assert app.focused is editor and editor.text == "y = ...\n"  # e moved focus, typed nothing
        assert not prompt.styles.text_style.reverse

        # Auto-indent: one level after a line ending in ":", the current indent otherwise; one
        # backspace in the leading spaces takes one level back.
        editor.load_text("")
        await pilot.press(*"def f(x):", "enter", *"if x:  # a comment", "enter")
        await pilot.press(*"return x", "enter", "backspace", *"return 0")
        assert editor.text == "def f(x):\n    if x:  # a comment\n        return x\n    return 0"
        # An indent off the grid goes back to the level below; elsewhere backspace is one space.
        editor.load_text("      y = 1   ")
        editor.move_cursor((0, 6))
        await pilot.press("backspace")
        editor.move_cursor(editor.document.end)
        await pilot.press("backspace")
        assert editor.text == "    y = 1  "


def test_next_line_indent() -> None:
    assert next_line_indent("x = 1") == ""
    assert next_line_indent("    x = 1") == "    "
    assert next_line_indent("for i in range(3):") == "    "
    assert next_line_indent("    def f(self):   ") == "        "
    assert next_line_indent("  if a:  # why") == "      "
    assert next_line_indent("s = 'a:'") == ""
    assert next_line_indent("\tif a:", indent_width=2) == "\t  "
    # A "#" or ":" inside a string is text: neither a comment nor the end of a block header.
    assert next_line_indent('if line.startswith("#"):') == "    "
    assert next_line_indent('    for key in ("a#", "b"):  # keys') == "        "
    assert next_line_indent("    print('ratio:', r)") == "    "
    # An unfinished line (an open bracket or string) keeps the indent unless it ends in ":".
    assert next_line_indent("    x = f(a,") == "    "
    assert next_line_indent("s = 'abc:") == ""


def test_every_exercise_key_is_in_help_and_readme() -> None:
    from tutor.ui.screens.help import KEYS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = [line for line in readme.splitlines() if line.startswith("| exercise |")]
    helped = " ".join(key for where, key, _ in KEYS if where == "exercise")
    for binding in ExercisePanel.BINDINGS:
        if binding.key == "tab" or binding.action == "next_field":  # type: ignore[union-attr]
            continue
        first = binding.key.split(",")[-1]  # type: ignore[union-attr]
        assert first in helped, first
        assert any(f"`{first}`" in row for row in rows), first
    assert "escape" in helped and any("`escape`" in row for row in rows)


async def test_keys_typed_in_one_burst_edit_in_the_order_typed(fake_kernel: None) -> None:
    """Over a slow link keys arrive together; a backspace must not land after the text behind it.

    Textual applies a widget's key bindings only after the key has bubbled up to the app, while
    typed characters go in at once, so in a burst of enter, backspace, "a", "b" the backspace
    used to delete "b" instead of the indent.
    """
    app = TutorApp(catalog=load_catalog([ARRIVAL]))
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_step("kinds.sum")
        await settle(app, pilot)
        editor = app.screen.query_one(CodeEditor)
        editor.load_text("def f(x):")
        editor.move_cursor(editor.document.end)
        driver = app._driver
        assert driver is not None
        burst = [("enter", None), ("backspace", None), ("a", "a"), ("b", "b")]
        burst += [("left", None), ("delete", None), ("c", "c")]
        for key, char in burst:
            event = events.Key(key, char)
            event.set_sender(app)
            driver.send_message(event)
        await pilot.pause()
        await pilot.pause()
        assert editor.text == "def f(x):\nac"  # backspace took the indent level back
