"""What the device probe last said, kept for the app's process.

The probe (``python -m tutor.devices.probe_process``, via ``report_data.run_probe``) imports torch
and starts CUDA in a child, which takes seconds: screens run it in a thread worker and keep its
report here, so the devices screen shows it at once when reopened and a lesson's training step
knows how many GPUs it could train on without asking again. ``probe`` is the one function that
runs it (tests replace it with a simulated machine). Before probing for GPUs, ``may_have_gpus``
looks at the device files, so a machine without several GPUs never pays for a torch import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tutor.devices.availability import gpu_device_files

Probe = Callable[[threading.Event], dict[str, Any]]

_report: dict[str, Any] | None = None
# A probe that failed (a hanging driver, a broken install) is not run again for every training
# step; the devices screen's refresh (f5) can still try, and its report replaces this.
_failed = False


def probe(cancel: threading.Event) -> dict[str, Any]:
    """Run the probe child; setting ``cancel`` kills it (``ProbeError``, one sentence, on failure)."""
    from tutor.devices.report_data import run_probe

    return run_probe(cancel=cancel)


def may_have_gpus(count: int) -> bool:
    """Whether a probe could find ``count`` GPUs: False only where the device files rule it out."""
    seen = gpu_device_files()
    return seen is None or seen >= count


def last_report() -> dict[str, Any] | None:
    """The newest report this process received, or None before any."""
    return _report


def remember(report: dict[str, Any]) -> None:
    global _report, _failed
    _report, _failed = report, False


def remember_failure() -> None:
    global _failed
    _failed = True


def probe_failed() -> bool:
    """True when the last probe failed and none has succeeded since."""
    return _failed and _report is None
