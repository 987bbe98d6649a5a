"""The Textual app: owns the catalog and the database, routes between screens.

Startup stays light: the lessons are parsed (TOML only, no code runs) and the database opened; torch
is never imported in this process. A disk that refuses writes (full, read-only) is not damage: the
app carries on, says so once, and ``unsaved_report`` lists on exit whatever never reached the disk.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.events import Resize

from tutor import __version__
from tutor.exercises.kernels import KernelHost
from tutor.lessons import Catalog, load_catalog
from tutor.store import (
    CorruptDatabase,
    Database,
    StorageProblem,
    UnusableDatabase,
    move_aside,
    open_database,
)
from tutor.store.progress import Progress
from tutor.ui.commands import LessonCommands
from tutor.ui.dialogs.damaged_db import DamagedDatabaseDialog
from tutor.ui.screens.browser import BrowserScreen
from tutor.ui.screens.help import HelpScreen
from tutor.ui.screens.too_small import MIN_HEIGHT, MIN_WIDTH, TooSmallScreen

if TYPE_CHECKING:
    from tutor.exercises.session import ExerciseSession
    from tutor.lessons.model import ExerciseStep

# Area screens, imported when first opened: (module, class).
AREA_SCREENS = {
    "devices": ("tutor.ui.screens.devices", "DevicesScreen"),
    "runs": ("tutor.ui.screens.runs", "RunsScreen"),
    "quiz": ("tutor.ui.screens.quiz", "QuizScreen"),
}


class TutorApp(App[None]):
    """pytorch-tutor's app. ``catalog`` and ``db`` may be injected (tests); else they are loaded.

    The app owns the exercise kernel (``kernels``): it starts it while the learner reads the
    first lesson with exercises, hands it to every exercise session, and closes it on exit.
    """

    TITLE = "pytorch-tutor"
    SUB_TITLE = f"v{__version__}"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    COMMANDS = App.COMMANDS | {LessonCommands}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("q", "quit", "Quit", show=False),
        Binding("f1,question_mark", "help", "Help"),
        # Shown in the browser's footer (see BrowserScreen); hidden elsewhere to keep it one line.
        Binding("d", "area('devices')", "Devices", show=False),
        Binding("t", "area('runs')", "Runs", show=False),
        Binding("r", "area('quiz')", "Review", show=False),
    ]

    def __init__(
        self,
        catalog: Catalog | None = None,
        db_path: Path | None = None,
        start: str | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog if catalog is not None else load_catalog()
        self._db_path = db_path
        self._start = start
        self.db: Database | None = None
        self.progress: Progress | None = None
        # Set when the app closes with changes the disk never took; printed after the app ends.
        self.unsaved_report: str | None = None
        self.kernels = KernelHost()

    def on_mount(self) -> None:
        try:
            self._open_db()
        except CorruptDatabase as exc:
            self.push_screen(BrowserScreen())
            self.push_screen(DamagedDatabaseDialog(str(exc)), self._damaged_answer)
            return
        except UnusableDatabase as exc:
            # Healthy but not usable here (a newer schema, not a file): never offer to move it.
            self.exit(message=str(exc))
            return
        self._first_screen()

    def on_ready(self) -> None:
        """The first frame is on screen: now the warm template may import torch beside the app."""
        from tutor.processes import template

        template.start_if_requested()

    def _open_db(self) -> None:
        db = open_database(self._db_path)
        db.on_problem = self._storage_problem
        db.on_saved = self._storage_saved
        self.db = db
        self.progress = Progress(db)
        if db.problem is not None:
            self._storage_problem(db.problem)

    def _storage_problem(self, problem: StorageProblem) -> None:
        """Said once each time saving stops (called from whichever thread wrote; notify is safe)."""
        readable = self.db is None or self.db.readable
        what = (
            "Progress cannot be saved right now"
            if readable
            else ("Progress cannot be read or saved right now")
        )
        self.notify(
            f"{problem.sentence(what)} What you do is kept and saved as soon as the disk allows; "
            "if it still cannot be when you quit, you are told what was not saved.",
            title="Progress not saved",
            severity="warning",
            timeout=20,
            markup=False,
        )

    def _storage_saved(self) -> None:
        self.notify(
            "Progress is saved again, including everything you did meanwhile.",
            title="Progress saved",
            timeout=6,
        )

    def _damaged_answer(self, move: bool | None) -> None:
        if not move:
            self.exit(message="Progress database left as it was.")
            return
        from tutor.paths import database_path

        path = self._db_path or database_path()
        try:
            moved = move_aside(path)
            self._open_db()
        except (OSError, UnusableDatabase) as exc:
            self.exit(message=f"Could not move {path} aside ({exc}); move it away yourself.")
            return
        self.notify(f"The damaged database was kept as {moved.name}.", timeout=8)
        self.pop_screen()  # the browser beneath the dialog; the first screen is chosen anew
        self._first_screen()

    def _first_screen(self) -> None:
        """Resume the last lesson where it was left, or open the lessons or the screen asked for.

        When resuming, the browser is not built until the learner goes back to it: building it
        beneath the reader would delay the first screen.
        """
        last = self.progress.last_lesson() if self.progress else None
        if self._start or last is None or self.catalog.lesson(last) is None:
            self.push_screen(BrowserScreen())
            if self._start:
                self.action_area(self._start)
        else:
            self.open_lesson(last)
        self._check_size()
        self.find_running_runs()

    @work(thread=True, group="runs-scan", exit_on_error=False, description="find running runs")
    def find_running_runs(self) -> None:
        """Runs that outlived an earlier session (closed app, dropped SSH) are announced."""
        from tutor.training.runs import list_runs

        running = [run for run in list_runs() if run.state == "running"]
        if running:
            names = ", ".join(run.id for run in running[:3])
            self.notify(
                f"{len(running)} training run(s) still going ({names}): press t to follow them.",
                title="Training",
                timeout=10,
            )

    def warm_kernel(self) -> None:
        """Start the exercise kernel while the learner reads: torch loads in its child.

        Starting it only spawns the child (milliseconds); it waits for the next frame so that
        torch's import does not compete with drawing the first screen on a small machine.
        """
        self.call_after_refresh(self.kernels.warm)

    def exercise_session(self, step: ExerciseStep) -> ExerciseSession:
        """A session for an exercise step, wired to the app's kernel, database and glossary."""
        from tutor.exercises.session import ExerciseSession

        return ExerciseSession(
            step,
            self.kernels.get,
            db=self.db,
            progress=self.progress,
            glossary=self.catalog.glossary,
        )

    # Navigation -----------------------------------------------------------------------------

    def open_lesson(self, lesson_id: str) -> None:
        """Open a lesson at the step the learner was last on."""
        lesson = self.catalog.lesson(lesson_id)
        if lesson is None:
            return
        current = self.progress.current(lesson_id) if self.progress else None
        self._show_reader(lesson.id, lesson.index_of(current) if current else 0)

    def open_step(self, target: str) -> None:
        """Open ``lesson`` (where it was left) or ``lesson.step``."""
        lesson_id, _, step_id = target.partition(".")
        lesson = self.catalog.lesson(lesson_id)
        if lesson is None:
            self.notify(f"No lesson {lesson_id!r}.", severity="warning")
            return
        if not step_id:
            self.open_lesson(lesson_id)
            return
        self._show_reader(lesson_id, lesson.index_of(step_id))

    def _show_reader(self, lesson_id: str, index: int) -> None:
        # Imported here: the reader pulls in the Markdown parser, which the first screen never needs.
        from tutor.ui.screens.reader import ReaderScreen

        lesson = self.catalog.lesson(lesson_id)
        assert lesson is not None
        # One reader at a time, above the browser when there is one.
        while len(self.screen_stack) > 1 and not isinstance(self.screen, BrowserScreen):
            self.pop_screen()
        self.push_screen(ReaderScreen(lesson, index))
        if any(step.kind == "exercise" for step in lesson.steps):
            self.warm_kernel()

    def show_browser(self) -> None:
        """Back to the lesson list: the one beneath, or a new one when the app resumed a lesson."""
        if any(isinstance(screen, BrowserScreen) for screen in self.screen_stack):
            while not isinstance(self.screen, BrowserScreen):
                self.pop_screen()
        else:
            self.switch_screen(BrowserScreen())

    # Actions --------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_area(self, name: str) -> None:
        """Open an area screen (devices, runs, quiz)."""
        module_name, class_name = AREA_SCREENS[name]
        if type(self.screen).__name__ == class_name:
            return
        try:
            screen_class = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError):
            self.notify(f"The {name} screen is not available in this version.", severity="warning")
            return
        self.push_screen(screen_class())

    # Size guard -----------------------------------------------------------------------------

    def on_resize(self, event: Resize) -> None:
        # self.size is updated a moment after this event: trust the event's size.
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int | None = None, height: int | None = None) -> None:
        if width is None or height is None:
            width, height = self.size
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        showing = isinstance(self.screen, TooSmallScreen)
        if small and not showing:
            self.push_screen(TooSmallScreen())
        elif not small and showing:
            self.pop_screen()

    def on_unmount(self) -> None:
        self.kernels.close()
        if self.db is not None:
            # Closing tries the pending writes a last time; what is left is told after exit.
            self.db.on_problem = self.db.on_saved = None
            self.db.close()
            self.unsaved_report = self.db.unsaved_report()
