"""Snapshots of every screen at 80x24, and of the tight ones at 60x18 (pytest-textual-snapshot).

The SVGs live in ``__snapshots__/test_screens/`` beside this file; a difference fails the test and
``python -m pytest tests/snapshots --snapshot-update`` writes new ones (see docs/testing.md). The
conditions are pinned in this folder's conftest and ``snapshot_inputs``: environment, cursors,
clock, seeds, runs, probe.
The exercise snapshots drive the real kernel: its verdicts are deterministic (seeded setups, no
timing in the text).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from helpers.machines import gpu_report, probe_of
from helpers.waiting import wait_until
from snapshot_inputs import DONE_RUN, T0
from textual.containers import ScrollableContainer
from textual.pilot import Pilot
from textual.widgets import TextArea

from tutor.ui import hardware
from tutor.ui.app import TutorApp
from tutor.ui.dialogs.term import TermDialog
from tutor.ui.screens.devices import DevicesScreen
from tutor.ui.screens.quiz import QuizScreen
from tutor.ui.screens.runs import RunsScreen
from tutor.ui.screens.training import TrainingScreen
from tutor.ui.widgets.exercise import ExercisePanel
from tutor.ui.widgets.loss_chart import LossChart

WIDE = (80, 24)
TIGHT = (60, 18)
BOTH = [pytest.param(WIDE, id="80x24"), pytest.param(TIGHT, id="60x18")]
WRONG = "y = activation(torch.sum(features * weights))\n"
RIGHT = "y = activation(torch.sum(features * weights) + bias)\n"

Before = Callable[[Pilot[Any]], Awaitable[None]]
Compare = Callable[..., bool]


# Workers that follow something until their screen closes: waiting for them would never end.
ENDLESS = {"run-follow"}


async def settle(pilot: Pilot[Any]) -> None:
    """Until the workers started so far have finished and their messages are handled."""
    for _ in range(3):
        workers = [worker for worker in pilot.app.workers if worker.group not in ENDLESS]
        if workers:  # an empty list would mean every worker, the endless ones too
            await pilot.app.workers.wait_for_complete(workers)
        await pilot.pause()


def shot(snap_compare: Compare, size: tuple[int, int], before: Before | None = None) -> bool:
    """The app started fresh at ``size``, after ``before`` ran."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        if before is not None:
            await before(pilot)
        await settle(pilot)

    return snap_compare(TutorApp(), terminal_size=size, run_before=run_before)


@pytest.fixture
def no_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages without an exercise on screen need no kernel: none is started."""
    monkeypatch.setattr(TutorApp, "warm_kernel", lambda self: None)


# Lessons --------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", BOTH)
def test_lesson_list(snap_compare: Compare, size: tuple[int, int]) -> None:
    assert shot(snap_compare, size)


@pytest.mark.parametrize("size", BOTH)
def test_concept_page(snap_compare: Compare, size: tuple[int, int], no_kernel: None) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.open_step("tensors.intro")  # type: ignore[attr-defined]

    assert shot(snap_compare, size, before)


@pytest.mark.parametrize("size", BOTH)
def test_term_dialog(snap_compare: Compare, size: tuple[int, int], no_kernel: None) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        app: Any = pilot.app
        app.open_step("tensors.intro")
        await settle(pilot)
        app.push_screen(TermDialog(app.catalog.glossary.lookup("Tensor")))

    assert shot(snap_compare, size, before)


@pytest.mark.parametrize("size", BOTH)
def test_help(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await pilot.press("f1")

    assert shot(snap_compare, size, before)


def test_too_small(snap_compare: Compare) -> None:
    assert shot(snap_compare, (50, 15))


# Exercises (the real kernel) ----------------------------------------------------------------


async def laid_out(pilot: Pilot[Any]) -> None:
    """Until the page's layout and scroll position stop changing (Markdown lays out in steps)."""
    screen = pilot.app.screen
    last: tuple[Any, ...] = ()
    for _ in range(50):
        await settle(pilot)
        await pilot.pause(0.1)
        now = tuple((w.region, w.scroll_offset) for w in screen.query("*") if w.display)
        if now == last:
            return
        last = now
    raise AssertionError("the page kept moving")


async def open_exercise(pilot: Pilot[Any]) -> ExercisePanel:
    """The exercise open, its page laid out and scrolled as focusing its editor leaves it.

    The reader focuses the editor as the step opens, which scrolls the page by as much as the
    prompt had grown by then (Markdown lays out in steps): from the top, focusing it again has
    one outcome.
    """
    pilot.app.open_step("tensors.neuron-sum")  # type: ignore[attr-defined]
    await laid_out(pilot)
    for scroller in pilot.app.screen.query(ScrollableContainer):
        scroller.scroll_home(animate=False)
    panel = pilot.app.screen.query_one(ExercisePanel)
    pilot.app.screen.set_focus(None)
    await laid_out(pilot)
    panel.query_one(TextArea).focus()
    await laid_out(pilot)
    return panel


async def run_code(pilot: Pilot[Any], code: str) -> None:
    panel = await open_exercise(pilot)
    editor = panel.query_one(TextArea)
    editor.load_text(code)
    await laid_out(pilot)
    await pilot.press("f5")
    await laid_out(pilot)


@pytest.mark.slow
@pytest.mark.parametrize("size", BOTH)
def test_exercise_before_a_run(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await open_exercise(pilot)

    assert shot(snap_compare, size, before)


@pytest.mark.slow
@pytest.mark.parametrize("size", BOTH)
def test_exercise_after_a_wrong_run(snap_compare: Compare, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await run_code(pilot, WRONG)

    assert shot(snap_compare, size, before)


@pytest.mark.slow
def test_exercise_solved(snap_compare: Compare) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        await run_code(pilot, RIGHT)

    assert shot(snap_compare, WIDE, before)


# Training -------------------------------------------------------------------------------------


async def drawn(pilot: Pilot[Any]) -> None:
    """Until the loss chart shows its picture of all the data at its present size."""
    chart = pilot.app.screen.query_one(LossChart)

    def ready() -> bool:
        size = (chart.size.width, chart.size.height)
        return chart._picture is not None and not chart._dirty and chart._picture_size == size

    await wait_until(pilot, ready, "the loss chart to be drawn")


@pytest.mark.parametrize("size", BOTH)
def test_training_run(snap_compare: Compare, size: tuple[int, int], fixed_runs: list[str]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(TrainingScreen(DONE_RUN))
        await settle(pilot)
        await drawn(pilot)

    assert shot(snap_compare, size, before)


@pytest.mark.parametrize("size", BOTH)
def test_training_step(
    snap_compare: Compare, size: tuple[int, int], fixed_runs: list[str], no_kernel: None
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.open_step("fashion-mnist.train")  # type: ignore[attr-defined]

    assert shot(snap_compare, size, before)


def test_training_step_offering_all_gpus(
    snap_compare: Compare,
    fixed_runs: list[str],
    no_kernel: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On a simulated server with 4 GPUs the step offers a run on all of them (F6)."""
    monkeypatch.setattr(hardware, "probe", probe_of(gpu_report(4)))
    monkeypatch.setattr(hardware, "gpu_device_files", lambda: 4)

    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.open_step("fashion-mnist.train")  # type: ignore[attr-defined]

    assert shot(snap_compare, WIDE, before)


@pytest.mark.parametrize("size", BOTH)
def test_runs_list(snap_compare: Compare, size: tuple[int, int], fixed_runs: list[str]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(RunsScreen())

    assert shot(snap_compare, size, before)


@pytest.mark.parametrize("size", BOTH)
def test_devices(
    snap_compare: Compare, size: tuple[int, int], fixed_probe: Callable[[Any], dict[str, Any]]
) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(DevicesScreen(probe=fixed_probe))

    assert shot(snap_compare, size, before)


# Quiz -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "size"),
    [
        ("choice", WIDE),
        ("choice", TIGHT),
        ("typed", WIDE),
        ("typed", TIGHT),
        ("code", WIDE),
        ("code", TIGHT),
    ],
    ids=["choice-80x24", "choice-60x18", "typed-80x24", "typed-60x18", "code-80x24", "code-60x18"],
)
def test_quiz(snap_compare: Compare, mode: str, size: tuple[int, int]) -> None:
    async def before(pilot: Pilot[Any]) -> None:
        screen = QuizScreen(mode=mode, count=10, clock=lambda: T0, rng=random.Random(3))  # type: ignore[arg-type]
        pilot.app.push_screen(screen)

    assert shot(snap_compare, size, before)
