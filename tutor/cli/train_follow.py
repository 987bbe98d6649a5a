"""Following a run from ``pytorch-tutor train``: a progress bar and epoch lines, or JSON lines.

The run copies its events down a pipe to the command (``PipeReader``), so the output goes on
whatever happens to the run folder; without a pipe (a run started elsewhere) its metrics.jsonl is
followed instead. The final event decides the exit status: 0 done with its model saved, 1
otherwise. Ctrl+C asks the run to checkpoint and stop, then says how it ended.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tutor.cli.common import fail, print_json
from tutor.durations import clock
from tutor.training import events as ev
from tutor.training.metrics_follower import MetricsFollower

POLL_S = 0.2
# How long to wait, after the final event, for the run to write its state and close its pipe.
FINISH_WAIT_S = 10.0


class _Printer:
    """Turns events into a progress bar and epoch lines on a terminal."""

    def __init__(self, batch_size: int) -> None:
        self.tty = sys.stdout.isatty()
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 120)
        self.epochs = 0
        self.steps_per_epoch = 1
        self.batch_size = batch_size
        self.bar_shown = False
        self.world_size: int | None = None

    def _clear_bar(self) -> None:
        if self.bar_shown:
            print("\r" + " " * (self.width - 1) + "\r", end="")
            self.bar_shown = False

    def event(self, event: ev.Event) -> None:
        if isinstance(event, ev.Notice):
            self._clear_bar()
            print(f"Note: {event.message}")
        elif isinstance(event, ev.Start):
            self.epochs, self.steps_per_epoch = event.epochs, event.steps_per_epoch
            self.world_size = event.world_size
            ranks = ""
            if event.world_size:
                ranks = (
                    f" x {event.world_size} ranks (batch {event.batch_size} per rank, "
                    f"{event.batch_size * event.world_size} in all)"
                )
            print(
                f"Training {event.model} on {event.dataset} ({event.n_train:,} images, "
                f"{event.n_test:,} held out) on {event.device}{ranks}; {event.where}."
            )
        elif isinstance(event, ev.Resume):
            print(f"Resuming at epoch {event.epoch}, step {event.step}.")
        elif isinstance(event, ev.Step) and self.tty:
            self._bar(event)
        elif isinstance(event, ev.Epoch):
            self._clear_bar()
            print(
                f"epoch {event.epoch}/{self.epochs}  train loss {event.train_loss:.4f}  "
                f"val loss {event.val_loss:.4f}  val accuracy {event.val_accuracy:.2%}  "
                f"{event.seconds:.1f} s"
            )
        elif ev.is_final(event):
            self._clear_bar()

    def _bar(self, event: ev.Step) -> None:
        total = self.epochs * self.steps_per_epoch
        batch_rate = event.samples_per_s / max(1, self.batch_size)
        eta = (total - event.step) / batch_rate if batch_rate > 0 else 0
        bar_width = 20
        filled = int(bar_width * event.step / max(1, total))
        line = (
            f"\repoch {event.epoch}/{self.epochs} [{'#' * filled}{'.' * (bar_width - filled)}]"
            f" {100 * event.step / max(1, total):3.0f}%  loss {event.train_loss:.3f}"
            f"  {event.rate(self.world_size)}  ETA {clock(eta)}"
        )
        print(line[: self.width - 1], end="", flush=True)
        self.bar_shown = True


def follow(
    run_dir: Path,
    as_json: bool,
    resumed_at: float | None = None,
    echo: int | None = None,
    history: list[ev.Event] | None = None,
) -> int:
    """Print a run's events until it ends; Ctrl+C stops it (with a checkpoint), see _interrupted.

    ``echo``: the reading end of the run's pipe, which carries every event this run emits (the run
    folder may be full or gone); ``history``: the events logged before a resume, for the chart.
    Without a pipe the events come from metrics.jsonl; after a resume (started at ``resumed_at``)
    the history before the run's new ``resume`` event goes into the chart but is not printed again.
    """
    from tutor.training import runs
    from tutor.training.series import Series
    from tutor.training.streams import PipeReader

    printer = _Printer(runs.load_config(run_dir).batch_size)
    seen: list[ev.Event] = []
    final: ev.Event | None = None
    try:
        if echo is not None:
            final = _follow_pipe(PipeReader(echo), printer, as_json, seen)
        else:
            final = _follow_file(run_dir, printer, as_json, seen, resumed_at)
    except KeyboardInterrupt:
        return _interrupted(run_dir)
    if echo is not None and history:
        resumed = next((e for e in seen if isinstance(e, ev.Resume)), None)
        if resumed is not None:
            kept = [e for e in history if ev.keep_on_resume(e, resumed.step, resumed.epoch)]
            seen = kept + seen
    return _ending(run_dir, as_json, final, Series.from_events(seen))


def _show(event: ev.Event, printer: _Printer, as_json: bool) -> None:
    if as_json:
        print_json(ev.cli_json(event))
    else:
        printer.event(event)


def _follow_pipe(
    reader: Any, printer: _Printer, as_json: bool, seen: list[ev.Event]
) -> ev.Event | None:
    """Events from the run's pipe until the run closes it (after its final event and state)."""
    final: ev.Event | None = None
    deadline = float("inf")
    while time.monotonic() < deadline:
        events, ended = reader.poll(POLL_S)
        for event in events:
            seen.append(event)
            _show(event, printer, as_json)
            if ev.is_final(event):
                final = event
                # The run writes state.json next and then closes the pipe: wait for that a while.
                deadline = time.monotonic() + FINISH_WAIT_S
        if ended:
            break
    reader.close()
    return final


def _follow_file(
    run_dir: Path,
    printer: _Printer,
    as_json: bool,
    seen: list[ev.Event],
    resumed_at: float | None,
) -> ev.Event | None:
    """Events from metrics.jsonl until the final one, or until the run is no longer running."""
    from tutor.training import runs

    follower = MetricsFollower(run_dir)
    printing = resumed_at is None
    final: ev.Event | None = None
    while True:
        events, reset = follower.poll()
        if reset:
            seen.clear()
        for event in events:
            seen.append(event)
            if not printing:
                printing = isinstance(event, ev.Resume) and (event.at or 0) >= (resumed_at or 0)
                if not printing:
                    continue
            _show(event, printer, as_json)
            if ev.is_final(event):
                final = event
        if final or (not events and runs.run_state(run_dir)[0] != "running"):
            break
        time.sleep(POLL_S)
    # A last read: the final event may have landed after the state changed.
    for event in follower.poll()[0]:
        seen.append(event)
        if ev.is_final(event):
            final = event
            if as_json:
                print_json(ev.cli_json(event))
    return final


def _ending(run_dir: Path, as_json: bool, final: ev.Event | None, series: Any) -> int:
    """Say how the run ended; the exit status: 0 done (its model saved), 1 otherwise.

    The final event decides when there is one (state.json may not be writable); without it (the
    process was killed) the run's state does.
    """
    from tutor.training import runs
    from tutor.training.series import render_text

    state, message = runs.run_state(run_dir)
    if isinstance(final, (ev.Done, ev.Stopped, ev.Failed)):
        state = final.kind
        message = final.message or message
    if state == "done":
        if not as_json:
            width = min(shutil.get_terminal_size((80, 24)).columns, 100)
            print(
                render_text(
                    series, width=width, height=18, title=f"run {run_dir.name}", color=_color()
                )
            )
            done = final if isinstance(final, ev.Done) else None
            print(
                f"Done: train loss {_num(done and done.train_loss)}, val loss "
                f"{_num(done and done.val_loss)}, val accuracy "
                f"{_pct(done and done.val_accuracy)}. Checkpoint: {runs.checkpoint_path(run_dir)}"
            )
            if done is not None and done.unsaved is not None:
                print(f"Note: {done.unsaved.message}", file=sys.stderr)
        return 0
    if state == "stopped":
        return fail(
            f"The run {run_dir.name} was stopped ({message}); continue with "
            f"`pytorch-tutor train --resume {run_dir.name}`."
        )
    return fail(message or f"The run {run_dir.name} failed; see {run_dir / 'log'}.")


def _interrupted(run_dir: Path) -> int:
    """Ctrl+C while following: ask the run to checkpoint and stop, then say how it ended.

    The run is in a session of its own, so the terminal's Ctrl+C never reaches it; stopping it is
    this command's choice. Exit 1 when it stopped (or is stopping), 0 when it had already finished.
    """
    from tutor.training import runs

    name = run_dir.name
    print("", file=sys.stderr)
    print(
        "Stopping: the run saves a checkpoint first (Ctrl+C again stops waiting) ...",
        file=sys.stderr,
    )
    try:
        runs.stop(run_dir, wait_s=60)
    except runs.RunBusy:
        pass  # it ended on its own meanwhile: its state below says how
    except KeyboardInterrupt:
        pass  # the stop was asked for already; only the waiting ends
    state, message = runs.run_state(run_dir)
    if state == "done":
        print(
            f"The run {name} had already finished; see it with `pytorch-tutor runs show {name}`.",
            file=sys.stderr,
        )
        return 0
    if state == "running":
        print(
            f"The run {name} is stopping in the background at its next step; see it with "
            f"`pytorch-tutor runs show {name}` and continue it with "
            f"`pytorch-tutor train --resume {name}`.",
            file=sys.stderr,
        )
        return 1
    if state == "stopped":
        print(
            f"The run {name} stopped with a checkpoint; continue it with "
            f"`pytorch-tutor train --resume {name}` or see it with `pytorch-tutor runs show {name}`.",
            file=sys.stderr,
        )
        return 1
    return fail(message or f"The run {name} failed; see `pytorch-tutor runs show {name}`.")


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4f}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2%}"


def _color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    import os
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
