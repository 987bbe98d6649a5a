"""What importing a module may pull in: each rule is checked in a fresh interpreter.

The first screen appears before torch is imported, and domain code never imports Textual, so the
modules below must load without them (torch is imported lazily, inside functions or in child
processes). A rule names the modules imported, what is then run (if anything), and the modules
that must still be absent. What a running app or a whole ``train`` command imports is tested where
that behaviour lives (``ui/test_app.py``, ``training/test_train_process.py``).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Rule:
    """Importing ``modules`` (then running ``then``) leaves every name in ``absent`` unimported."""

    modules: tuple[str, ...]
    absent: tuple[str, ...]
    then: str = ""


RULES: dict[str, Rule] = {
    # The command line parses its arguments (and `--help`) before any heavy import.
    "cli-parser": Rule(("tutor.cli",), ("torch", "textual"), then="tutor.cli.build_parser()"),
    # The app shell draws its first screen before a kernel client or an exercise session loads.
    "app-first-screen": Rule(
        ("tutor.ui.app",), ("tutor.kernel.client", "tutor.exercises.session", "torch")
    ),
    "exercise-panel": Rule(
        (
            "tutor.ui.widgets.exercise",
            "tutor.exercises",
            "tutor.kernel",
            "tutor.lint.prove",
            "tutor.cli.answer_cmd",
        ),
        ("torch",),
    ),
    "exercises-domain": Rule(
        ("tutor.exercises.session", "tutor.exercises.kernels", "tutor.exercises.text"),
        ("textual", "torch"),
    ),
    "devices-screen": Rule(("tutor.ui.screens.devices",), ("torch",)),
    "runs-screens": Rule(
        (
            "tutor.ui.screens.runs",
            "tutor.ui.screens.training",
            "tutor.ui.widgets.training_step",
            "tutor.ui.widgets.loss_chart",
        ),
        ("torch",),
    ),
    "pictures": Rule(("tutor.pictures", "tutor.pictures.samples"), ("torch", "textual")),
}


@pytest.mark.parametrize("rule", list(RULES.values()), ids=list(RULES))
def test_importing_leaves_the_heavy_modules_out(rule: Rule) -> None:
    code = "\n".join(
        [
            "import sys",
            *(f"import {module}" for module in rule.modules),
            rule.then,
            f"print(sorted(m for m in {rule.absent!r} if m in sys.modules))",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]", f"imported at import time: {result.stdout.strip()}"
