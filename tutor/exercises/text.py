"""The words a learner reads about a run: one line per defined name, the sentence for a failure."""

from __future__ import annotations

from typing import Any

from tutor.kernel import RunResult

TRACEBACK_HEADER = "Traceback (most recent call last):"


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
    the line that names the problem (``SyntaxError: ...``): the verdict is those two; the ``File`` lines, code and caret stay in the output
    pane. A timeout, crash or memory stop says what happened and what became of the variables.
    """
    if result.status != "error":
        return " ".join(part for part in (result.error, result.notice) if part) or (
            "Your code did not finish."
        )
    lines = [line for line in result.error.splitlines() if line.strip()]
    # Everything before the last indented line is where it happened; the rest is what happened.
    indented = [i for i, line in enumerate(lines) if line[:1].isspace()]
    start = indented[-1] + 1 if indented else 0
    tail = [line for line in lines[start:] if line != TRACEBACK_HEADER]
    if start and lines[0] != TRACEBACK_HEADER and not lines[0][:1].isspace():
        # The kernel's plain-language explanation sits above the traceback: it leads the verdict.
        tail.insert(0, lines[0])
    sentence = " ".join(line.strip() for line in tail) or result.error.strip()
    return " ".join(part for part in (sentence, result.notice) if part)


def run_lines(result: RunResult) -> list[str]:
    """The output-pane lines after a run: its error in full (with the caret), notice, names."""
    lines = [part for part in (result.error, result.notice) if part]
    lines.extend(describe_summary(name, info) for name, info in result.summary.items())
    return lines
