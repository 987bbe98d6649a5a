"""A lesson's training step: the text, the model and hyperparameters, and a button that trains it.

Training starts a run process (``tutor.training.runs``) and opens the live training screen; the
panel then shows how the step's latest run went, and marks the step solved once a run reaches the
step's target training loss.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Button, Static

from tutor.lessons.model import TrainingStep
from tutor.training import runs
from tutor.training.config import ConfigError, TrainConfig
from tutor.ui.markdown_links import to_markdown
from tutor.ui.run_start import start_run
from tutor.ui.widgets.lesson_markdown import LessonMarkdown

REFRESH_S = 2.0


class StepRunsLoaded(Message):
    """The runs started from this step, newest first."""

    def __init__(self, found: list[runs.RunInfo]) -> None:
        super().__init__()
        self.found = found


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
    """Shows a TrainingStep; enter on the button (or F5 / ctrl+j) starts a run and opens its screen."""

    BINDINGS = [
        Binding("f5,ctrl+j", "train", "Train", show=True),
        Binding("o", "open_last", "Last run", show=True),
    ]

    DEFAULT_CSS = """
    TrainingStepPanel { height: auto; }
    TrainingStepPanel #training-step-settings { padding: 0 1; height: auto; }
    TrainingStepPanel #training-step-last { padding: 0 1; height: auto; }
    TrainingStepPanel Horizontal { height: auto; padding: 0 1; }
    TrainingStepPanel Button { margin-right: 2; }
    """

    def __init__(self, step: TrainingStep, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.step = step
        self.step_runs: list[runs.RunInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield LessonMarkdown(to_markdown(self.step.text))
            yield Static(self._settings_text(), id="training-step-settings")
            with Horizontal():
                yield Button("Train (F5)", id="training-step-train", variant="primary")
                yield Button("Open last run (o)", id="training-step-open", disabled=True)
            yield Static("", id="training-step-last", markup=False)

    def on_mount(self) -> None:
        self.refresh_runs()
        self.set_interval(REFRESH_S, self.refresh_runs)
        self.take_focus()

    def take_focus(self) -> None:
        """Focus the train button: inside the panel, F5, ctrl+j and o reach the panel's keys."""
        self.query_one("#training-step-train", Button).focus()

    def _device(self) -> str:
        db = getattr(self.app, "db", None)
        value = db.get_setting("device") if db is not None else None
        return str(value) if value else "auto"

    def _settings_text(self) -> Text:
        step = self.step
        text = Text()
        text.append("model ", style="bold")
        text.append(step.model)
        text.append("  dataset ", style="bold")
        text.append(step.dataset)
        text.append("\n")
        text.append(config_for(step).hyperparameters())
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

    def on_step_runs_loaded(self, message: StepRunsLoaded) -> None:
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

    def action_open_last(self) -> None:
        if not self.step_runs:
            self.notify("This step has no run yet; press F5 to train.")
            return
        from tutor.ui.screens.training import TrainingScreen

        self.app.push_screen(TrainingScreen(self.step_runs[0].id))
