"""The devices screen at 80x24: loading indicator, the report, refresh, and the device setting."""

from __future__ import annotations

import threading
from typing import Any

from helpers.apps import HostApp
from textual.app import App
from textual.widgets import LoadingIndicator, Select, Static

from tutor.store import open_database
from tutor.ui.screens.devices import SETTING_KEY, DevicesScreen, choices_for

GIB = 2**30

REPORT: dict[str, Any] = {
    "schema": 1,
    "python": "3.11.7",
    "platform": "Linux",
    "torch": "2.14.1+cu130",
    "torchvision": "0.29.1",
    "cuda_version": "13.0",
    "hip_version": None,
    "cudnn_version": 92400,
    "cuda_available": True,
    "cuda_reason": None,
    "cuda_error": None,
    "gpu_count": 2,
    "gpus": [
        {"index": i, "name": f"NVIDIA [Test] GPU {i}", "capability": "9.0",
         "total_memory": 80 * GIB, "multiprocessors": 132, "free_memory": 70 * GIB}
        for i in range(2)
    ],
    "mps_built": False,
    "mps_available": False,
    "cpu": {"model": "Test CPU", "logical_cores": 16, "usable_cores": 16, "torch_threads": 16},
    "auto_device": "cuda:0",
    "auto_description": "cuda:0 NVIDIA [Test] GPU 0 (auto: CUDA is available)",
    "fallback": None,
    "warnings": [],
}  # fmt: skip


class FakeProbe:
    """Returns REPORT once ``release`` is set; counts its calls."""

    def __init__(self, report: dict[str, Any] | None = None, error: str | None = None) -> None:
        self.release = threading.Event()
        self.calls = 0
        self.report = report or REPORT
        self.error = error

    def __call__(self, cancel: threading.Event) -> dict[str, Any]:
        self.calls += 1
        while not self.release.wait(0.01):
            if cancel.is_set():
                raise RuntimeError("cancelled")
        if self.error:
            raise RuntimeError(self.error)
        return self.report


def screen_text(app: App[None]) -> str:
    return str(app.screen.query_one("#device-text", Static).render())


async def test_panel_loads_shows_report_and_saves_setting() -> None:
    db = open_database()
    probe = FakeProbe()
    app = HostApp(lambda: DevicesScreen(probe=probe), db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        # The first paint happens while the probe still runs.
        assert screen.query_one("#device-loading", LoadingIndicator).display
        assert "Checking the hardware" in str(screen.query_one("#device-note", Static).render())
        probe.release.set()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not screen.query_one("#device-loading", LoadingIndicator).display
        text = screen_text(app)
        assert "NVIDIA [Test] GPU 1, compute capability 9.0" in text  # brackets: no markup
        assert "80.0 GiB total, 70.0 GiB free" in text
        assert "cuDNN 9.24.0" in text
        note = str(screen.query_one("#device-note", Static).render())
        assert "auto: CUDA is available" in note
        select = screen.query_one("#device-choice", Select)
        values = [value for _label, value in select._options]
        assert values == ["auto", "cpu", "cuda", "cuda:0", "cuda:1"]
        assert db.get_setting(SETTING_KEY) is None  # showing the report saved nothing
        select.value = "cuda:1"
        await pilot.pause()
        assert db.get_setting(SETTING_KEY) == "cuda:1"
        assert "Training uses: cuda:1." in str(screen.query_one("#device-note", Static).render())
        # f5 probes again.
        await pilot.press("f5")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert probe.calls == 2
        await pilot.press("escape")
        assert not isinstance(app.screen, DevicesScreen)
    db.close()


async def test_unavailable_saved_choice_is_flagged() -> None:
    db = open_database()
    db.set_setting(SETTING_KEY, "cuda:3")
    probe = FakeProbe()
    probe.release.set()
    app = HostApp(lambda: DevicesScreen(probe=probe), db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        note = str(screen.query_one("#device-note", Static).render())
        assert "set to cuda:3, which is not available here" in note
        select = screen.query_one("#device-choice", Select)
        assert select.value == "cuda:3"
        assert db.get_setting(SETTING_KEY) == "cuda:3"  # never changed behind the learner's back
    db.close()


async def test_probe_failure_is_one_sentence() -> None:
    db = open_database()
    probe = FakeProbe(error="The device probe failed (exit 1): PyTorch cannot be imported.")
    probe.release.set()
    app = HostApp(lambda: DevicesScreen(probe=probe), db=db)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = screen_text(app)
        assert "PyTorch cannot be imported" in text and "f5" in text
        assert not app.screen.query_one("#device-loading", LoadingIndicator).display
    db.close()


def test_choices_before_and_after_the_report() -> None:
    assert [v for _l, v in choices_for(None, "auto")] == ["auto", "cpu", "cuda", "mps"]
    cpu_only = {**REPORT, "cuda_available": False, "gpu_count": 0, "gpus": []}
    pairs = choices_for(cpu_only, "cuda")
    assert [v for _l, v in pairs] == ["auto", "cpu", "cuda"]
    assert pairs[-1][0] == "cuda (not available here)"
