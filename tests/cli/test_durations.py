"""Durations read the same in the app and on the command line: ``4:05`` and ``1:02:03``."""

from __future__ import annotations

import pytest

from tutor.cli.train_follow import _Printer
from tutor.durations import clock
from tutor.training import events as ev
from tutor.ui.screens.training import progress_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0:00"), (4.9, "0:04"), (245, "4:05"), (3599, "59:59"), (3723, "1:02:03"), (-3, "0:00")],
)
def test_clock(seconds: float, text: str) -> None:
    assert clock(seconds) == text


def test_the_command_line_bar_and_the_screen_show_the_same_eta(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 3,723 steps left at one step a second: an hour and two minutes, never "62:03".
    printer = _Printer(batch_size=1)
    printer.width = 200
    printer.epochs, printer.steps_per_epoch = 1, 3723
    step = ev.Step(1, 0, 0, 3723, 0.5, [0.5], 1.0, 0.0)
    printer._bar(step)
    assert "ETA 1:02:03" in capsys.readouterr().out
    assert "ETA 1:02:03" in progress_text(1, 1, 0, 3723, 1.0, 1)
