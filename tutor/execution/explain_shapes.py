"""Plain words for PyTorch's shape errors: matrix products, view/reshape, broadcasting.

Each explainer takes the error text and the learner's failing line (source text, may be empty)
and returns one or two sentences naming the learner's own operands and sizes, or None when the
error is not one it knows. Used by ``tutor.execution.explain``; runs only in the kernel child.
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

_MAT = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")
_VIEW = re.compile(r"shape '\[([-\d, ]*)\]' is invalid for input of size (\d+)")
_BROADCAST = re.compile(
    r"The size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton "
    r"dimension (\d+)"
)
_MATVEC = re.compile(r"size mismatch, got input \((\d+)\), mat \((\d+)x(\d+)\), vec \((\d+)\)")
_BATCHED = re.compile(r"Expected size for first two dimensions of batch2 tensor")

PRODUCT_NAMES = {"mm", "matmul", "bmm"}
RESHAPE_NAMES = {"view", "reshape"}


def _parse(line: str) -> ast.AST | None:
    text = line.strip()
    if not text:
        return None
    for candidate in (text, text.rstrip(":")):
        try:
            return ast.parse(candidate)
        except SyntaxError:
            continue
    return None


def _segment(line: str, node: ast.AST) -> str:
    return ast.get_source_segment(line.strip(), node) or ""


def product_operands(line: str) -> tuple[str, str] | None:
    """The source text of the two operands of the first matrix product written on ``line``."""
    tree = _parse(line)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            return _segment(line, node.left), _segment(line, node.right)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name not in PRODUCT_NAMES:
                continue
            args = node.args
            if isinstance(node.func, ast.Attribute) and len(args) == 1:
                receiver = node.func.value
                is_module = isinstance(receiver, ast.Name) and receiver.id == "torch"
                if not is_module:  # a.mm(b)
                    return _segment(line, receiver), _segment(line, args[0])
            if len(args) >= 2:
                return _segment(line, args[0]), _segment(line, args[1])
    return None


def _called_on(line: str) -> str:
    """The argument of the first plain call on the line (``model(images)`` gives ``images``)."""
    tree = _parse(line)
    if tree is None:
        return ""
    candidates = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in PRODUCT_NAMES | RESHAPE_NAMES:
                candidates.append(node.args[0])
    # A plain variable passed in (``self.fc1(x)`` inside ``F.relu(...)``) names the input best.
    named = [arg for arg in candidates if isinstance(arg, ast.Name)]
    chosen = named[0] if named else (candidates[0] if candidates else None)
    return _segment(line, chosen) if chosen is not None else ""


def _shape(*dims: int) -> str:
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def _literal_ints(line: str) -> set[int]:
    tree = _parse(line)
    if tree is None:
        return set()
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, int)
    }


def explain_matmul(text: str, line: str, code: str = "") -> str | None:
    """The inner sizes of a matrix product disagree: which operand to transpose or reshape."""
    match = _MAT.search(text)
    if match is None:
        return _explain_matvec(text, line)
    a, b, c, d = (int(g) for g in match.groups())
    operands = product_operands(line)
    if operands is None:
        return _explain_linear(a, b, c, d, line, code)
    left, right = operands
    first = (
        f"The matrix product `{left}` @ `{right}` multiplies a {_shape(a, b)} by a "
        f"{_shape(c, d)}: the inner sizes {b} and {c} must agree, since (n, k) @ (k, m) "
        "gives (n, m)."
    )
    if b == d:
        reshaped = re.match(r"^(.+)\.(view|reshape)\(.*\)$", right)
        if reshaped:
            fix = f" Reshape it the other way: `{reshaped.group(1)}.{reshaped.group(2)}({d}, {c})`."
        else:
            fix = (
                f" Turn `{right}` into a {_shape(d, c)} first, e.g. `{right}.view({d}, {c})` or "
                f"`{right}.T`."
            )

    elif d == a:
        fix = f" The operands may be in the wrong order: `{right}` @ `{left}` fits."
    elif a == c:
        fix = f" Transpose `{left}` (`{left}.T` is {_shape(b, a)}) or reshape it."
    else:
        fix = " Print both operands' .shape and reshape one so the inner sizes match."
    return first + fix


def _explain_linear(a: int, b: int, c: int, d: int, line: str, code: str) -> str:
    """mat2 is a Linear layer's weight (in, out): the input rows have the wrong width."""
    what = _called_on(line)
    named = f"`{what}`" if what else "the input"
    first = (
        f"A Linear layer expecting {c} input features got rows of {b} values: {named} reached "
        f"it as a {_shape(a, b)} matrix, but a Linear({c}, {d}) needs shape (N, {c})."
    )
    total = a * b
    if total % c == 0:
        n = total // c
        if a in _literal_ints(line) | _literal_ints(code) and a != n:
            return first + (
                f" The data holds {n} samples of {c} values, so the {a} written in a "
                f"view/reshape is a hard-coded batch size: use x.shape[0] (or -1) instead."
            )
        if b < c and c % b == 0:
            return first + (
                f" These look like {n} images that were never flattened: flatten each to a row "
                f"of {c} first, x.view(x.shape[0], -1) or nn.Flatten()."
            )
        return first + f" Reshape it to ({n}, {c}) with x.view(x.shape[0], -1)."
    return first + f" Check the layer sizes: each row must hold exactly {c} numbers."


def _explain_matvec(text: str, line: str) -> str | None:
    match = _MATVEC.search(text)
    if match is not None:
        _, rows, cols, vec = (int(g) for g in match.groups())
        return (
            f"A matrix-vector product of a {_shape(rows, cols)} matrix and a vector of {vec} "
            f"values needs the vector to have {cols} values: check which operand comes first."
        )
    if _BATCHED.search(text):
        return (
            "A batched matrix product needs (b, n, k) @ (b, k, m): the inner sizes k must agree. "
            "Print both operands' .shape and transpose the last two dimensions of one of them."
        )
    return None


def _view_call(line: str) -> tuple[str, str] | None:
    tree = _parse(line)
    if tree is None:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RESHAPE_NAMES
        ):
            return _segment(line, node.func.value), node.func.attr
    return None


def explain_view(text: str, line: str) -> str | None:
    """A view/reshape to a size the tensor cannot fill."""
    if "view size is not compatible with input tensor's size and stride" in text:
        return (
            "view() cannot reshape this tensor because its memory is not in row order (after "
            ".t(), .T, transpose or permute): use .reshape(...), or .contiguous().view(...)."
        )
    match = _VIEW.search(text)
    if match is None:
        return None
    dims = [int(x) for x in match.group(1).replace(" ", "").split(",") if x]
    size = int(match.group(2))
    call = _view_call(line)
    args = ", ".join(str(x) for x in dims)
    who = f"`{call[0]}.{call[1]}({args})`" if call else f"view/reshape({args})"
    asked = " × ".join(str(x) for x in dims)
    if -1 in dims:
        known = math.prod(x for x in dims if x != -1)
        first = (
            f"{who} cannot work: the tensor has {size} elements, which do not "
            f"divide into parts of {known}."
        )
    else:
        first = f"{who} asks for {asked} = {math.prod(dims)} elements, but the tensor has {size}."
    for index, wanted in enumerate(dims):
        others = math.prod(x for i, x in enumerate(dims) if i != index and x != -1)
        if wanted != -1 and others and size % others == 0:
            fits = size // others
            return first + (
                f" With the other sizes kept, dimension {index} would be {fits}, not {wanted}: "
                f"a hard-coded {wanted} (a batch size?) does not fit this tensor; write "
                "x.shape[0] or -1 there instead."
            )
    return first + " Print x.shape and pick sizes whose product equals its number of elements."


def explain_broadcast(text: str, line: str) -> str | None:
    """Two operands whose sizes cannot be broadcast together."""
    match = _BROADCAST.search(text)
    if match is None:
        return None
    a, b, dim = (int(g) for g in match.groups())
    tree = _parse(line)
    names: tuple[str, str] | None = None
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.MatMult):
                names = (_segment(line, node.left), _segment(line, node.right))
                break
    pair = f"`{names[0]}` and `{names[1]}`" if names else "The two operands"
    return (
        f"{pair} cannot be combined element by element: at dimension {dim} one has size {a} and "
        f"the other {b}. Sizes are matched from the right and must be equal or 1; print both "
        ".shape values and reshape one of them (or use a matrix product if that was meant)."
    )


def explain_shapes(text: str, line: str, code: str = "", namespace: Any = None) -> str | None:
    """The first shape explanation that applies to this error text."""
    return (
        explain_matmul(text, line, code)
        or explain_view(text, line)
        or explain_broadcast(text, line)
    )
