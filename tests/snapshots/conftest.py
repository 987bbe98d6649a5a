"""Fixed conditions for the screen snapshots: environment, cursors, clock, runs and probe.

Every input a screen draws from is pinned here, so that a snapshot changes only when what the
screen shows changes: no colour or animation settings from the developer's terminal, cursors that
do not blink, quiz questions from a fixed clock and seed, runs with fixed ids and metrics, and a
device report that comes from no real probe.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from snapshot_inputs import (
    CPU_REPORT,
    DONE_RUN,
    FAILED_RUN,
    STOPPED_RUN,
    done_event,
    metrics,
    write_run,
)
from textual.widgets import Input, TextArea

from tutor.training.config import TrainConfig


@pytest.fixture(autouse=True)
def fixed_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment and widget behaviour every snapshot is taken under."""
    for name in list(os.environ):
        # TEXTUAL_SNAPSHOT_* belong to the snapshot plugin itself.
        textual = name.startswith("TEXTUAL_") and not name.startswith("TEXTUAL_SNAPSHOT_")
        if textual or name in ("NO_COLOR", "FORCE_COLOR", "COLORTERM"):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    monkeypatch.setenv("COLORTERM", "truecolor")
    # textual reads TEXTUAL_ANIMATIONS once, at import: set the value apps read at start too.
    monkeypatch.setattr("textual.constants.TEXTUAL_ANIMATIONS", "none")
    # A blinking cursor is on or off by chance when the picture is taken: keep it on.
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    # The app's last device report starts empty, and the probe is simulated (tests/conftest.py).


@pytest.fixture
def fixed_runs() -> list[str]:
    """Three runs with fixed ids and metrics; the stopped one is the newest."""
    write_run(
        DONE_RUN,
        TrainConfig(model="mlp", epochs=3, step_id="fashion-mnist.train"),
        [*metrics(3, 470), done_event(3, 1410)],
        "done",
    )
    write_run(
        STOPPED_RUN,
        TrainConfig(model="mlp", epochs=5, step_id="fashion-mnist.train"),
        [*metrics(5, 470, stop_after=1), {"event": "stopped", "step": 940}],
        "stopped",
        "Stopped at step 940; c resumes from the checkpoint.",
    )
    write_run(
        FAILED_RUN,
        TrainConfig(model="cnn", epochs=2),
        [{"event": "failed", "message": "The dataset files are missing; see the log."}],
        "failed",
        "The dataset files are missing; see the log.",
    )
    return [DONE_RUN, STOPPED_RUN, FAILED_RUN]


@pytest.fixture
def fixed_probe() -> Callable[[Any], dict[str, Any]]:
    """A device probe that answers at once with the same CPU-only report."""
    return lambda cancel: dict(CPU_REPORT)
