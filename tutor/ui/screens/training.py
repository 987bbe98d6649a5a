"""The live training screen: one run's chart, progress, device and hyperparameters; stop and resume.

The run is a separate process; this screen only follows its files. A thread worker (group
"run-follow") tails metrics.jsonl and posts ``RunUpdate`` messages, so closing the screen or the app
leaves the run going, and opening it again picks the run up where it is.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.widgets import ProgressBar, Static

from tutor import paths
from tutor.durations import clock
from tutor.training import runs
from tutor.training.config import TrainConfig
from tutor.training.events import Epoch, Event, Failed, Notice, Start, Step, Stopped, rate_text
from tutor.training.metrics_follower import MetricsFollower
from tutor.training.rank_files import RunLaunch, read_launch
from tutor.ui.run_start import start_run
from tutor.ui.widgets.footer import FittingFooter
from tutor.ui.widgets.header import TutorHeader
from tutor.ui.widgets.loss_chart import LossChart

POLL_S = 0.25
STATUS_WIDTH = 78  # an 80-column terminal less the status line's padding
# Below this height the text above the chart folds away (the status line stays), so the plot
# keeps enough rows to read in a 60x18 terminal.
COMPACT_BELOW_HEIGHT = 24


class RunUpdate(Message):
    """New events from a run's metrics, and its state at the time they were read."""

    def __init__(self, events: list[Event], reset: bool, state: str, message: str) -> None:
        super().__init__()
        self.events = events
        self.reset = reset
        self.state = state
        self.message = message


def follow_run(
    run_dir: Path, post: Any, cancelled: threading.Event, poll_s: float = POLL_S
) -> None:
    """Post a RunUpdate for every batch of new events or change of state until ``cancelled``."""
    follower = MetricsFollower(run_dir)
    last_state: tuple[str, str] | None = None
    while not cancelled.is_set():
        events, reset = follower.poll()
        state = runs.run_state(run_dir)
        if events or reset or state != last_state:
            post(RunUpdate(events, reset, state[0], state[1]))
            last_state = state
        cancelled.wait(poll_s)


def progress_text(
    epoch: int,
    epochs: int,
    step: int,
    total: int,
    samples_per_s: float,
    batch_size: int,
    width: int = STATUS_WIDTH,
    world_size: int = 1,
) -> str:
    """The running status line, short enough for an 80-column terminal (78 inside the padding),
    or for ``width`` columns. ``samples_per_s`` and ``batch_size`` are one rank's (each rank runs
    every step); with several ranks the speed is told in all and per rank."""
    steps_per_s = samples_per_s / max(1, batch_size)
    eta = (total - step) / steps_per_s if steps_per_s else 0.0
    where = f"epoch {epoch}/{epochs} · step {step:,}/{total:,}"
    all_ranks = rate_text(samples_per_s * world_size).replace(" samples/s", "/s")
    # Long runs, narrow terminals: the words go before the numbers do, the per-rank speed last.
    for text in (
        f"running · {where} · {rate_text(samples_per_s, world_size)} · ETA {clock(eta)}",
        f"{where} · {rate_text(samples_per_s, world_size).replace(' samples/s', '/s')} · ETA {clock(eta)}",
        f"{where} · {all_ranks} · ETA {clock(eta)}",
    ):
        if len(text) <= width:
            break
    return text


def compact_status(
    status: str,
    device: str,
    last_epoch: Epoch | None,
    width: int = STATUS_WIDTH,
    world_size: int = 1,
) -> str:
    """The status line of a short terminal, which also carries what the folded text said."""
    parts = [status]
    if last_epoch and not status.startswith(("running", "epoch")):
        parts.append(f"val accuracy {last_epoch.val_accuracy:.1%}")
    parts.append(runs.device_with_ranks(device, world_size))
    text = " · ".join(parts)
    return text if len(text) <= width else status


class TrainingScreen(Screen[None]):
    """Follows one run: ``s`` stops it (with a checkpoint), ``c`` resumes it, escape goes back."""

    BINDINGS = [
        Binding("escape,b", "back", "Back"),
        Binding("s", "stop", "Stop"),
        Binding("c", "resume", "Resume"),
        Binding("a", "again", "Train again"),
    ]

    def __init__(self, run_id: str) -> None:
        super().__init__()
        self.run_id = run_id
        self.run_dir = paths.runs_dir() / run_id
        # None until on_mount reads config.json, and for good when it cannot (damaged, deleted).
        self.config: TrainConfig | None = None
        # How a run on several ranks was launched (None: one process); read with the config.
        self.launch: RunLaunch | None = None
        self.start_info: Start | None = None
        self.last_step: Step | None = None
        self.last_epoch: Epoch | None = None
        self.state = "running"
        self.state_message = ""
        self.notices: list[str] = []
        self._cancel = threading.Event()

    def compose(self) -> ComposeResult:
        yield TutorHeader()
        yield Static(id="training-info", markup=False)
        # The status has a line of its own: beside the bar it did not fit 80 columns.
        yield ProgressBar(total=None, show_eta=False, id="training-bar")
        yield Static(id="training-status", markup=False)
        yield Static(id="training-notice", markup=False)
        yield LossChart(id="training-chart")
        yield FittingFooter()

    def on_mount(self) -> None:
        self._fold(self.app.size.height)
        self.title = f"Training run {self.run_id}"
        try:
            self.config = runs.load_config(self.run_dir)
        except (OSError, ValueError, TypeError):
            self.query_one("#training-info", Static).update(self._missing_text())
            return
        self.launch = read_launch(self.run_dir)
        self._show_info()
        self._start_following()

    def on_unmount(self) -> None:
        self._cancel.set()

    def on_resize(self, event: Resize) -> None:
        self._fold(event.size.height)

    def _fold(self, height: int) -> None:
        """Fold the text above the chart in a short terminal; the status line says the rest."""
        compact = height < COMPACT_BELOW_HEIGHT
        if compact != self.has_class("-compact"):
            self.set_class(compact, "-compact")
            if self.config is not None:
                self._show_info()

    def _start_following(self) -> None:
        """(Re)start the follower; the previous one, if any, ends at its next poll."""
        self._cancel.set()
        self._cancel = threading.Event()
        self._follow(self._cancel)

    @work(
        thread=True,
        exclusive=True,
        group="run-follow",
        exit_on_error=False,
        description="follow run",
    )
    def _follow(self, cancelled: threading.Event) -> None:
        follow_run(self.run_dir, self.post_message, cancelled)

    # What the run says -----------------------------------------------------------------------

    def on_run_update(self, update: RunUpdate) -> None:
        chart = self.query_one(LossChart)
        if update.reset:
            chart.reset()
            self.notices.clear()
            self.last_step, self.last_epoch = None, None
        for event in update.events:
            if isinstance(event, Start):
                self.start_info = event
            elif isinstance(event, Step):
                self.last_step = event
            elif isinstance(event, Epoch):
                self.last_epoch = event
            elif isinstance(event, (Notice, Failed, Stopped)) and event.message:
                self.notices.append(event.message)
        chart.add_events(update.events)
        self.state, self.state_message = update.state, update.message
        self._show_info()

    def _missing_text(self) -> str:
        """Why this screen shows no run: its folder is gone, or its config.json is damaged."""
        if not self.run_dir.is_dir():
            return f"The run {self.run_id} is no longer on disk; escape goes back."
        return (
            f"The run {self.run_id} has a missing or damaged config.json, so it cannot be shown "
            "or resumed; delete it from the runs screen (t, then x twice)."
        )

    @property
    def world_size(self) -> int:
        """Ranks training this run: from its start event, or its launch.json before that."""
        if self.start_info is not None and self.start_info.world_size:
            return self.start_info.world_size
        return self.launch.world_size if self.launch is not None else 1

    def _show_info(self) -> None:
        config = self.config
        if config is None:
            self.query_one("#training-info", Static).update(self._missing_text())
            return
        start = self.start_info
        device = start.device if start else "(starting: loading torch and the data)"
        where = start.where if start else ""
        info = Text()
        info.append(f"{config.model}", style="bold")
        info.append(f" on {config.dataset} · {config.hyperparameters()}\n")
        info.append("device: ", style="bold")
        info.append(device)
        world_size = self.world_size
        if world_size > 1:  # the config's batch is each rank's
            info.append(f" · {world_size} ranks, global batch {config.batch_size * world_size}")
        info.append(f" · {where}" if where else "")
        if self.last_epoch:
            e = self.last_epoch
            info.append(
                f"\nepoch {e.epoch}: train loss {e.train_loss:.4f} · val loss "
                f"{e.val_loss:.4f} · val accuracy {e.val_accuracy:.1%}"
            )
        self.query_one("#training-info", Static).update(info)

        bar = self.query_one("#training-bar", ProgressBar)
        steps_per_epoch = start.steps_per_epoch if start else 0
        total = steps_per_epoch * config.epochs
        latest = self.last_step or self.last_epoch
        step = latest.step if latest else 0
        if total:
            bar.update(total=total, progress=min(step, total))
        status = self.state
        # The status line's room: 78 columns at 80, less in a narrower terminal.
        width = min(STATUS_WIDTH, self.size.width - 2) if self.size.width > 2 else STATUS_WIDTH
        if self.state == "running" and self.last_step:
            status = progress_text(
                self.last_step.epoch,
                config.epochs,
                step,
                total,
                self.last_step.samples_per_s,
                config.batch_size,
                width,
                self.world_size,
            )
        elif self.state == "done" and total:
            bar.update(progress=total)
        if status == self.state and self.last_epoch:
            status += f" · epoch {self.last_epoch.epoch}/{config.epochs}"
        if self.has_class("-compact"):
            device = self.start_info.device if self.start_info else ""
            status = compact_status(status, device, self.last_epoch, width, world_size)
        self.query_one("#training-status", Static).update(status)
        lines = self.notices[-2:]
        if self.state_message:  # why it failed or stopped, or what a finished run did not save
            lines = [*lines[-1:], self.state_message] if self.state_message not in lines else lines
        notice = self.query_one("#training-notice", Static)
        notice.update("\n".join(lines))
        notice.display = bool(lines)  # an empty line would take a row from the chart

    # Actions ----------------------------------------------------------------------------------

    def action_back(self) -> None:
        self._cancel.set()
        self.app.pop_screen()

    def _unusable(self) -> bool:
        """True (after saying why) when the run's config could not be read, so no action can act."""
        if self.config is None:
            self.notify(self._missing_text(), severity="warning")
            return True
        return False

    def action_stop(self) -> None:
        if self._unusable():
            return
        try:
            runs.stop(self.run_dir)
        except runs.RunBusy:
            state = runs.run_state(self.run_dir)[0]
            hint = "a trains again" if state == "done" else "c resumes it"
            self.notify(
                f"The run is {state}, so there is nothing to stop; {hint}.", severity="warning"
            )
            return
        self.notify("Stopping: the run saves a checkpoint first.")

    def action_resume(self) -> None:
        if self._unusable():
            return
        if runs.run_state(self.run_dir)[0] == "running":
            self.notify("The run is already running.", severity="warning")
            return
        if runs.run_state(self.run_dir)[0] == "done":
            self.notify("The run is done; start a new one from the lesson or the CLI.")
            return
        if start_run(self, self.run_dir, resume=True) is None:
            return
        self.notify("Resuming from the last checkpoint.")
        self._start_following()

    def action_again(self) -> None:
        """A new run with the same settings, shown in place of this one."""
        if self._unusable() or self.config is None:
            return
        if self.launch is not None and self.launch.options.nnodes > 1:
            self.notify(
                "This run trained on several machines: start it again with `pytorch-tutor "
                "train` on each of them.",
                severity="warning",
            )
            return
        config = TrainConfig.from_dict(self.config.to_dict())
        # A run on several ranks trains again on as many, with the same per-rank batch.
        run_dir = start_run(self, config=config, launch=self.launch)
        if run_dir is None:
            return
        self._cancel.set()
        self.app.switch_screen(TrainingScreen(run_dir.name))
