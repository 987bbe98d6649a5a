"""Property checks: the learner's function against a reference over random inputs, small first.

Sizes named in ``inputs`` (``n``, ``c``, ``h``, ``w``, ``k``, ``m``, ``d``) are drawn from a seeded
generator and grow with each seed, so the first failure is also the smallest; it is shown as code
the learner can paste into the REPL to see the difference.
"""

from __future__ import annotations

import ast
from typing import Any

from tutor.checks.compare import compare_values
from tutor.checks.context import CheckFailed, CheckTimeout, Context, helpers, kind_of
from tutor.execution.runner import short_traceback

SIZE_NAMES = ("n", "c", "h", "w", "k", "m", "d")
MAX_LITERAL = 64  # elements; bigger inputs are shown as the generator call instead


def sizes_for(seed: int, generator: Any) -> dict[str, int]:
    """Size parameters for one seed: 1..2 for seed 0, growing by 3 per seed."""
    import torch

    high = 2 + 3 * seed
    return {
        name: int(torch.randint(1, high + 1, (1,), generator=generator).item())
        for name in SIZE_NAMES
    }


def literal(value: Any) -> str:
    """Pasteable source for an input value."""
    import torch

    if isinstance(value, torch.Tensor) and value.numel() <= MAX_LITERAL:

        def fmt(v: Any) -> Any:
            if isinstance(v, list):
                return "[" + ", ".join(fmt(x) for x in v) + "]"
            return format(v, ".8g") if isinstance(v, float) else repr(v)

        body = fmt(value.tolist())
        dtype = "" if value.dtype == torch.float32 else f", dtype={value.dtype}"
        return f"torch.tensor({body}{dtype})"
    return repr(value)


def snippet(
    function: str, inputs: str, seed: int, sizes: dict[str, int], args: tuple[Any, ...]
) -> str:
    mentioned = {
        node.id for node in ast.walk(ast.parse(inputs, mode="eval")) if isinstance(node, ast.Name)
    }
    used = [name for name in SIZE_NAMES if name in mentioned]
    lines = []
    if all(literal(a).startswith("torch.tensor(") or not hasattr(a, "shape") for a in args):
        names = [f"x{i}" if len(args) > 1 else "x" for i in range(len(args))]
        for name, arg in zip(names, args, strict=True):
            lines.append(f"{name} = {literal(arg)}")
    else:
        lines.append(f"g = torch.Generator().manual_seed({seed})")
        if used:
            lines.append(", ".join(used) + " = " + ", ".join(str(sizes[u]) for u in used))
        names = ["x"] if len(args) == 1 else [f"x{i}" for i in range(len(args))]
        lines.append(f"{', '.join(names)} = {inputs}")
    lines.append(f"{function}({', '.join(names)})")
    return "\n".join(lines)


def check_property(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    import torch

    name = params["function"]
    learner_fn = ctx.learner_value(name)
    if not callable(learner_fn):
        raise CheckFailed(f"`{name}` should be a function, but it is {kind_of(learner_fn)}.")
    reference_fn = ctx.eval_reference(params["reference"])
    seeds = int(params.get("seeds", 5))
    for seed in range(seeds):
        generator = torch.Generator().manual_seed(seed)
        sizes = sizes_for(seed, generator)
        scope = {**helpers(), **sizes, "g": generator}
        made = eval(compile(params["inputs"], "<check>", "eval"), scope)
        args = made if isinstance(made, tuple) else (made,)
        clones = tuple(a.clone() if isinstance(a, torch.Tensor) else a for a in args)
        want = reference_fn(*clones)
        shown = snippet(name, params["inputs"], seed, sizes, args)
        try:

            def call(args: tuple[Any, ...] = args) -> Any:
                return learner_fn(*(a.clone() if isinstance(a, torch.Tensor) else a for a in args))

            got = ctx.call_learner(call)
        except CheckTimeout:
            raise CheckFailed(
                f"`{name}` did not finish within {ctx.timeout:g} s on this input:\n{shown}"
            ) from None
        except Exception as exc:
            raise CheckFailed(
                f"`{name}` raised an error on this input:\n{shown}\n{short_traceback(exc, ctx.learner, ctx.code)}"
            ) from None
        try:
            compare_values(f"{name}(x)", got, want, params.get("rtol"), params.get("atol"))
        except CheckFailed as failed:
            text = message or failed.message
            raise CheckFailed(
                f"{text}\nSmallest failing input (seed {seed}), ready to paste:\n{shown}",
                value_failure=failed.value_failure,
            ) from None
