"""Following a run's events as the run writes them (``metrics.jsonl``), for the app and ``train``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from tutor.training import events as ev


class MetricsFollower:
    """Reads a run's new events since the last call; notices when the file was rewritten.

    A resume rewrites metrics.jsonl without the events after its checkpoint: ``poll`` then returns
    ``reset=True`` and every event from the start.
    """

    def __init__(self, run_dir: Path) -> None:
        self.path = run_dir / "metrics.jsonl"
        self.offset = 0
        self.inode: int | None = None
        self.partial = b""

    def poll(self) -> tuple[list[ev.Event], bool]:
        """(new events, reset)."""
        try:
            stat = self.path.stat()
        except OSError:
            return [], False
        reset = False
        if self.inode is not None and (stat.st_ino != self.inode or stat.st_size < self.offset):
            self.offset, self.partial, reset = 0, b"", True
        self.inode = stat.st_ino
        if stat.st_size == self.offset:
            return [], reset
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            chunk = handle.read()
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()  # an unfinished last line waits for its end
        events = []
        for line in lines:
            with contextlib.suppress(ValueError):
                event = ev.parse(json.loads(line))
                if event is not None:
                    events.append(event)
        return events, reset
