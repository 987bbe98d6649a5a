"""The help screen (F1 or ?): what each key does, and where progress is kept."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS: list[tuple[str, str, str]] = [
    ("everywhere", "ctrl+q", "quit (q too where no text box has focus)"),
    ("everywhere", "f1 or ?", "this help"),
    ("everywhere", "ctrl+p", "command palette: open any lesson or step"),
    ("everywhere", "d", "devices: what PyTorch sees, and the device setting"),
    ("everywhere", "t", "training runs: follow, stop, resume, delete"),
    ("everywhere", "r", "glossary review (spaced repetition)"),
    ("lessons", "up/down, enter", "pick and open a lesson"),
    ("reader", "n / p", "next / previous step"),
    ("reader", "j", "jump to any step"),
    ("reader", "g", "glossary terms linked on this page"),
    ("reader", "b or escape", "back to the lessons"),
    ("exercise", "ctrl+j or f5", "run the code and check it"),
    ("exercise", "escape / e", "leave the editor (then n, p, j work) / back into the editor"),
    ("exercise", "tab", "from the panel: the >>> line, then the editor"),
    ("exercise", "f2 / f3", "next hint / show the solution"),
    ("exercise", "f4", "skip: run the reference solution"),
    ("exercise", "f8 / f9", "reset variables (f8 again: starter code) / check now"),
    ("exercise", "up/down in the >>> line", "REPL history"),
    ("training step", "f5 or ctrl+j / o", "train the lesson model / open the last run"),
    ("training step", "f6", "train on all GPUs (offered with two or more)"),
    ("training", "s / c / a", "stop / resume / train again"),
    ("runs", "enter / s / c / x x", "open / stop / resume / delete a run"),
    ("devices", "f5 or ctrl+r", "probe the hardware again"),
    ("quiz", "1-4 / enter", "pick a choice / submit a typed answer, then next"),
    ("quiz", "h or f2", "hint (the answer then counts as Hard)"),
    ("quiz", "m or f3 / s / o", "switch mode / stats / open the step that teaches the term"),
]


class HelpScreen(ModalScreen[None]):
    """Keys by place; escape, q, F1 or ? closes it."""

    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        table = Table(title="Keys", expand=True, show_edge=False)
        table.add_column("where", style="dim", no_wrap=True)
        table.add_column("key", style="bold", no_wrap=True)
        table.add_column("does")
        for where, key, does in KEYS:
            table.add_row(where, key, does)
        with VerticalScroll(id="dialog", classes="dialog wide"):
            yield Static(table)
            yield Static(
                Text(
                    "Exercise panels and training screens show their own keys in the footer. "
                    "Progress lives in one database in your data folder "
                    "(PYTORCH_TUTOR_HOME overrides it). Escape closes this help.",
                    style="dim",
                )
            )

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)
