"""After a pass: at most one tip about an outdated or slow spelling (never a failure).

The answer works; the tip shows the spelling the course (and current PyTorch) prefers: a tensor
operation instead of a Python loop over elements, ``.float()`` instead of
``.type(torch.FloatTensor)``, plain tensors instead of ``Variable``, ``weights=`` instead of
``pretrained=True``. Found by reading the code (AST), never by running it again.
"""

from __future__ import annotations

import ast

from tutor.checks.calls import _dotted


def _loops_over_elements(tree: ast.AST) -> int | None:
    """The line of a ``for`` over ``range(len(x))`` / ``range(x.shape[i])``: element by element."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.For) or not isinstance(node.iter, ast.Call):
            continue
        call = node.iter
        if getattr(call.func, "id", None) != "range" or not call.args:
            continue
        bound = call.args[-1]
        text = ast.unparse(bound)
        if text.startswith("len(") or ".shape" in text or ".size(" in text or "numel" in text:
            return node.lineno
    return None


def tip_for(code: str) -> str | None:
    """One tip for a passing answer, or None."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func) or ""
            method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            if method == "type" and node.args:
                arg = _dotted(node.args[0]) or ""
                if arg.endswith("FloatTensor"):
                    return (
                        f"Tip: line {node.lineno} works, but `.float()` says the same more "
                        "simply, and `.to(torch.float32)` keeps the tensor on its device "
                        "(`.type(torch.FloatTensor)` moves it to the CPU)."
                    )
            if name.split(".")[-1] == "Variable":
                return (
                    f"Tip: line {node.lineno} uses Variable, which PyTorch no longer needs: "
                    "tensors track gradients themselves (requires_grad=True)."
                )
            for keyword in node.keywords:
                if keyword.arg == "pretrained":
                    return (
                        f"Tip: line {node.lineno} uses pretrained=, which torchvision has "
                        "replaced: pass weights=..., e.g. weights='DEFAULT'."
                    )
    line = _loops_over_elements(tree)
    if line is not None:
        return (
            f"Tip: the loop on line {line} goes element by element; one tensor operation "
            "(a matrix product, a sum with dim=..., a comparison) does the same at once and "
            "much faster."
        )
    return None
