"""The runs screen (key t): every training run on disk, its state, and stop / resume / delete.

Runs are found from their folders, so runs started from the command line (``--detach``) or by an
earlier session of the app show up, and opening a running one reattaches to it. The list is read by
a thread worker (group "runs-list") every two seconds; reading files never blocks the UI thread.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Static

from tutor.training import runs
from tutor.ui.run_start import start_run
from tutor.ui.widgets.footer import FittingFooter
from tutor.ui.widgets.header import TutorHeader

REFRESH_S = 2.0


class RunsLoaded(Message):
    """A fresh list of runs, newest first."""

    def __init__(self, found: list[runs.RunInfo]) -> None:
        super().__init__()
        self.found = found


def not_running_hint(run_id: str, state: str) -> str:
    """Why stop did nothing, with the keys that do something with such a run."""
    if state == "done":
        return f"{run_id} is done, so there is nothing to stop; enter shows its chart."
    return f"{run_id} is {state}, so there is nothing to stop; c resumes it, x x deletes it."


class RunsScreen(Screen[None]):
    """A table of runs: enter opens one, s stops, c resumes, x deletes (asks twice), escape goes back."""

    BINDINGS = [
        Binding("escape,b", "back", "Back"),
        Binding("enter", "open", "Open", show=True),
        Binding("s", "stop", "Stop"),
        Binding("c", "resume", "Resume"),
        Binding("x", "delete", "Delete"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.found: list[runs.RunInfo] = []
        self._delete_armed: str | None = None

    def compose(self) -> ComposeResult:
        yield TutorHeader()
        yield Static("", id="runs-empty", markup=False)
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield FittingFooter()

    def on_mount(self) -> None:
        self.title = "Training runs"
        table = self.query_one(DataTable)
        table.add_columns("run", "model", "data", "state", "epoch", "val acc", "device")
        self.refresh_runs()
        self.set_interval(REFRESH_S, self.refresh_runs)
        table.focus()

    @work(
        thread=True, exclusive=True, group="runs-list", exit_on_error=False, description="list runs"
    )
    def refresh_runs(self) -> None:
        self.post_message(RunsLoaded(runs.list_runs()))

    def on_runs_loaded(self, message: RunsLoaded) -> None:
        self.found = message.found
        table = self.query_one(DataTable)
        selected = self.selected()
        table.clear()
        for run in self.found:
            accuracy = "-" if run.val_accuracy is None else f"{run.val_accuracy:.1%}"
            device = runs.device_cell(run)
            table.add_row(
                run.id,
                run.config.model,
                run.config.dataset,
                run.state,
                run.progress,
                accuracy,
                device,
                key=run.id,
            )
        if selected is not None:
            ids = [run.id for run in self.found]
            if selected.id in ids:
                table.move_cursor(row=ids.index(selected.id))
        empty = self.query_one("#runs-empty", Static)
        empty.update(
            ""
            if self.found
            else "No training runs yet. Start one from a lesson's training step, or with "
            "`pytorch-tutor train mlp` in a terminal."
        )
        empty.display = not self.found

    def selected(self) -> runs.RunInfo | None:
        """The run under the cursor, if any."""
        table = self.query_one(DataTable)
        if not self.found or table.cursor_row is None or table.cursor_row >= len(self.found):
            return None
        return self.found[table.cursor_row]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_open(self) -> None:
        run = self.selected()
        if run is None:
            return
        from tutor.ui.screens.training import TrainingScreen

        self.app.push_screen(TrainingScreen(run.id))

    def action_stop(self) -> None:
        run = self.selected()
        if run is None:
            return
        try:
            runs.stop(run.path)
        except runs.RunBusy:
            self.notify(not_running_hint(run.id, runs.run_state(run.path)[0]), severity="warning")
            return
        self.notify(f"Stopping {run.id}: it saves a checkpoint first.")
        self.refresh_runs()

    def action_resume(self) -> None:
        run = self.selected()
        if run is None:
            return
        state = runs.run_state(run.path)[0]
        if state in ("running", "done"):
            self.notify(f"{run.id} is {state}; there is nothing to resume.", severity="warning")
            return
        if start_run(self, run.path, resume=True) is None:
            return
        self.notify(f"Resuming {run.id}.")
        self.refresh_runs()

    def action_delete(self) -> None:
        run = self.selected()
        if run is None:
            return
        if self._delete_armed != run.id:
            self._delete_armed = run.id
            self.notify(f"Press x again to delete {run.id} and its checkpoints.")
            return
        self._delete_armed = None
        try:
            runs.delete(run.path)
        except (runs.RunBusy, OSError) as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify(f"Deleted {run.id}.")
        self.refresh_runs()
