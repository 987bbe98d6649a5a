"""Plain-language explanations of the errors learners hit most, shown above the traceback.

``explain(exc, namespace, code)`` returns one or two sentences that use the learner's own names
and sizes: a misspelt or vanished name, a function that returned None, CUDA asked for on a
machine without it, a quoted variable name used as a path, nn.Module slips (no
``super().__init__()``, ``foward``, ``forward(x)`` without ``self``), syntax errors and the shape
errors of ``tutor.execution.explain_shapes``. Every other error gets a line naming where it happened,
so no failure is shown as a bare traceback. Runs only in the kernel child.
"""

from __future__ import annotations

import ast
import difflib
import linecache
import re
import traceback
from typing import Any

from tutor.execution.explain_shapes import explain_shapes
from tutor.execution.explain_torch import explain_torch

# File names of learner code (kept here so this module needs nothing from the runner).
LEARNER_FILES = ("<answer>", "<repl>", "<setup>", "<solution>", "<check>")

# Names that earlier exercises or cells created, remembered across resets (child-only state).
_ELSEWHERE: set[str] = set()


def remember_names(namespace: dict[str, Any]) -> None:
    """Note the learner-visible names of a namespace that is about to be thrown away."""
    import types

    _ELSEWHERE.update(
        name
        for name, value in namespace.items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    )


def forget_names() -> None:
    _ELSEWHERE.clear()


def learner_line(exc: BaseException) -> tuple[str, int, str] | None:
    """The innermost learner frame of the traceback: file, line number and its text."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename in LEARNER_FILES]
    if not frames:
        return None
    frame = frames[-1]
    lineno = frame.lineno or 0
    text = frame.line or linecache.getline(frame.filename, lineno)
    return frame.filename, lineno, text.strip()


def _visible(namespace: dict[str, Any]) -> list[str]:
    return [n for n in namespace if not n.startswith("__")]


_TRAIN_TEST = re.compile(r"^(train|test|valid|val|validation)(.*)$")


def explain_name(exc: NameError, namespace: dict[str, Any]) -> str | None:
    name = getattr(exc, "name", None)
    if not name:
        match = re.search(r"name '(\w+)' is not defined", str(exc))
        name = match.group(1) if match else None
    if not name:
        return None
    defined = _visible(namespace)
    split = _TRAIN_TEST.match(name)
    if split:
        siblings = [
            n for n in defined if (m := _TRAIN_TEST.match(n)) and m.group(2) == split.group(2)
        ]
        if siblings:
            return (
                f"`{name}` does not exist in this exercise; it has `{siblings[0]}`. Use the "
                "names this exercise gives you (its prompt lists them)."
            )
    if name in _ELSEWHERE:
        return (
            f"`{name}` was made in another exercise or an earlier cell that was reset: each "
            "exercise starts fresh with its own names, so create it here (or use the names "
            "this prompt gives)."
        )
    import builtins

    candidates = defined + [n for n in dir(builtins) if not n.startswith("_")]
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.7)
    if close:
        return f"`{name}` is not defined. Did you mean `{close[0]}`? Python names are exact."
    return (
        f"`{name}` is not defined: create it before this line (names must be assigned before "
        "they are used), or check its spelling."
    )


def _functions_without_return(code: str) -> list[tuple[str, str | None]]:
    """(function, nested def inside it or None) for each def in ``code`` that returns nothing."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    found: list[tuple[str, str | None]] = []

    def own_nodes(func: ast.AST) -> list[ast.AST]:
        nodes: list[ast.AST] = []
        stack = list(ast.iter_child_nodes(func))
        while stack:
            node = stack.pop()
            nodes.append(node)
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                stack.extend(ast.iter_child_nodes(node))
        return nodes

    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("__"):
            continue
        nodes = own_nodes(node)
        if any(isinstance(n, ast.Return) and n.value is not None for n in nodes):
            continue
        if any(isinstance(n, ast.Yield | ast.YieldFrom) for n in nodes):
            continue
        nested = next((n.name for n in nodes if isinstance(n, ast.FunctionDef)), None)
        found.append((node.name, nested))
    return found


def returns_none(code: str, expr: str) -> str | None:
    """A sentence when ``expr`` calls a function of ``code`` that has no ``return`` line."""
    for func, nested in _functions_without_return(code):
        if re.search(rf"\b{re.escape(func)}\(", expr):
            why = (
                f"the `def {nested}` inside it never runs" if nested else "it has no `return` line"
            )
            return f"`{func}` returns None because {why}: end it with `return` and the result."
    return None


def explain_none(exc: BaseException, line: str, namespace: dict[str, Any], code: str) -> str | None:
    if "NoneType" not in str(exc) and "None" not in str(exc):
        return None
    none_names = []
    tree = None
    try:
        tree = ast.parse(line.strip()) if line.strip() else None
    except SyntaxError:
        tree = None
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in namespace and namespace[node.id] is None:
                none_names.append(node.id)
    culprits = _functions_without_return(code)
    who = f"`{none_names[0]}` is None" if none_names else "A value here is None"
    if culprits:
        func, nested = culprits[0]
        if nested:
            return (
                f"{who}: `{func}` returns nothing, because the `def {nested}` inside it only "
                f"defines a function and never runs it. Keep one `def {func}` with the body "
                "and its `return` line."
            )
        return (
            f"{who}: `{func}` has no `return` line, so calling it gives None. End it with "
            "`return` and the result."
        )
    if none_names:
        return (
            f"{who}: it holds the result of something that returns None (an in-place method "
            "such as .append or a function without `return`). Print it to see."
        )
    return None


_NO_CUDA = ("Found no NVIDIA driver", "Torch not compiled with CUDA enabled", "no CUDA GPUs")


def explain_cuda(exc: BaseException) -> str | None:
    if not any(marker in str(exc) for marker in _NO_CUDA):
        return None
    return (
        "This machine has no CUDA GPU, and the code asks for one (`.cuda()` or "
        "device='cuda'). Ask first: device = torch.device('cuda' if torch.cuda.is_available() "
        "else 'cpu'), then use .to(device), so the code runs on both kinds of machine."
    )


def explain_path(exc: BaseException, namespace: dict[str, Any]) -> str | None:
    if isinstance(exc, FileNotFoundError):
        path = exc.filename if isinstance(exc.filename, str) else None
        if path is None:
            match = re.search(r"(?:folder in|directory:) '?([^']+)'?", str(exc))
            path = match.group(1).strip() if match else None
        if path:
            head = re.split(r"[\\/]", path)[0]
            if head in namespace and isinstance(namespace[head], str):
                return (
                    f"'{head}' in quotes is the text {head}, not your variable `{head}` (which "
                    f"holds {namespace[head]!r}): write it without quotes, e.g. "
                    f"{head} + '/train'."
                )
            return f"There is no file or folder at {path!r}: check the path and its spelling."
    if "Couldn't find any class folder" in str(exc):
        return (
            "ImageFolder needs a folder whose subfolders are the classes (one folder of pictures "
            "per class): point it at that folder."
        )
    return None


_TAKES = re.compile(r"(\w+)\.(\w+)\(\) takes (\d+) positional arguments? but (\d+) were given")
_NO_FORWARD = re.compile(r'Module \[(\w+)\] is missing the required "forward" function')


def explain_module(exc: BaseException, namespace: dict[str, Any]) -> str | None:
    text = str(exc)
    if "cannot assign module before Module.__init__() call" in text or (
        "object has no attribute '_modules'" in text
        or "object has no attribute '_parameters'" in text
    ):
        return (
            "The layers are created before nn.Module is set up: the first line of your "
            "`__init__` must be `super().__init__()`."
        )
    match = _NO_FORWARD.search(text)
    if match:
        cls = namespace.get(match.group(1))
        methods = [n for n in vars(cls) if not n.startswith("_")] if isinstance(cls, type) else []
        close = difflib.get_close_matches("forward", methods, n=1, cutoff=0.6)
        if close:
            return (
                f"`{match.group(1)}` defines `{close[0]}`, not `forward`: nn.Module calls the "
                "method named exactly `forward`."
            )
        if callable(namespace.get("forward")):
            return (
                f"`forward` is defined outside the class `{match.group(1)}`: indent it under "
                "the class, at the level of `__init__`."
            )
        return f"`{match.group(1)}` has no `forward` method: define `def forward(self, x):`."
    match = _TAKES.search(text)
    if match and int(match.group(4)) == int(match.group(3)) + 1:
        cls = namespace.get(match.group(1))
        if isinstance(cls, type):
            return (
                f"`{match.group(1)}.{match.group(2)}` is missing `self`: a method receives the "
                f"object first, so write `def {match.group(2)}(self, ...)`."
            )
    return None


def explain_uncalled(exc: BaseException, line: str, namespace: dict[str, Any]) -> str | None:
    """A method passed where its result was meant: ``model.parameters`` without ``()``."""
    text = str(exc)
    if "method" not in text:
        return None
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:
        return None
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and id(node) not in called
            and isinstance(node.value, ast.Name)
            and node.value.id in namespace
        ):
            value = getattr(namespace[node.value.id], node.attr, None)
            if callable(value) and hasattr(value, "__self__"):
                spelled = f"{node.value.id}.{node.attr}"
                return (
                    f"`{spelled}` is a method, passed here without calling it: write "
                    f"`{spelled}()` to use what it returns."
                )
    return None


def explain_key(exc: KeyError) -> str | None:
    """A missing dictionary key: the nearest key of a dictionary in the failing learner frame."""
    if not exc.args or not isinstance(exc.args[0], str):
        return None
    missing = exc.args[0]
    tb = exc.__traceback__
    frame_locals: dict[str, Any] = {}
    while tb is not None:
        if tb.tb_frame.f_code.co_filename in LEARNER_FILES:
            frame_locals = dict(tb.tb_frame.f_locals)
        tb = tb.tb_next
    for name, value in frame_locals.items():
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            close = difflib.get_close_matches(missing, list(value), n=1, cutoff=0.6)
            if close:
                return f"`{name}` has no key '{missing}'; it has '{close[0]}'. Keys are exact."
            if value and not name.startswith("_"):
                keys = ", ".join(repr(k) for k in list(value)[:6])
                return f"`{name}` has no key '{missing}'; its keys are {keys}."
    return None


def explain_syntax(exc: SyntaxError) -> str:
    msg = exc.msg or ""
    line = exc.lineno or 0
    if "was never closed" in msg:
        return (
            f"A bracket opened on line {line} is never closed: every (, [ and {{ needs its "
            "partner; the error may show on a later line."
        )
    if "does not match opening parenthesis" in msg:
        return f"The brackets on line {line} do not pair up: {msg}. Close the inner one first."
    if "unmatched" in msg:
        return f"Line {line} closes a bracket that was never opened: {msg}."
    if isinstance(exc, IndentationError):
        return (
            f"Python could not follow the indentation on line {line} ({msg}): the lines of a "
            "block (after a line ending in `:`) are indented by the same amount."
        )
    return f"Python could not read line {line}: {msg}."


def explain_specific(
    exc: BaseException, namespace: dict[str, Any] | None = None, code: str = ""
) -> str | None:
    """The explanation of a known kind of error, or None."""
    namespace = namespace if namespace is not None else {}
    if isinstance(exc, SyntaxError):
        return explain_syntax(exc)
    where = learner_line(exc)
    line = where[2] if where else ""
    text = str(exc)
    found: str | None = None
    if isinstance(exc, NameError) and not isinstance(exc, UnboundLocalError):
        found = explain_name(exc, namespace)
    if found is None and isinstance(exc, RuntimeError | AssertionError):
        found = explain_cuda(exc)
    if found is None and isinstance(exc, RuntimeError):
        found = explain_shapes(text, line, code)
    if found is None and isinstance(exc, OSError | RuntimeError):
        found = explain_path(exc, namespace)
    if found is None and isinstance(exc, AttributeError | NotImplementedError | TypeError):
        found = explain_module(exc, namespace)
    if found is None and isinstance(exc, AttributeError | TypeError):
        found = explain_none(exc, line, namespace, code)
    if found is None and isinstance(exc, TypeError):
        found = explain_uncalled(exc, line, namespace)
    if found is None and isinstance(exc, KeyError):
        found = explain_key(exc)
    if found is None:
        found = explain_torch(text)

    return found


def explain(exc: BaseException, namespace: dict[str, Any] | None = None, code: str = "") -> str:
    """A plain sentence (or two) about ``exc`` for the learner; never empty."""
    found = explain_specific(exc, namespace, code)
    if found is not None:
        return found
    where = learner_line(exc)
    spot = ""
    if where and where[0] == "<answer>":
        spot = f" on line {where[1]}"
    elif where and where[0] != "<check>":
        spot = f" in {where[0]} line {where[1]}"
    name = type(exc).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    return f"Your code stopped{spot} with {article} {name}; the last line below says why."
