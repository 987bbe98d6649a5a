"""The devices screen (key d): what PyTorch sees, and which device training should use.

The report comes from ``python -m tutor.devices.probe_process`` run by a thread worker (group
"devices"): CUDA's first start can take seconds and this process never imports torch. A loading
indicator shows meanwhile; f5 (or ctrl+r) probes again. The last report is kept for the process
(``tutor.ui.hardware``), so reopening the screen shows it at once. The device setting (auto, cpu,
cuda, cuda:N, mps) is stored with ``app.db.set_setting("device", ...)``; training reads it.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Label, LoadingIndicator, Select, Static

from tutor.devices.errors import DeviceError
from tutor.devices.report_text import auto_text, report_sections, training_cpu_text
from tutor.devices.select import parse_spec
from tutor.ui import hardware
from tutor.ui.hardware import Probe
from tutor.ui.widgets.footer import FittingFooter
from tutor.ui.widgets.header import TutorHeader

SETTING_KEY = "device"
DEFAULT_CHOICE = "auto"
BASE_CHOICES = ("auto", "cpu", "cuda", "mps")


def choices_for(report: dict[str, Any] | None, current: str) -> list[tuple[str, str]]:
    """(label, value) pairs for the setting: what works here, plus the saved choice if it does not."""
    if report is None:
        values = list(BASE_CHOICES)
    else:
        values = ["auto", "cpu"]
        if report.get("cuda_available"):
            values.append("cuda")
            values.extend(f"cuda:{i}" for i in range(int(report.get("gpu_count") or 0)))
        if report.get("mps_available"):
            values.append("mps")
    labels = {"auto": "auto (cuda, then mps, then cpu)"}
    pairs = [(labels.get(v, v), v) for v in values]
    if current not in values:
        suffix = "" if report is None else " (not available here)"
        pairs.append((f"{current}{suffix}", current))
    return pairs


def report_renderable(report: dict[str, Any]) -> Text:
    """The report as rich Text: bold headings, indented lines (no markup: names may hold [ ])."""
    text = Text()
    for heading, lines in report_sections(report):
        text.append(f"{heading}\n", style="bold")
        for line in lines:
            text.append(f"  {line}\n")
    text.rstrip()
    return text


class DevicesScreen(Screen[None]):
    """The device report and the device setting; escape goes back, f5 probes again."""

    BINDINGS = [
        Binding("escape", "leave", "Back"),
        Binding("f5,ctrl+r", "refresh_report", "Refresh"),
    ]

    class ReportReady(Message):
        """The probe finished with a report."""

        def __init__(self, report: dict[str, Any]) -> None:
            super().__init__()
            self.report = report

    class ProbeFailed(Message):
        """The probe failed; ``text`` is one sentence."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, probe: Probe | None = None) -> None:
        super().__init__()
        self._probe = probe or hardware.probe
        self._cancel = threading.Event()
        self.report: dict[str, Any] | None = None

    # Layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        current = self._saved_choice()
        last = hardware.last_report()
        yield TutorHeader()
        with Horizontal(id="device-setting"):
            yield Label("Train on:")
            yield Select(
                choices_for(last, current),
                value=current,
                allow_blank=False,
                id="device-choice",
            )
        yield Static(self._setting_note(current, last), id="device-note", markup=False)
        with VerticalScroll(id="device-report"):
            yield LoadingIndicator(id="device-loading")
            yield Static("", id="device-text", markup=False)
        yield FittingFooter()

    def on_mount(self) -> None:
        self.sub_title = "Devices"
        last = hardware.last_report()
        if last is not None:
            self._show(last)
        else:
            self.action_refresh_report()

    def on_unmount(self) -> None:
        self._cancel.set()  # a probe still running is killed, not waited for

    # The setting ----------------------------------------------------------------------------

    def _saved_choice(self) -> str:
        db = getattr(self.app, "db", None)
        value = db.get_setting(SETTING_KEY, DEFAULT_CHOICE) if db is not None else None
        try:
            parse_spec(value or DEFAULT_CHOICE)
        except DeviceError:
            return DEFAULT_CHOICE  # an unreadable stored value falls back to auto
        return value or DEFAULT_CHOICE

    def _setting_note(self, choice: str, report: dict[str, Any] | None) -> str:
        if report is None:
            return f"Training uses: {choice}. Checking the hardware..."
        if choice == "auto":
            return f"Training uses: {auto_text(report)}"
        if choice == "cpu":
            return f"Training uses: {training_cpu_text(report)}."
        if choice in [value for _label, value in choices_for(report, DEFAULT_CHOICE)]:
            return f"Training uses: {choice}."
        return (
            f"Training is set to {choice}, which is not available here: training will stop "
            "with an error. Choose auto to use the best device present."
        )

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "device-choice" or not isinstance(event.value, str):
            return
        choice = event.value
        if choice == self._saved_choice():
            self._update_note()
            return
        db = getattr(self.app, "db", None)
        if db is None:
            self.notify(
                "The device setting cannot be saved: no progress database.", severity="error"
            )
            return
        db.set_setting(SETTING_KEY, choice)
        self._update_note()
        self.notify(f"Training will use {choice}.")

    def _update_note(self) -> None:
        note = self._setting_note(self._saved_choice(), self.report)
        self.query_one("#device-note", Static).update(note)

    # The report -----------------------------------------------------------------------------

    def action_refresh_report(self) -> None:
        self.query_one("#device-loading", LoadingIndicator).display = True
        self._run_probe()

    @work(thread=True, exclusive=True, group="devices", exit_on_error=False, description="probe")
    def _run_probe(self) -> None:
        try:
            report = self._probe(self._cancel)
        except Exception as exc:  # ProbeError and anything unexpected: one sentence on screen
            self.post_message(self.ProbeFailed(str(exc) or type(exc).__name__))
            return
        self.post_message(self.ReportReady(report))

    def on_devices_screen_report_ready(self, message: ReportReady) -> None:
        hardware.remember(message.report)
        self._show(message.report)

    def on_devices_screen_probe_failed(self, message: ProbeFailed) -> None:
        self.query_one("#device-loading", LoadingIndicator).display = False
        self.query_one("#device-text", Static).update(
            Text(f"{message.text}\nPress f5 to try again.", style="bold")
        )

    def _show(self, report: dict[str, Any]) -> None:
        self.report = report
        self.query_one("#device-loading", LoadingIndicator).display = False
        self.query_one("#device-text", Static).update(report_renderable(report))
        select = self.query_one("#device-choice", Select)
        current = self._saved_choice()
        with select.prevent(Select.Changed):
            select.set_options(choices_for(report, current))
            select.value = current
        self._update_note()

    def action_leave(self) -> None:
        self.app.pop_screen()
