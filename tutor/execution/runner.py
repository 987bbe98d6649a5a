"""Executing learner code inside the kernel child: REPL semantics, captured output, short tracebacks.

Runs only in the child process. Code is compiled under a pseudo file name (``<answer>``, ``<repl>``,
``<setup>``) registered in ``linecache`` so tracebacks quote the learner's own lines, and frames
from the tutor or from torch are dropped from what the learner sees.
"""

from __future__ import annotations

import ast
import io
import linecache
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

# Pseudo file names of code the learner (or the lesson) wrote; frames from anything else are hidden.
LEARNER_FILES = ("<answer>", "<repl>", "<setup>", "<solution>", "<check>")

OUTPUT_CAP = 64 * 1024  # characters of output one run may send back; the rest is cut with a notice
FLUSH_BYTES = 4096
FLUSH_SECONDS = 0.05


class CapturedStream:
    """A text stream that forwards writes as ``out`` messages, batched and capped per run."""

    def __init__(
        self, name: str, send: Callable[[dict[str, Any]], None], budget: list[int]
    ) -> None:
        self.name = name
        self._send = send
        self._budget = budget  # shared by stdout and stderr: one cap per run
        self._buffer: list[str] = []
        self._buffered = 0
        self._last_flush = time.monotonic()
        self.cut = False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self._budget[0] <= 0:
            self._cut_notice()
            return len(text)
        piece = text[: self._budget[0]]
        self._budget[0] -= len(piece)
        self._buffer.append(piece)
        self._buffered += len(piece)
        now = time.monotonic()
        if self._buffered >= FLUSH_BYTES or now - self._last_flush >= FLUSH_SECONDS:
            self.flush()
        if len(piece) < len(text):
            self._cut_notice()
        return len(text)

    def _cut_notice(self) -> None:
        if not self.cut:
            self.cut = True
            self.flush()
            self._send(
                {
                    "type": "out",
                    "stream": self.name,
                    "text": f"\n[output cut after {OUTPUT_CAP // 1024} KB; the code kept running]\n",
                }
            )
            # Both streams share the budget; mark the sibling too so the notice shows once.
            self._budget[0] = 0

    def flush(self) -> None:
        if self._buffer:
            self._send({"type": "out", "stream": self.name, "text": "".join(self._buffer)})
            self._buffer.clear()
            self._buffered = 0
        self._last_flush = time.monotonic()

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return "utf-8"


def syntax_message(exc: SyntaxError) -> str:
    """A syntax error as the learner needs it: where, the line, a caret under the spot, and what."""
    filename = exc.filename or "<answer>"
    lines = [f'  File "{filename}", line {exc.lineno}']
    if exc.text:
        text = exc.text.rstrip("\n")
        stripped = text.lstrip()
        indent = len(text) - len(stripped)
        lines.append(f"    {stripped}")
        if exc.offset:
            caret_at = max(exc.offset - 1 - indent, 0)
            lines.append("    " + " " * caret_at + "^")
    lines.append(f"{type(exc).__name__}: {exc.msg}")
    return "\n".join(lines)


def short_traceback(
    exc: BaseException, namespace: dict[str, Any] | None = None, code: str = ""
) -> str:
    """A plain-language line about the error, then the traceback cut to the learner's frames."""
    from tutor.execution.explain import explain

    explanation = None
    if isinstance(exc, RuntimeError):
        from tutor.execution.explain_devices import explain_mixed_device

        # torch's own wording ("Expected all tensors to be on the same device...") names no fix.
        explanation = explain_mixed_device(str(exc))
    if explanation is None:
        explanation = explain(exc, namespace, code)
    # One line, always: ``split_explanation`` takes it back off by that rule.
    return " ".join(explanation.split()) + "\n" + bare_traceback(exc)


TRACEBACK_HEADER = "Traceback (most recent call last):"


def split_explanation(error: str) -> tuple[str, str]:
    """(the plain-language line, Python's own text) of an error ``short_traceback`` made.

    Python's own text is what the learner's code raised: the traceback or syntax error with its
    exception line. A single line (an error from elsewhere) is Python's text with no explanation.
    """
    first, _, rest = error.strip().partition("\n")
    if not rest or first == TRACEBACK_HEADER or first[:1].isspace():
        return "", error.strip()
    return first, rest


def bare_traceback(exc: BaseException) -> str:
    """The traceback cut down to the learner's own frames, then the exception line."""
    if isinstance(exc, SyntaxError) and exc.filename in LEARNER_FILES:
        return syntax_message(exc)
    tb: TracebackType | None = exc.__traceback__
    frames = [f for f in traceback.extract_tb(tb) if f.filename in LEARNER_FILES]
    parts = ["Traceback (most recent call last):\n"] if frames else []
    parts.extend(traceback.format_list(frames))
    parts.extend(traceback.format_exception_only(type(exc), exc))
    return "".join(parts).rstrip()


def compile_cell(code: str, filename: str) -> tuple[Any, Any | None]:
    """Compile a cell REPL-style: the body, and the last line apart when it is an expression.

    The last expression's value is printed like in a Python REPL, so ``y`` alone shows ``y``.
    """
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    tree = ast.parse(code, filename, "exec")
    last = None
    final = tree.body[-1] if tree.body else None
    if isinstance(final, ast.Expr):
        tree.body.pop()
        last = ast.Expression(final.value)
    body = compile(tree, filename, "exec")
    return body, compile(last, filename, "eval") if last is not None else None


def bound_names(code: str) -> list[str]:
    """Names a cell binds at module level (assignments, defs, classes, imports, for targets)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    names: list[str] = []

    def add(name: str) -> None:
        if name not in names:
            names.append(name)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            add(node.name)
            return  # names inside a def are local to it
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            add(node.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                add((alias.asname or alias.name).split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in tree.body:
        visit(statement)
    return names


def describe(value: Any) -> dict[str, Any]:
    """A one-line summary of a value for the output pane: tensors by shape, dtype and device,
    numpy arrays by shape and dtype."""
    import torch

    if isinstance(value, torch.Tensor):
        return {
            "kind": "tensor",
            "shape": list(value.shape),
            "dtype": str(value.dtype).replace("torch.", ""),
            "device": str(value.device),
        }
    if isinstance(value, torch.nn.Module):
        params = list(value.parameters())
        devices = sorted({str(p.device) for p in params}) or ["cpu"]
        return {
            "kind": "module",
            "type": type(value).__name__,
            "parameters": sum(p.numel() for p in params),
            "device": ",".join(devices),
        }
    kind = type(value)
    if kind.__module__ == "numpy" and kind.__name__ == "ndarray":
        # Arrays are summed up as tensors are: by shape and dtype (numpy loads with torch).
        return {"kind": "array", "shape": list(value.shape), "dtype": str(value.dtype)}
    # Other objects are named by their type alone: "x: list = list" said it twice.
    text = repr(value) if isinstance(value, int | float | bool | str) else ""
    return {"kind": "value", "type": kind.__name__, "text": text[:80]}


def run_cell(
    code: str,
    filename: str,
    namespace: dict[str, Any],
    send: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """Execute one cell in ``namespace``; returns the result fields (status, error, seconds)."""
    budget = [OUTPUT_CAP]
    out = CapturedStream("stdout", send, budget)
    err = CapturedStream("stderr", send, budget)
    saved = sys.stdin, sys.stdout, sys.stderr
    # An empty stdin per run: input() ends with EOFError, and exit() closing it harms nothing.
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(""), out, err
    started = time.perf_counter()
    status, error = "ok", ""
    try:
        body, last = compile_cell(code, filename)
        exec(body, namespace)
        if last is not None:
            value = eval(last, namespace)
            if value is not None:
                print(repr(value))
    except KeyboardInterrupt:
        status, error = "interrupted", "The code was interrupted."
    except SystemExit as exc:
        status = "exit"
        error = (
            f"Your code called exit() or raised SystemExit({exc.code!r}); "
            "the tutor does not stop for it: remove the call."
        )
    except BaseException as exc:  # the learner's error, whatever it is, becomes a message
        status, error = "error", short_traceback(exc, namespace, code)
    finally:
        out.flush()
        err.flush()
        sys.stdin, sys.stdout, sys.stderr = saved
    return {"status": status, "error": error, "seconds": time.perf_counter() - started}
