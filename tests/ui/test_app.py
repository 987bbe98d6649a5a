"""Pilot tests of the app shell at 80x24: browse, read, resume after restart, glossary, help, guards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import OptionList
from textual.widgets._header import HeaderTitle

from tutor.lessons import load_catalog
from tutor.ui.app import TutorApp
from tutor.ui.dialogs.damaged_db import DamagedDatabaseDialog
from tutor.ui.dialogs.jump import JumpDialog
from tutor.ui.dialogs.term import TermDialog, TermPicker
from tutor.ui.screens.browser import BrowserScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.screens.reader import ReaderScreen
from tutor.ui.screens.too_small import TooSmallScreen

FIXTURES = Path(__file__).parents[1] / "fixtures"
SIZE = (80, 24)


def make_app() -> TutorApp:
    return TutorApp(catalog=load_catalog([FIXTURES / "lessons"]))


async def test_open_step_quit_and_resume() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)
        assert app.screen.step.full_id == "basics.intro"
        await pilot.press("n")
        await pilot.press("n")
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.step.full_id == "basics.more"
        assert "step 2/3" in app.screen.sub_title
        header = str(app.screen.query_one(HeaderTitle).render())
        assert header.startswith("More about tensors") and "step 2/3" in header
        await pilot.press("q")
    again = make_app()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(again.screen, ReaderScreen)
        assert again.screen.step.full_id == "basics.more"
        # Resuming builds no lesson list beneath the reader: it would delay the first screen.
        assert not any(isinstance(screen, BrowserScreen) for screen in again.screen_stack)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(again.screen, BrowserScreen)
        lessons = again.screen.query_one("#lessons", OptionList)
        first = str(lessons.get_option_at_index(0).prompt)
        assert "3/3" in first  # all three concept pages were seen


async def test_glossary_term_opens_in_place() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, TermPicker)
        assert app.screen.names == ["Tensor"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, TermDialog)
        assert app.screen.term.definition == "An n-dimensional array of numbers."
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)


async def test_markdown_links_open_terms_and_steps() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        reader = app.screen
        assert isinstance(reader, ReaderScreen)
        from textual.widgets import Markdown

        markdown = reader.query_one(Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "step:basics.more"))
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen) and app.screen.step.id == "more"
        markdown = app.screen.query_one(Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "term:neural-network"))
        await pilot.pause()
        assert isinstance(app.screen, TermDialog)


async def test_jump_to_any_step() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("j")
        await pilot.pause()
        assert isinstance(app.screen, JumpDialog)
        await pilot.press("down", "down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)
        assert app.screen.step.id == "last"


async def test_help_opens_with_f1_and_question_mark() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_command_palette_opens_a_step() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"second only")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReaderScreen)
        assert app.screen.step.full_id == "second.only"


async def test_too_small_terminal_says_so() -> None:
    app = make_app()
    async with app.run_test(size=(50, 15)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        text = str(app.screen.query_one("#too-small-text").render())
        assert "needs at least" in text
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not isinstance(app.screen, TooSmallScreen)


async def test_broken_lesson_is_listed_with_reason(tmp_path: Path) -> None:
    (tmp_path / "01-good.toml").write_text(
        'id = "good"\ntitle = "Good"\n[[steps]]\nid = "a"\nkind = "concept"\ntitle = "A"\ntext = "x"\n'
    )
    (tmp_path / "02-bad.toml").write_text("id = [\n")
    app = TutorApp(catalog=load_catalog([tmp_path]))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        lessons = app.screen.query_one("#lessons", OptionList)
        assert lessons.option_count == 2
        bad = lessons.get_option_at_index(1)
        assert bad.disabled and "broken" in str(bad.prompt) and "invalid TOML" in str(bad.prompt)


async def test_damaged_database_is_moved_aside_only_when_asked(tutor_env: Path) -> None:
    db_path = tutor_env / "progress.sqlite3"
    db_path.write_bytes(b"this is not a database" * 100)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, DamagedDatabaseDialog)
        await pilot.click("#quit")
        await pilot.pause()
    assert db_path.read_bytes().startswith(b"this is not")
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.click("#move")
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen)
        assert app.progress is not None
    kept = [p for p in tutor_env.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].read_bytes().startswith(b"this is not")


UI_TOUR = """
import asyncio, sys
from tutor.ui.app import TutorApp
from tutor.exercises import kernels

kernels.SPARE_KERNEL = False

async def tour() -> None:
    app = TutorApp()
    async with app.run_test(size=(80, 24)) as pilot:
        for target in ("tensors", "tensors.neuron-sum", "fashion-mnist.train", "image-data.augmentation"):
            app.open_step(target)
            await pilot.pause(0.3)
        for area in ("devices", "runs", "quiz"):
            app.action_area(area)
            await pilot.pause(0.3)
            app.pop_screen()
        await pilot.press("f1")
        await pilot.pause()
    print("torch" in sys.modules, "torchvision" in sys.modules)

asyncio.run(tour())
"""


@pytest.mark.slow
def test_ui_process_never_imports_torch() -> None:
    """A fresh app process visits every kind of screen; torch stays in the child processes."""
    result = subprocess.run(
        [sys.executable, "-c", UI_TOUR], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[-2:] == ["False", "False"]
