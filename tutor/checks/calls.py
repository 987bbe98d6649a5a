"""Op rules: banned and required calls, and no Python loops.

Calls are seen two ways. The recorder notes every torch call the learner's code really made
(including calls inside the learner's functions while checks ran them). An AST walk of the code
finds names such as ``torch.softmax``, ``F.softmax``, ``.softmax(`` and ``@`` even on lines that
never ran, so a banned call in an untested branch is still named with its line.
"""

from __future__ import annotations

import ast
from typing import Any

from tutor.checks.context import CheckFailed, Context

# Short spellings lessons and learners use, and what they stand for.
PREFIXES = {
    "F.": "torch.nn.functional.",
    "nn.functional.": "torch.nn.functional.",
    "nn.": "torch.nn.",
    "torch.Tensor.": "Tensor.",
}
# Operators and their method names are the same call.
ALIASES = {
    "Tensor.__matmul__": "Tensor.matmul",
    "Tensor.__rmatmul__": "Tensor.matmul",
    "Tensor.__mul__": "Tensor.mul",
    "Tensor.__add__": "Tensor.add",
}


def normalise(name: str) -> str:
    for short, full in PREFIXES.items():
        if name.startswith(short):
            name = full + name[len(short) :]
            break
    return ALIASES.get(name, name)


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def static_calls(code: str) -> dict[str, int]:
    """Normalised names the code mentions, each with its first line (``import ... as`` resolved)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return {}
    aliases = {"F": "torch.nn.functional", "nn": "torch.nn", "torch": "torch"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        name = normalise(name)
        if name not in found or line < found[name]:
            found[name] = line

    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            add("Tensor.matmul", node.lineno)
        elif isinstance(node, ast.Attribute | ast.Name):
            dotted = _dotted(node)
            if dotted is None:
                if isinstance(node, ast.Attribute):
                    add(f"Tensor.{node.attr}", node.lineno)  # x.softmax(...) on any expression
                continue
            head, _, rest = dotted.partition(".")
            if head in aliases:
                add(aliases[head] + ("." + rest if rest else ""), node.lineno)
            elif isinstance(node, ast.Attribute):
                add(f"Tensor.{node.attr}", node.lineno)  # x.softmax(...) on a variable
    return found


def _line_text(where: Any) -> str:
    if isinstance(where, int):
        return f"line {where}"
    if isinstance(where, list | tuple) and len(where) == 2:
        filename, line = where
        return f"line {line}" if filename == "<answer>" else f"{filename} line {line}"
    return "your code"


def _display(name: str) -> str:
    return name.replace("torch.nn.functional.", "F.")


def check_banned(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    banned = {normalise(c): c for c in params["calls"]}
    dynamic = {normalise(k): v for k, v in ctx.log.calls.items()}
    static = static_calls(ctx.code)
    # What the code says (static) names the learner's own spelling; what ran (dynamic) may be an
    # inner call, e.g. nn.Softmax calling F.softmax, so it only counts when nothing is written.
    hits: list[tuple[Any, str]] = [(static[n], s) for n, s in banned.items() if n in static]
    hits = hits or [(dynamic[n], s) for n, s in banned.items() if n in dynamic]
    if not hits:
        return
    where, shown = min(hits, key=lambda hit: _line_number(hit[0]))
    spot = f"{_line_text(where)} calls {shown}"
    if message:
        raise CheckFailed(f"{message} ({spot}).")
    raise CheckFailed(
        f"{spot[0].upper()}{spot[1:]}, which this exercise asks you not to use: "
        "build it from simpler tensor operations."
    )


def _line_number(where: Any) -> int:
    if isinstance(where, int):
        return where
    if isinstance(where, list | tuple) and len(where) == 2:
        return int(where[1])
    return 10**9


def check_required(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    wanted = [normalise(c) for c in params["calls"]]
    dynamic = {normalise(k) for k in ctx.log.calls}
    if any(name in dynamic for name in wanted):
        return
    names = ", ".join(params["calls"])
    raise CheckFailed(message or f"Your code must use one of: {names}.")


LOOP_NODES = {
    ast.For: "a for loop",
    ast.AsyncFor: "a for loop",
    ast.While: "a while loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}


def check_no_loops(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    try:
        tree = ast.parse(ctx.code)
    except SyntaxError:
        return
    loops = [
        (getattr(node, "lineno", 0), LOOP_NODES[type(node)])
        for node in ast.walk(tree)
        if type(node) in LOOP_NODES
    ]
    if loops:
        line, what = min(loops)
        spot = f"line {line} uses {what}"
        if message:
            raise CheckFailed(f"{message} ({spot}).")
        raise CheckFailed(
            f"{spot[0].upper()}{spot[1:]}: this exercise asks for whole-tensor operations "
            "without Python loops."
        )
