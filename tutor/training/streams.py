"""Where a run's events go: its metrics.jsonl, and the pipe of the command that follows it.

``FileSink`` appends each event to metrics.jsonl. A write that fails (a full disk, a quota, a
read-only folder, an I/O error) does not stop the run: the lines wait in memory and go out with the
next write that succeeds, and ``problem`` says what went wrong. ``Echo`` sends the same lines down
a pipe to ``pytorch-tutor train``, so its output goes on whatever happens to the run folder; it never
blocks the run (a follower that stops reading only misses lines, a closed pipe ends the echo).
``PipeReader`` is the follower's end. Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import time
from pathlib import Path

from tutor.atomic import atomic_write_text
from tutor.training import events as ev
from tutor.training import summary
from tutor.training.storage import StorageProblem, classify

# Lines kept while metrics.jsonl cannot be written; beyond this the oldest step lines are dropped.
BACKLOG_LIMIT = 8 * 1024 * 1024
# What a pipe may hold back before the echo gives up on a follower that no longer reads.
ECHO_LIMIT = 16 * 1024 * 1024


def _line(event: ev.Event) -> bytes:
    return (json.dumps(ev.to_json(event)) + "\n").encode()


class Echo:
    """The writing end of a follower's pipe: non-blocking, so a stalled follower never stalls a run."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd
        os.set_blocking(fd, False)
        self.pending = bytearray()

    def send(self, line: bytes) -> None:
        if self.fd is None:
            return
        self.pending += line
        if len(self.pending) > ECHO_LIMIT:
            self.close()  # the follower stopped reading long ago; it reads the files instead
            return
        self._drain()

    def _drain(self) -> None:
        while self.pending and self.fd is not None:
            try:
                written = os.write(self.fd, self.pending)
            except BlockingIOError:
                return
            except OSError:  # the follower went away (broken pipe): nobody to tell
                self.close()
                return
            del self.pending[:written]

    def close(self, wait_s: float = 0.0) -> None:
        """Close the pipe, first waiting up to ``wait_s`` for the follower to take what is left."""
        deadline = time.monotonic() + wait_s
        while self.pending and self.fd is not None and time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                select.select([], [self.fd], [], max(0.0, deadline - time.monotonic()))
            self._drain()
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


class FileSink:
    """Appends events to metrics.jsonl (one JSON object per line, written at once for followers)."""

    def __init__(self, path: Path, echo: Echo | None = None) -> None:
        self.path = path
        self.echo = echo
        self.backlog = bytearray()
        # The first failed write, and the last epoch whose event reached the file.
        self.problem: StorageProblem | None = None
        self.written_epoch = 0
        self._written_through: int | None = None
        self.fd: int | None = None
        # What a runs listing shows, kept current in summary.json (a resume starts from history).
        self.brief = summary.from_events(self._history())
        self._open()

    def _history(self) -> list[ev.Event]:
        try:
            return parse_lines(self.path.read_bytes())
        except OSError:
            return []

    def write_summary(self) -> None:
        """Replace summary.json (atomically; a full disk keeps the old one, listings rebuild)."""
        self.brief.metrics_bytes = (
            os.fstat(self.fd).st_size
            if self.fd is not None
            else summary.metrics_size(self.path.parent)
        )
        summary.write(self.path.parent, self.brief)

    def _open(self) -> None:
        try:
            self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        if self.problem is not None:
            return
        self.problem = classify(exc, self.path.parent)
        if self.echo is not None:  # the follower hears it now; the file hears it when it can
            notice = ev.Notice(
                f"The run's metrics cannot be written: {self.problem.reason} (at "
                f"{self.problem.where()}). Training goes on; they are kept and written when there "
                "is room again."
            )
            notice.at = round(time.time(), 3)
            self.echo.send(_line(notice))

    def emit(self, event: ev.Event) -> None:
        if event.at is None:
            event.at = round(time.time(), 3)
        line = _line(event)
        if self.echo is not None:
            self.echo.send(line)
        self.backlog += line
        if len(self.backlog) > BACKLOG_LIMIT:
            self._shed()
        self._flush()
        if isinstance(event, ev.Epoch) and not self.backlog:
            self.written_epoch = event.epoch
        # A final event's summary is written after state.json (``run._finish``): a listing that
        # sees the final summary must find the run ended.
        if self.brief.observe(event) and not isinstance(event, summary.FINAL):
            self.write_summary()

    def _flush(self) -> None:
        """Write what waits; a short or failed write keeps the rest for the next emit."""
        if self.fd is None:
            self._open()
            if self.fd is None:
                return
        while self.backlog:
            try:
                written = self._write(self.fd, bytes(self.backlog))
            except OSError as exc:
                self._failed(exc)
                return
            del self.backlog[:written]

    def _write(self, fd: int, data: bytes) -> int:
        """One write to metrics.jsonl (tests put a failing one in its place)."""
        return os.write(fd, data)

    def _shed(self) -> None:
        """Drop the oldest step lines (the chart's raw points) to bound the backlog's memory."""
        lines = bytes(self.backlog).split(b"\n")
        kept, size = [], len(self.backlog)
        for line in lines:
            if size > BACKLOG_LIMIT // 2 and b'"event": "step"' in line[:20]:
                size -= len(line) + 1
                continue
            kept.append(line)
        self.backlog = bytearray(b"\n".join(kept))

    def truncate_after(self, step: int, next_epoch: int) -> None:
        """Drop the events a resume makes untrue; the file is replaced atomically.

        Without room for the new file, it is cut in place before the first event dropped (a
        shorter file needs no new space); the start and notice events after that cut go too.
        """
        self.close()
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            text = b""
        except OSError as exc:
            self._failed(exc)
            self._open()
            return
        kept: list[bytes] = []
        cut: int | None = None
        offset = 0
        for raw in text.splitlines(keepends=True):
            event = _parse_line(raw)
            if event is not None and ev.keep_on_resume(event, step, next_epoch):
                kept.append(raw if raw.endswith(b"\n") else raw + b"\n")
            elif cut is None and event is not None:
                cut = offset
            offset += len(raw)
        try:
            atomic_write_text(self.path, b"".join(kept).decode())
        except OSError as exc:
            self._failed(exc)
            if cut is not None:
                with contextlib.suppress(OSError):
                    os.truncate(self.path, cut)
        self._open()
        self.brief = summary.from_events(self._history())
        self.write_summary()

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None


def _parse_line(raw: bytes) -> ev.Event | None:
    try:
        return ev.parse(json.loads(raw))
    except ValueError:
        return None


def parse_lines(data: bytes) -> list[ev.Event]:
    """The events in whole JSON lines (others skipped)."""
    found = []
    for raw in data.split(b"\n"):
        event = _parse_line(raw) if raw.strip() else None
        if event is not None:
            found.append(event)
    return found


class PipeReader:
    """The follower's end of a run's pipe: whole lines as events, and whether the run closed it."""

    def __init__(self, fd: int) -> None:
        self.fd: int | None = fd
        self.partial = b""

    def poll(self, timeout: float) -> tuple[list[ev.Event], bool]:
        """(new events, ended): waits up to ``timeout`` for something to read."""
        if self.fd is None:
            return [], True
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return [], False
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            self.close()
            return parse_lines(self.partial), True
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()  # an unfinished line waits for its end
        return parse_lines(b"\n".join(lines)), False

    def close(self) -> None:
        if self.fd is not None:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = None
