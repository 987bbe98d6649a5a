"""Jump to any step of the open lesson."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from tutor.lessons.model import Lesson

MARKS = {"solved": "✔", "skipped": "»", "seen": "·"}


class JumpDialog(ModalScreen[int | None]):
    """A list of the lesson's steps with their status; enter jumps, escape stays."""

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, lesson: Lesson, current: int, statuses: dict[str, str]) -> None:
        super().__init__()
        self.lesson = lesson
        self.current = current
        self.statuses = statuses

    def compose(self) -> ComposeResult:
        options = []
        for index, step in enumerate(self.lesson.steps):
            mark = MARKS.get(self.statuses.get(step.full_id, ""), " ")
            label = Text(f"{mark} {index + 1:>2}. {step.title}  ")
            label.append(step.kind, style="dim")
            options.append(Option(label, id=step.id))
        with Vertical(id="dialog", classes="dialog"):
            yield Label(f"Steps of {self.lesson.title}")
            yield OptionList(*options, id="steps")

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = self.current

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option_index)

    def action_cancel(self) -> None:
        self.dismiss(None)
