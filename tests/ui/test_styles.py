"""Where styles live: screens and dialogs in app.tcss, reusable widgets in their DEFAULT_CSS."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from textual.screen import Screen
from textual.widget import Widget

import tutor.ui.dialogs
import tutor.ui.screens
import tutor.ui.widgets
from tutor.ui.app import TutorApp


def classes_in(package: object, base: type) -> list[type]:
    found = []
    for info in pkgutil.iter_modules(package.__path__):  # type: ignore[attr-defined]
        module = importlib.import_module(f"{package.__name__}.{info.name}")  # type: ignore[attr-defined]
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, base) and cls.__module__ == module.__name__:
                found.append(cls)
    return found


@pytest.mark.parametrize(
    "cls",
    classes_in(tutor.ui.screens, Screen) + classes_in(tutor.ui.dialogs, Screen),
    ids=lambda cls: cls.__name__,
)
def test_screens_and_dialogs_carry_no_css(cls: type[Screen[object]]) -> None:
    assert "DEFAULT_CSS" not in vars(cls) and "CSS" not in vars(cls)
    assert not getattr(cls, "CSS_PATH", None)


def test_the_app_has_one_stylesheet_with_the_rule_at_its_top() -> None:
    assert TutorApp.CSS_PATH is not None and not TutorApp.CSS
    text = TutorApp.CSS_PATH.read_text(encoding="utf-8")  # type: ignore[union-attr]
    assert "Where styles live" in text[:600]


def test_widgets_scope_their_default_css_by_class_name() -> None:
    for cls in classes_in(tutor.ui.widgets, Widget):
        css = vars(cls).get("DEFAULT_CSS", "")
        for line in css.strip().splitlines():
            selector = line.strip()
            if selector and "{" in selector and not selector.startswith("}"):
                assert selector.startswith(cls.__name__), f"{cls.__name__}: {selector}"
