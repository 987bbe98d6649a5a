"""The run process: ``python -m tutor.training.run RUN_DIR [--resume]``.

Started by ``runs.start`` in its own session with stdout and stderr going to the run's log. It keeps
a heartbeat, turns SIGTERM and SIGINT into "checkpoint and stop", appends every event to
metrics.jsonl and writes state.json when it ends. Exit status: 0 done or stopped, 1 failed.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from tutor.atomic import atomic_write_text
from tutor.training import runs, summary
from tutor.training.trainer import keep_on_resume


class FileSink:
    """Appends events to metrics.jsonl, one JSON object per line, flushed at once for followers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.brief = summary.from_events(runs.read_events(path.parent))
        self.handle = path.open("a", encoding="utf-8")

    def emit(self, event: dict[str, Any]) -> None:
        event.setdefault("at", round(time.time(), 3))
        self.handle.write(json.dumps(event) + "\n")
        self.handle.flush()
        # A final event's summary is written after state.json (``_finish``): a follower that sees
        # the final event reads the run's state at once and must find it ended.
        if self.brief.observe(event) and event.get("event") not in ("done", "failed", "stopped"):
            self.write_summary()

    def write_summary(self) -> None:
        self.brief.metrics_bytes = summary.file_size(self.handle.fileno())
        summary.write(self.path.parent, self.brief)

    def truncate_after(self, step: int, next_epoch: int) -> None:
        """Drop the events a resume makes untrue; the file is replaced atomically."""
        self.handle.close()
        kept = [
            e for e in runs.read_events(self.path.parent) if keep_on_resume(e, step, next_epoch)
        ]
        atomic_write_text(self.path, "".join(json.dumps(e) + "\n" for e in kept))
        self.handle = self.path.open("a", encoding="utf-8")
        self.brief = summary.from_events(kept)
        self.write_summary()

    def close(self) -> None:
        self.handle.close()


def _heartbeat(run_dir: Path, done: threading.Event) -> None:
    while not done.wait(runs.HEARTBEAT_EVERY_S):
        try:
            atomic_write_text(run_dir / "heartbeat", f"{time.time():.3f}")
        except OSError:
            pass  # a full disk must not kill the run; the pid still tells it is alive


def _finish(run_dir: Path, state: str, message: str, sink: FileSink, final: dict[str, Any]) -> None:
    final.setdefault("message", message)
    sink.emit(final)
    atomic_write_text(
        run_dir / "state.json",
        json.dumps({"state": state, "message": message, "ended_at": time.time()}),
    )
    sink.write_summary()


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0])
    resume = "--resume" in argv[1:]
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # The run belongs to no terminal; a hang-up of the one that started it means nothing here.
    signal.signal(signal.SIGHUP, signal.SIG_IGN)

    atomic_write_text(run_dir / "pid", str(os.getpid()))
    beating = threading.Event()
    threading.Thread(target=_heartbeat, args=(run_dir, beating), daemon=True).start()
    sink = FileSink(run_dir / "metrics.jsonl")
    try:
        from tutor.devices.errors import DeviceError
        from tutor.training.checkpoint import CheckpointError
        from tutor.training.data import DataUnavailable
        from tutor.training.trainer import TrainingFailed, train

        config = runs.load_config(run_dir)
        try:
            final = train(config, runs.checkpoint_path(run_dir), sink, stop, resume=resume)
        except (TrainingFailed, CheckpointError, DataUnavailable, DeviceError, ValueError) as exc:
            _finish(run_dir, "failed", str(exc), sink, {"event": "failed"})
            return 1
        except Exception as exc:
            traceback.print_exc()
            text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if "out of memory" in text.lower():
                text = f"The device ran out of memory ({text[:120]}); lower --batch-size."
            else:
                text = f"The run failed: {text[:200]} (details in {run_dir / 'log'})."
            _finish(run_dir, "failed", text, sink, {"event": "failed"})
            return 1
        if final["event"] == "stopped":
            message = final.get("message") or (
                f"Stopped at step {final['step']}; resume continues from there."
            )
            _finish(run_dir, "stopped", message, sink, final)
        else:
            _finish(run_dir, "done", "", sink, final)
        return 0
    finally:
        beating.set()
        sink.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
