"""The words a learner reads about a run: one line per defined name, the sentence for a failure."""

from __future__ import annotations

from typing import Any

from tutor.execution.runner import TRACEBACK_HEADER, split_explanation
from tutor.kernel import RunResult


def describe_summary(name: str, info: dict[str, Any]) -> str:
    """One output-pane line for a defined name: tensors by shape, dtype and device, arrays by
    shape and dtype."""
    kind = info.get("kind")
    if kind in ("tensor", "array"):
        shape = (
            "("
            + ", ".join(str(d) for d in info["shape"])
            + ("," if len(info["shape"]) == 1 else "")
            + ")"
        )
        if kind == "array":
            return f"{name}: ndarray {shape} {info['dtype']}"
        return f"{name}: tensor {shape} {info['dtype']} on {info['device']}"
    if kind == "module":
        return f"{name}: {info['type']} ({info['parameters']:,} parameters) on {info['device']}"
    text = info.get("text", "")
    return f"{name}: {info.get('type', '?')}" + (f" = {text}" if text else "")


def failure_sentence(result: RunResult) -> str:
    """The verdict line for a failed run: the exception line, or what stopped it and what remains.

    The kernel puts a plain-language explanation first, and a traceback or syntax error ends with
    the line that names the problem (``SyntaxError: ...``): the verdict is those two; the ``File``
    lines, code and caret stay in the output pane. A timeout, crash or memory stop says what
    happened and what became of the variables.
    """
    if result.status != "error":
        return " ".join(part for part in (result.error, result.notice) if part) or (
            "Your code did not finish."
        )
    explanation, python_text = split_explanation(result.error)
    lines = [line for line in python_text.splitlines() if line.strip()]
    # Everything before the last indented line is where it happened; the rest is what happened.
    indented = [i for i, line in enumerate(lines) if line[:1].isspace()]
    start = indented[-1] + 1 if indented else 0
    tail = [line for line in lines[start:] if line != TRACEBACK_HEADER]
    if explanation:  # the kernel's plain-language line leads the verdict
        tail.insert(0, explanation)
    sentence = " ".join(line.strip() for line in tail) or result.error.strip()
    return " ".join(part for part in (sentence, result.notice) if part)


def run_lines(result: RunResult) -> list[str]:
    """The output-pane lines after a run: its error in full (with the caret), notice, names."""
    lines = [part for part in (result.error, result.notice) if part]
    lines.extend(describe_summary(name, info) for name, info in result.summary.items())
    return lines
