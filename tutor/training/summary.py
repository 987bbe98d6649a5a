"""A run's small summary (``summary.json``), so listing runs reads a few bytes per run.

The run process rewrites it (atomically) whenever an event changes what a listing shows: its start
(the device), each epoch, and its end. ``metrics_bytes`` is the size of metrics.jsonl when it was
written: a run that is no longer running and whose metrics file has grown since (killed between
the two writes) or that has no summary at all (a run from an earlier version) gets one built from
its events once, and written for next time. Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from tutor.atomic import atomic_write_text
from tutor.training import events as ev

FILE = "summary.json"
VERSION = 1
# The events that change a summary; step events (nearly all of them) never do.
CHANGING = (ev.Start, ev.Epoch, ev.Failed, ev.Stopped, ev.Done)
# The events that end a run: their summary is written after state.json (see ``run._finish``).
FINAL = (ev.Failed, ev.Stopped, ev.Done)


@dataclass
class Summary:
    """What a runs list shows of a run besides its config and state."""

    device: str = ""
    world_size: int = 1
    epoch: int = 0
    val_accuracy: float | None = None
    train_loss: float | None = None
    message: str = ""
    metrics_bytes: int = 0

    def observe(self, event: ev.Event) -> bool:
        """Take in one event; True when it changed the summary."""
        if not isinstance(event, CHANGING):
            return False
        if isinstance(event, ev.Start):
            self.device = event.device
            self.world_size = event.world_size or 1
        elif isinstance(event, ev.Epoch):
            self.epoch = event.epoch
            self.val_accuracy = event.val_accuracy
            self.train_loss = event.train_loss
        elif isinstance(event, (ev.Failed, ev.Stopped)) and not self.message:
            self.message = event.message or ""
        return True

    def to_json(self) -> str:
        return json.dumps({"version": VERSION, **asdict(self)})


def from_events(events: Iterable[ev.Event]) -> Summary:
    summary = Summary()
    for event in events:
        summary.observe(event)
    return summary


def metrics_size(run_dir: Path) -> int:
    try:
        return (run_dir / "metrics.jsonl").stat().st_size
    except OSError:
        return 0


def write(run_dir: Path, summary: Summary) -> None:
    """Replace the run's summary atomically; a full disk leaves the old one (listings rebuild)."""
    with contextlib.suppress(OSError):
        atomic_write_text(run_dir / FILE, summary.to_json())


def read(run_dir: Path) -> Summary | None:
    """The stored summary; None when missing, damaged or of another version."""
    try:
        raw = json.loads((run_dir / FILE).read_text())
        if raw.pop("version", None) != VERSION:
            return None
        return Summary(**raw)
    except (OSError, ValueError, TypeError):
        return None


def for_listing(run_dir: Path, running: bool, events: Callable[[], list[ev.Event]]) -> Summary:
    """The summary a list shows: the stored one when it is current, else built (and stored).

    A running run keeps its own summary current, so it is trusted as it is and never written here.
    """
    stored = read(run_dir)
    size = metrics_size(run_dir)
    if stored is not None and (running or stored.metrics_bytes == size):
        return stored
    built = from_events(events())
    built.metrics_bytes = size
    if not running:
        write(run_dir, built)
    return built


def file_size(handle_fileno: int) -> int:
    """The size of an open file (the metrics file as the run has just flushed it)."""
    return os.fstat(handle_fileno).st_size
