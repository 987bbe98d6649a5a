"""Every kind of step works on arrival: its main keys act with nothing pressed first, and the
footer shows them, however the learner got there (n, j, the command palette, resume after a
restart). The kernel is a stand-in (tests/helpers/fake_kernel.py) and training runs are not started.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.fake_kernel import FakeKernel
from textual.widgets import RichLog, Static
from textual.widgets._footer import FooterKey

from tutor.kernel import Kernel
from tutor.lessons import load_catalog
from tutor.training.config import TrainConfig
from tutor.ui.app import TutorApp
from tutor.ui.screens.reader import ReaderScreen

LESSONS = Path(__file__).parents[1] / "fixtures" / "arrival"
WAYS = ["next", "jump", "palette", "resume"]
SIZES = [(80, 24), (60, 18)]


@pytest.fixture(autouse=True)
def fake_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Kernel, "start", staticmethod(lambda **kwargs: FakeKernel()))


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[TrainConfig]:
    """Training runs the training step asked for; none is really started."""
    configs: list[TrainConfig] = []

    def start_run(node: Any, run_dir: Any = None, *, config: TrainConfig, **kwargs: Any) -> None:
        configs.append(config)

    monkeypatch.setattr("tutor.ui.widgets.training_step.start_run", start_run)
    return configs


def make_app() -> TutorApp:
    return TutorApp(catalog=load_catalog([LESSONS]))


async def settle(app: TutorApp, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def arrive(way: str, step_id: str, size: tuple[int, int]) -> tuple[TutorApp, Any, Any]:
    """Open the app and reach ``kinds.<step_id>`` the given way; returns (app, pilot, context)."""
    app = make_app()
    lesson = app.catalog.lesson("kinds")
    assert lesson is not None
    index = lesson.index_of(step_id)
    if way == "resume":
        # An earlier session left the learner on the step; this one starts there.
        first = make_app()
        async with first.run_test(size=size) as pilot:
            await pilot.pause()
            first.open_step(f"kinds.{step_id}")
            await settle(first, pilot)
    context = app.run_test(size=size)
    pilot = await context.__aenter__()
    await pilot.pause()
    if way == "next":
        app.open_step(f"kinds.{lesson.steps[index - 1].id}")
        await settle(app, pilot)
        await pilot.press("n")
    elif way == "jump":
        app.open_step("kinds.intro")
        await settle(app, pilot)
        await pilot.press("j")
        await pilot.pause()
        await pilot.press(*["down"] * index, "enter")
    elif way == "palette":
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*f"kinds.{step_id}")
        await pilot.pause(0.5)
        await pilot.press("enter")
    await settle(app, pilot)
    reader = app.screen
    assert isinstance(reader, ReaderScreen), f"{way}: {app.screen}"
    assert reader.step.full_id == f"kinds.{step_id}"
    return app, pilot, context


def footer_labels(app: TutorApp) -> list[str]:
    return [f"{key.key_display} {key.description}" for key in app.screen.query(FooterKey)]


@pytest.mark.parametrize("way", WAYS)
async def test_training_step_keys_work_on_arrival(way: str, started: list[TrainConfig]) -> None:
    app, pilot, context = await arrive(way, "train", (80, 24))
    try:
        assert {"f5 Train", "o Last run"} <= set(footer_labels(app))
        await pilot.press("o")
        await pilot.pause()
        assert any("no run yet" in str(n.message) for n in app._notifications)
        await pilot.press("f5")
        await pilot.press("ctrl+j")
        await pilot.pause()
        assert [config.step_id for config in started] == ["kinds.train", "kinds.train"]
    finally:
        await context.__aexit__(None, None, None)


@pytest.mark.parametrize("way", WAYS)
async def test_exercise_keys_work_on_arrival(way: str) -> None:
    app, pilot, context = await arrive(way, "sum", (80, 24))
    try:
        assert {"^j Run", "f2 Hint", "f3 Solution"} <= set(footer_labels(app))
        # The main key first, with nothing pressed before it.
        await pilot.press("ctrl+j")
        await settle(app, pilot)
        verdict = str(app.screen.query_one("#exercise-verdict", Static).render())
        assert verdict.startswith("✗ `y` is wrong")  # the stand-in kernel's verdict
        await pilot.press("f2")
        await pilot.pause()
        hint = str(app.screen.query_one("#exercise-hint", Static).render())
        assert hint.startswith("Hint 1/1")
        await pilot.press("f5")
        await settle(app, pilot)
        output = app.screen.query_one("#exercise-output", RichLog)
        assert "--- run 2 ---" in " ".join(line.text for line in output.lines)
    finally:
        await context.__aexit__(None, None, None)


@pytest.mark.parametrize("way", WAYS)
async def test_concept_keys_work_on_arrival(way: str) -> None:
    app, pilot, context = await arrive(way, "page", (80, 24))
    try:
        assert {"n Next", "j Jump"} <= set(footer_labels(app))
        await pilot.press("n")
        await pilot.pause()
        reader = app.screen
        assert isinstance(reader, ReaderScreen) and reader.step.full_id == "kinds.sum"
    finally:
        await context.__aexit__(None, None, None)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("step_id", ["page", "sum", "train"])
async def test_footer_keys_are_whole_at_each_size(
    size: tuple[int, int], step_id: str, started: list[TrainConfig]
) -> None:
    app, pilot, context = await arrive("next", step_id, size)
    try:
        # As arrived; for the exercise also with focus on the panel around the editor.
        for leave_editor in (False, True) if step_id == "sum" else (False,):
            if leave_editor:
                await pilot.press("escape")
                await pilot.pause()
            keys = list(app.screen.query(FooterKey))
            assert keys
            for key in keys:
                region = key.region
                assert region.width > 0 and region.right <= size[0], footer_labels(app)
                text = str(key.render())
                assert key.description in text and key.key_display in text
    finally:
        await context.__aexit__(None, None, None)
