"""The lesson browser: every lesson with its progress; broken lesson files shown with their reason."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tutor.lessons.progress import lesson_done_count
from tutor.ui.widgets.footer import FittingFooter
from tutor.ui.widgets.header import TutorHeader


class BrowserScreen(Screen[None]):
    """Lists lessons; enter opens the highlighted one where the learner left it."""

    BINDINGS = [
        Binding("d", "app.area('devices')", "Devices"),
        Binding("t", "app.area('runs')", "Runs"),
        Binding("r", "app.area('quiz')", "Review"),
    ]

    def compose(self) -> ComposeResult:
        yield TutorHeader()
        yield Static(
            Text("Introduction to PyTorch: pick a lesson and press enter.", style="bold"),
            id="browser-intro",
        )
        yield OptionList(id="lessons")
        yield FittingFooter()

    def on_mount(self) -> None:
        self.title = "pytorch-tutor"
        self.sub_title = "lessons"
        self.refresh_lessons()

    def on_screen_resume(self) -> None:
        self.refresh_lessons()

    def refresh_lessons(self) -> None:
        app = self.app
        catalog = app.catalog  # type: ignore[attr-defined]
        statuses = app.progress.statuses() if app.progress else {}  # type: ignore[attr-defined]
        option_list = self.query_one("#lessons", OptionList)
        highlighted = option_list.highlighted
        option_list.clear_options()
        for lesson in catalog.lessons:
            done = lesson_done_count(lesson, statuses)
            total = len(lesson.steps)
            bar = "█" * round(8 * done / total) if total else ""
            title = lesson.title if len(lesson.title) <= 44 else lesson.title[:43] + "…"
            label = Text(f"{lesson.number:02d}  {title:<44} ")
            label.append(f"{bar:<8}", style="green")
            label.append(f" {done}/{total}", style="dim")
            option_list.add_option(Option(label, id=f"lesson:{lesson.id}"))
        for broken in catalog.broken:
            label = Text(f"!!  {broken.path.name}: ", style="red")
            label.append(f"broken: {broken.reason}", style="dim")
            option_list.add_option(Option(label, id=f"broken:{broken.path.name}", disabled=True))
        if not catalog.lessons:
            option_list.add_option(
                Option(
                    Text("No lessons found: run `pytorch-tutor lint` to see why."), disabled=True
                )
            )
        if highlighted is not None and highlighted < option_list.option_count:
            option_list.highlighted = highlighted
        else:
            last = app.progress.last_lesson() if app.progress else None  # type: ignore[attr-defined]
            ids = [lesson.id for lesson in catalog.lessons]
            option_list.highlighted = ids.index(last) if last in ids else 0
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        option_id = event.option.id or ""
        if option_id.startswith("lesson:"):
            self.app.open_lesson(option_id.removeprefix("lesson:"))  # type: ignore[attr-defined]
