"""The packages of ``tutor/`` form layers: every import points down, so no import circle exists.

Every ``tutor.`` import counts, at module level or inside a function. The layer order is the one
written in ``docs/architecture.md`` (between the ``layers`` markers), so the document and the code
cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTOR = ROOT / "tutor"
DOC = ROOT / "docs" / "architecture.md"


def units() -> set[str]:
    """The packages and loose modules directly under ``tutor/``; ``tutor`` is its ``__init__``."""
    found = {"tutor"}
    for entry in TUTOR.iterdir():
        if entry.is_dir() and (entry / "__init__.py").is_file():
            found.add(entry.name)
        elif entry.suffix == ".py" and entry.name != "__init__.py":
            found.add(entry.stem)
    return found


def unit_of(module: str, known: set[str]) -> str:
    """The unit a dotted ``tutor...`` name belongs to (``tutor`` for the package's own names)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in known else "tutor"


def imported(source: str, package: tuple[str, ...], known: set[str]) -> set[str]:
    """The units a module's ``source`` imports, anywhere in its body; ``package`` is where it lives."""
    targets: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the module's own package
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            # ``from tutor import paths`` names a unit; ``from tutor import __version__`` does not.
            names = [f"{base}.{alias.name}" for alias in node.names] if base == "tutor" else [base]
        else:
            continue
        targets.update(unit_of(name, known) for name in names if name.split(".")[0] == "tutor")
    return targets


def edges() -> dict[tuple[str, str], list[str]]:
    """Every import between two different units, with the files that make it."""
    known = units()
    found: dict[tuple[str, str], list[str]] = {}
    for path in sorted(TUTOR.rglob("*.py")):
        rel = path.relative_to(TUTOR)
        source = rel.parts[0] if len(rel.parts) > 1 else unit_of(f"tutor.{path.stem}", known)
        package = path.relative_to(ROOT).parts[:-1]
        for target in imported(path.read_text(encoding="utf-8"), package, known):
            if target != source:
                found.setdefault((source, target), []).append(str(rel))
    return found


def documented_layers() -> dict[str, int]:
    """Each unit's layer number, as listed in ``docs/architecture.md`` (0 is the bottom)."""
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- layers -->(.*?)<!-- /layers -->", text, re.S)
    assert block, "docs/architecture.md lost its layers list"
    layer_of: dict[str, int] = {}
    for number, names in re.findall(r"^\|\s*(\d+)\s*\|([^|]*)\|", block.group(1), re.M):
        for name in re.findall(r"`([\w.]+)`", names):
            unit = name.removeprefix("tutor.").removesuffix(".py") if name != "tutor" else name
            assert unit not in layer_of, f"{unit} is listed twice"
            layer_of[unit] = int(number)
    return layer_of


def test_every_unit_of_tutor_is_in_the_documented_layers() -> None:
    layer_of = documented_layers()
    assert set(layer_of) == units()


def test_every_import_points_to_a_lower_layer() -> None:
    layer_of = documented_layers()
    upward = [
        f"{a} (layer {layer_of[a]}) imports {b} (layer {layer_of[b]}) in {', '.join(files)}"
        for (a, b), files in sorted(edges().items())
        if layer_of[a] <= layer_of[b]
    ]
    assert upward == []


def test_the_package_graph_has_no_circle() -> None:
    graph: dict[str, set[str]] = {unit: set() for unit in units()}
    for a, b in edges():
        graph[a].add(b)
    # Kahn's algorithm: whatever cannot be peeled off lies on a circle.
    remaining = {unit: set(targets) for unit, targets in graph.items()}
    while True:
        leaves = [unit for unit, targets in remaining.items() if not targets]
        if not leaves:
            break
        for leaf in leaves:
            del remaining[leaf]
        for targets in remaining.values():
            targets.difference_update(leaves)
    assert remaining == {}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tutor.kernel.client import Kernel\n", {"kernel"}),
        ("def f():\n    from tutor import paths, __version__\n", {"paths", "tutor"}),
        ("import tutor.checks.engine\n", {"checks"}),
        ("from .client import Kernel\n", {"kernel"}),
        ("import json\nfrom textual.app import App\n", set()),
    ],
)
def test_imports_inside_functions_and_relative_ones_are_seen(
    source: str, expected: set[str]
) -> None:
    assert imported(source, ("tutor", "kernel"), units()) == expected
