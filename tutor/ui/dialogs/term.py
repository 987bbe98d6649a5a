"""A glossary definition shown over the page, and a picker for the terms linked on a page."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from tutor.lessons.model import Term


class TermDialog(ModalScreen[None]):
    """The definition of one term, its example and related terms; escape closes it."""

    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]

    def __init__(self, term: Term) -> None:
        super().__init__()
        self.term = term

    def compose(self) -> ComposeResult:
        term = self.term
        with Vertical(id="dialog", classes="dialog"):
            title = Text(term.term, style="bold")
            if term.aliases:
                title.append(f"  (also: {', '.join(term.aliases)})", style="dim")
            yield Label(title)
            with VerticalScroll():
                yield Static(Text(term.definition), classes="definition")
                if term.example:
                    yield Static(Syntax(term.example.strip(), "python", theme="ansi_dark"))
                if term.related:
                    yield Static(Text("Related: " + ", ".join(term.related), style="dim"))
                if term.steps:
                    catalog = getattr(self.app, "catalog", None)
                    titles = [catalog.step_title(s) if catalog else s for s in term.steps]
                    yield Static(Text("Taught in: " + "; ".join(titles), style="dim"))
            yield Label(Text("escape closes", style="dim"))

    def action_dismiss(self, result: None = None) -> None:  # type: ignore[override]
        self.dismiss(None)


class TermPicker(ModalScreen[str | None]):
    """Pick one of the glossary terms linked on the current page (keyboard access to links)."""

    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Glossary terms on this page")
            yield OptionList(*[Option(name, id=str(i)) for i, name in enumerate(self.names)])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.names[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
