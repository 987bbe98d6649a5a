"""A lesson's training step: the text, the model and hyperparameters, and a button that trains it.

Training starts a run process (``tutor.training.runs``) and opens the live training screen; the
panel then shows how the step's latest run went, and marks the step solved once a run reaches the
step's target training loss.

On a machine with two CUDA GPUs or more (from the device probe, run in a thread worker when no
report is known yet and the device files show several GPUs) and the device setting ``auto`` or
``cuda``, a second button trains the step on all of them: one rank per GPU under torchrun,
keeping the step's global batch.
"""

from __future__ import annotations

import threading
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Static

from tutor.devices.report_data import cuda_gpu_count
from tutor.distributed.env import DistributedError
from tutor.distributed.launch import per_rank_batch
from tutor.lessons.model import TrainingStep
from tutor.training import runs
from tutor.training.config import ConfigError, TrainConfig
from tutor.training.rank_files import RunLaunch, all_gpus_launch
from tutor.ui import hardware
from tutor.ui.markdown_links import to_markdown
from tutor.ui.run_start import start_run
from tutor.ui.widgets.lesson_markdown import LessonMarkdown

REFRESH_S = 2.0
# The button row's width with the GPU offer's full label (the three buttons, the margins between
# them, the row's padding); a narrower panel gets the short label, so "Open last run" stays whole.
FULL_GPU_LABEL_WIDTH = 68


class StepRunsLoaded(Message):
    """The runs started from this step, newest first."""

    def __init__(self, found: list[runs.RunInfo]) -> None:
        super().__init__()
        self.found = found


class HardwareKnown(Message):
    """The device probe answered: ``report`` is its report, or None when it failed."""

    def __init__(self, report: dict[str, Any] | None) -> None:
        super().__init__()
        self.report = report


def config_for(step: TrainingStep, device: str = "auto") -> TrainConfig:
    """The run configuration a training step asks for."""
    return TrainConfig(
        model=step.model,
        dataset=step.dataset,
        epochs=step.epochs,
        batch_size=step.batch_size,
        lr=step.lr,
        optimizer=step.optimizer,
        device=device,
        step_id=step.full_id,
    )


def all_gpus_plan(
    step: TrainingStep, device: str, gpu_count: int
) -> tuple[TrainConfig, RunLaunch] | None:
    """The run and launch that train ``step`` on every GPU, or None where there is no such offer.

    The step's batch is the global batch: each of the N ranks takes ceil(batch / N), so the run
    takes as many steps per epoch as on one device and its losses compare with a single run's.
    """
    try:
        launch = all_gpus_launch(device, gpu_count)
    except DistributedError:
        return None
    if launch is None:
        return None
    config = config_for(step, device)
    config.batch_size = per_rank_batch(step.batch_size, launch.world_size)
    return config, launch


def gpus_text(step: TrainingStep, config: TrainConfig, world_size: int) -> str:
    """``4 GPUs: batch 16 per GPU, global batch 64``: the offer's batches, in one line."""
    total = config.batch_size * world_size
    text = f"{world_size} GPUs: batch {config.batch_size} per GPU, global batch {total}"
    if total != step.batch_size:
        text += f" ({step.batch_size} rounded up)"
    return text


def run_summary(run: runs.RunInfo) -> str:
    """``stopped, epoch 0/5, train loss 0.412, val accuracy 85.1%``: one run's own state."""
    line = f"{run.state}, epoch {run.progress}"
    if run.train_loss is not None:
        line += f", train loss {run.train_loss:.3f}"
    if run.val_accuracy is not None:
        line += f", val accuracy {run.val_accuracy:.1%}"
    return line


def step_runs_text(step_runs: list[runs.RunInfo], target: float | None) -> tuple[str, bool]:
    """What the panel says of a step's runs (newest first), and whether the goal was reached.

    The last run's state and the run that reached the goal are told apart: a stopped last run
    must not seem to have reached a goal that an earlier run reached.
    """
    if not step_runs:
        return "No run of this step yet.", False
    last = step_runs[0]
    text = f"Last run {last.id}: {run_summary(last)}."
    if target is None:
        return text, False
    reaching = [r for r in step_runs if r.train_loss is not None and r.train_loss < target]
    if not reaching:
        return text + f"\nGoal not reached yet: a training loss below {target:g}.", False
    best = reaching[0]  # the newest run that reached it
    assert best.train_loss is not None
    if best is last:
        return text + f"\nGoal reached by this run: a training loss below {target:g}.", True
    return (
        text + f"\nGoal reached by the earlier run {best.id} (train loss {best.train_loss:.3f}, "
        f"below {target:g}).",
        True,
    )


class TrainingStepPanel(Widget):
    """Shows a TrainingStep; enter on the button (or F5 / ctrl+j) starts a run and opens its screen.

    F6 (shown only where the machine has several GPUs) starts the same run on all of them.
    """

    BINDINGS = [
        Binding("f5,ctrl+j", "train", "Train", show=True),
        Binding("f6", "train_all_gpus", "All GPUs", show=True),
        Binding("o", "open_last", "Last run", show=True),
    ]

    DEFAULT_CSS = """
    TrainingStepPanel { height: auto; }
    TrainingStepPanel > Vertical { height: auto; }
    TrainingStepPanel #training-step-settings { padding: 0 1; height: auto; }
    TrainingStepPanel #training-step-last { padding: 0 1; height: auto; }
    TrainingStepPanel Horizontal { height: auto; padding: 0 1; }
    TrainingStepPanel Button { margin-right: 2; }
    """

    def __init__(self, step: TrainingStep, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step = step
        self.step_runs: list[runs.RunInfo] = []
        # The run on all GPUs this machine offers now (its config and launch; None: no offer).
        self.gpu_plan: tuple[TrainConfig, RunLaunch] | None = None
        self._cancel_probe = threading.Event()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield LessonMarkdown(to_markdown(self.step.text))
            yield Static(self._settings_text(), id="training-step-settings")
            with Horizontal():
                yield Button("Train (F5)", id="training-step-train", variant="primary")
                gpus = Button("", id="training-step-gpus")
                gpus.display = False  # until the probe finds several GPUs
                yield gpus
                yield Button("Open last run (o)", id="training-step-open", disabled=True)
            yield Static("", id="training-step-last", markup=False)

    def on_mount(self) -> None:
        self.refresh_runs()
        self.set_interval(REFRESH_S, self.refresh_runs)
        self.take_focus()
        self._update_offer()
        if (
            self._wants_gpus()
            and hardware.last_report() is None
            and not hardware.probe_failed()
            and hardware.may_have_gpus(2)  # else no offer is possible: no torch import for it
        ):
            self._probe_hardware()

    def on_unmount(self) -> None:
        self._cancel_probe.set()  # a probe still running is killed, not waited for

    def take_focus(self) -> None:
        """Focus the train button: inside the panel, F5, ctrl+j and o reach the panel's keys."""
        self.query_one("#training-step-train", Button).focus()

    def _device(self) -> str:
        db = getattr(self.app, "db", None)
        value = db.get_setting("device") if db is not None else None
        return str(value) if value else "auto"

    def _wants_gpus(self) -> bool:
        """Whether the device setting leaves room for the GPU offer (auto or cuda)."""
        return self._device().strip().lower() in ("auto", "cuda")

    def _settings_text(self) -> Text:
        step = self.step
        text = Text()
        text.append("model ", style="bold")
        text.append(step.model)
        text.append("  dataset ", style="bold")
        text.append(step.dataset)
        text.append("\n")
        text.append(config_for(step).hyperparameters())
        if self.gpu_plan is not None:
            config, launch = self.gpu_plan
            text.append("\n")
            text.append(gpus_text(step, config, launch.world_size))
        if step.target_train_loss is not None:
            text.append(f"\ngoal: a training loss below {step.target_train_loss:g}")
        return text

    @work(
        thread=True,
        exclusive=True,
        group="training-step",
        exit_on_error=False,
        description="step runs",
    )
    def refresh_runs(self) -> None:
        mine = [run for run in runs.list_runs() if run.config.step_id == self.step.full_id]
        self.post_message(StepRunsLoaded(mine))

    @work(
        thread=True,
        exclusive=True,
        group="hardware",
        exit_on_error=False,
        description="device probe",
    )
    def _probe_hardware(self) -> None:
        cancel = self._cancel_probe
        try:
            report: dict[str, Any] | None = hardware.probe(cancel)
        except Exception:  # no offer then; the devices screen (d) says what went wrong
            report = None
        if not cancel.is_set():
            self.post_message(HardwareKnown(report))

    def on_hardware_known(self, message: HardwareKnown) -> None:
        if message.report is None:
            hardware.remember_failure()
        else:
            hardware.remember(message.report)
        self._update_offer()

    def _update_offer(self) -> None:
        """Show or hide the GPU offer for the device setting and the last report, as they are now.

        Called when the probe answers and with each refresh of the runs, so a device setting
        changed on the devices screen (or a report it probed again) is followed here.
        """
        report = hardware.last_report()
        count = cuda_gpu_count(report) if report is not None else 0
        plan = all_gpus_plan(self.step, self._device(), count)
        if plan == self.gpu_plan:
            return
        self.gpu_plan = plan
        self._label_offer()
        self.query_one("#training-step-gpus", Button).display = plan is not None
        self.query_one("#training-step-settings", Static).update(self._settings_text())
        self.refresh_bindings()

    def _label_offer(self) -> None:
        if self.gpu_plan is None:
            return
        count = self.gpu_plan[1].world_size
        wide = self.size.width == 0 or self.size.width >= FULL_GPU_LABEL_WIDTH
        label = f"Train on all {count} GPUs (F6)" if wide else f"{count} GPUs (F6)"
        self.query_one("#training-step-gpus", Button).label = label

    def on_resize(self) -> None:
        self._label_offer()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """F6 exists only while the GPU offer does: without it, it is neither shown nor bound."""
        if action == "train_all_gpus":
            return self.gpu_plan is not None
        return True

    def on_step_runs_loaded(self, message: StepRunsLoaded) -> None:
        self._update_offer()
        self.step_runs = message.found
        self.query_one("#training-step-open", Button).disabled = not self.step_runs
        text, reached = step_runs_text(self.step_runs, self.step.target_train_loss)
        if reached:
            progress = getattr(self.app, "progress", None)
            if progress is not None:
                progress.mark(self.step.full_id, "solved")
        self.query_one("#training-step-last", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "training-step-train":
            self.action_train()
        elif event.button.id == "training-step-gpus":
            self.action_train_all_gpus()
        elif event.button.id == "training-step-open":
            self.action_open_last()

    def action_train(self) -> None:
        """Start a run of this step and open the training screen on it."""
        try:
            config = config_for(self.step, self._device())
            config.validate()
        except ConfigError as exc:
            self.notify(str(exc), severity="error")
            return
        run_dir = start_run(self, config=config)
        if run_dir is None:
            return
        from tutor.ui.screens.training import TrainingScreen

        self.app.push_screen(TrainingScreen(run_dir.name))
        self.refresh_runs()

    def action_train_all_gpus(self) -> None:
        """Start a run of this step on every GPU (one rank each) and open the training screen."""
        self._update_offer()  # the setting may have changed since the offer was made
        if self.gpu_plan is None:
            self.notify(
                "Training on all GPUs needs two CUDA GPUs or more and the device setting auto "
                "or cuda (d shows both).",
                severity="warning",
            )
            return
        config, launch = self.gpu_plan
        try:
            config.validate()
        except ConfigError as exc:
            self.notify(str(exc), severity="error")
            return
        run_dir = start_run(self, config=config, launch=launch)
        if run_dir is None:
            return
        from tutor.ui.screens.training import TrainingScreen

        self.app.push_screen(TrainingScreen(run_dir.name))
        self.refresh_runs()

    def action_open_last(self) -> None:
        if not self.step_runs:
            self.notify("This step has no run yet; press F5 to train.")
            return
        from tutor.ui.screens.training import TrainingScreen

        self.app.push_screen(TrainingScreen(self.step_runs[0].id))
