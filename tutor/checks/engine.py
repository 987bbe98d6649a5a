"""Running an exercise's checks in order and turning them into a verdict (inside the kernel child).

Order: the names in ``defines`` exist; then the declared checks, cheapest first as the lesson
lists them. Call rules (``banned``, ``required``) are judged after the value checks so calls made
inside the learner's functions while those ran count too; the first failure in declared order is
the one reported. Misconceptions are consulted only when a value check fails.
"""

from __future__ import annotations

import os
from typing import Any

from tutor.checks.architecture import check_architecture
from tutor.checks.calls import check_banned, check_no_loops, check_required
from tutor.checks.compare import check_shape, compare_values, dtype_name, fmt_shape
from tutor.checks.context import CheckFailed, CheckTimeout, Context, kind_of, with_article
from tutor.checks.device_proof import check_device_move
from tutor.checks.misconceptions import detect
from tutor.checks.property import check_property
from tutor.checks.spec import ADVICE, CALL_KINDS, KINDS, VALUE_KINDS
from tutor.checks.tips import tip_for
from tutor.checks.training_loop import check_training_loop
from tutor.execution.explain import explain_specific, returns_none
from tutor.execution.runner import bare_traceback, short_traceback


def _type_ok(value: Any, wanted: str) -> bool:
    import torch

    simple = {
        "Tensor": lambda v: isinstance(v, torch.Tensor),
        "Module": lambda v: isinstance(v, torch.nn.Module),
        "callable": callable,
        "float": lambda v: isinstance(v, float),
        "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "str": lambda v: isinstance(v, str),
        "path-exists": lambda v: isinstance(v, str | os.PathLike) and os.path.exists(v),
    }
    if wanted in simple:
        return bool(simple[wanted](value))
    module_name, _, class_name = wanted.rpartition(".")
    import importlib

    cls = getattr(importlib.import_module(module_name), class_name)
    return isinstance(value, cls)


TYPE_WORDS = {
    "Tensor": "a tensor",
    "Module": "an nn.Module",
    "callable": "a function (something callable)",
    "float": "a float",
    "int": "an int",
    "number": "a number",
    "str": "a string",
}


def check_type(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    name, wanted = params["name"], params["type"]
    value = ctx.learner_value(name)
    if _type_ok(value, wanted):
        return
    if wanted == "path-exists":
        raise CheckFailed(message or f"There is no file at `{name}` ({value!r}): save it there.")
    words = TYPE_WORDS.get(wanted, with_article(wanted))
    raise CheckFailed(message or f"`{name}` should be {words}, but it is {kind_of(value)}.")


def _tensor(ctx: Context, name: str) -> Any:
    import torch

    value = ctx.learner_value(name)
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"`{name}` should be a tensor, but it is {kind_of(value)}.")
    return value


def check_shape_kind(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    name = params["name"]
    got = _tensor(ctx, name)
    want = params.get("shape")
    want_shape = tuple(want) if want is not None else tuple(ctx.reference_value(name).shape)
    try:
        check_shape(name, got, want_shape)
    except CheckFailed as failed:
        outer = outer_product_cause(ctx.log, tuple(got.shape), want_shape)
        raise CheckFailed(message or outer or failed.message) from None


def outer_product_cause(log: Any, got: tuple[int, ...], want: tuple[int, ...]) -> str | None:
    """An (n, 1) @ (1, m) product made the wrong shape: the operands are in the wrong order."""
    for left, right in getattr(log, "outer_products", []):
        if (left[0], right[1]) == got and got != want:
            return (
                f"The result has shape {fmt_shape(got)} but should be {fmt_shape(want)}: "
                f"{fmt_shape(left)} @ {fmt_shape(right)} is an outer product (every entry times "
                "every entry), because the operands are in the wrong order. Swap them, so "
                "the inner sizes that meet are the long ones: (1, k) @ (k, 1) gives (1, 1)."
            )
    return None


def check_dtype(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    name = params["name"]
    got = _tensor(ctx, name)
    want = params.get("dtype") or dtype_name(ctx.reference_value(name).dtype)
    if dtype_name(got.dtype) != want:
        raise CheckFailed(
            message
            or f"`{name}` has dtype {dtype_name(got.dtype)} but should be {want}: "
            f"convert with .to(torch.{want}) or create it with dtype=torch.{want}."
        )


def _same_device(a: Any, b: Any) -> bool:
    # torch.device("cuda") means the current device, which is cuda:0 for a learner.
    return bool(a.type == b.type and (a.index or 0) == (b.index or 0))


def check_device(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    import torch

    name = params["name"]
    value = ctx.learner_value(name)
    if "device_of" in params:
        want = torch.device(ctx.learner_value(params["device_of"]))
    else:
        want = torch.device(params.get("device", "cpu"))
    if isinstance(value, torch.nn.Module):
        for pname, p in list(value.named_parameters()) + list(value.named_buffers()):
            if not _same_device(p.device, want):
                raise CheckFailed(
                    message
                    or f"`{name}`'s {pname} is on {p.device} but should be on {want}: "
                    f"move the whole model with {name}.to({want.type!r})."
                )
        return
    if not isinstance(value, torch.Tensor):
        raise CheckFailed(f"`{name}` should be a tensor or module, but it is {kind_of(value)}.")
    if not _same_device(value.device, want):
        raise CheckFailed(
            message
            or f"`{name}` is on {value.device} but should be on {want}: "
            f"move it with {name}.to(device)."
        )


def check_close(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    expr = params.get("expr")
    if expr:
        label = expr
        try:
            got = ctx.eval_learner(expr)
        except CheckTimeout:
            raise CheckFailed(f"`{expr}` did not finish within {ctx.timeout:g} s.") from None
        except Exception as exc:
            raise CheckFailed(
                f"Evaluating `{expr}` with your code failed:\n"
                f"{short_traceback(exc, ctx.learner, ctx.code)}"
            ) from None
        want = ctx.eval_reference(expr)
    else:
        label = params["name"]
        got, want = ctx.learner_value(label), ctx.reference_value(label)
    try:
        compare_values(label, got, want, params.get("rtol"), params.get("atol"))
    except CheckFailed as failed:
        if message and failed.value_failure:
            text = f"{message}\n{failed.picture}" if failed.picture else message
            raise CheckFailed(text, value_failure=True) from None
        raise


def check_expr(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    try:
        ok = ctx.eval_learner(params["expr"])
    except CheckTimeout:
        raise CheckFailed(
            f"{message} (the check did not finish within {ctx.timeout:g} s)"
        ) from None
    except Exception as exc:
        detail = bare_traceback(exc).splitlines()[-1]
        why = explain_specific(exc, ctx.learner, ctx.code)
        text = f"{message} ({detail})" + (f"\n{why}" if why else "")
        raise CheckFailed(text, value_failure=True) from None
    if not ok:
        text = message or f"`{params['expr']}` is false."
        silent = returns_none(ctx.code, params["expr"])
        raise CheckFailed(f"{silent} {text}" if silent else text, value_failure=True)


CHECKS = {
    "type": check_type,
    "shape": check_shape_kind,
    "dtype": check_dtype,
    "device": check_device,
    "close": check_close,
    "expr": check_expr,
    "property": check_property,
    "banned": check_banned,
    "required": check_required,
    "no-loops": check_no_loops,
    "architecture": check_architecture,
    "device-move": check_device_move,
    "training-loop": check_training_loop,
}


def _run_one(ctx: Context, check: dict[str, Any]) -> CheckFailed | None:
    kind = check["kind"]
    if kind not in KINDS:
        return CheckFailed(
            f"This step declares an unknown check kind {kind!r}: report this lesson."
        )
    params = {k: v for k, v in check.get("params", {}).items() if k != ADVICE}
    try:
        CHECKS[kind](ctx, params, check.get("message"))
    except CheckFailed as failed:
        return failed
    except CheckTimeout:
        return CheckFailed(f"A {kind} check of your code did not finish within {ctx.timeout:g} s.")
    except Exception as exc:  # a check that cannot run on this answer fails it, with the reason
        return CheckFailed(
            f"Checking your answer ({kind}) failed: {short_traceback(exc, ctx.learner, ctx.code)}"
        )
    return None


def _advice(ctx: Context, checks: list[dict[str, Any]]) -> str | None:
    """The first advice check that fails, as a tip: the answer works, a better way exists."""
    for check in checks:
        failed = _run_one(ctx, check)
        if failed is not None:
            return f"Tip: {failed.message}"
    return None


def run_checks(ctx: Context) -> dict[str, Any]:
    """The verdict: ``{"passed": bool, "messages": [...]}``; the first failure comes first."""
    for name in ctx.step.get("defines", []):
        if name not in ctx.learner:
            return {
                "passed": False,
                "messages": [f"`{name}` is not defined: your code must create `{name}`."],
            }
    every = list(ctx.step.get("checks", []))
    checks = [c for c in every if not c.get("params", {}).get(ADVICE)]
    failure: tuple[int, CheckFailed] | None = None
    for index, check in enumerate(checks):
        if check["kind"] in CALL_KINDS or check["kind"] == "misconception":
            continue
        failed = _run_one(ctx, check)
        if failed is not None:
            failure = (index, failed)
            break
    for index, check in enumerate(checks):
        if check["kind"] not in CALL_KINDS or (failure and index > failure[0]):
            continue
        failed = _run_one(ctx, check)
        if failed is not None:
            failure = (index, failed)
            break
    if failure is None:
        tip = _advice(ctx, [c for c in every if c.get("params", {}).get(ADVICE)])
        tip = tip or tip_for(ctx.code)
        return {"passed": True, "messages": ["All checks pass.", *([tip] if tip else [])]}
    index, failed = failure
    messages = [failed.message]
    kind = checks[index]["kind"]
    if kind in VALUE_KINDS or kind == "shape" or failed.value_failure:
        for check in checks:
            if check["kind"] != "misconception":
                continue
            found = detect(ctx, check.get("params", {}), check.get("message"))
            if found:
                # A wrong value is replaced by the explanation; a shape failure keeps both,
                # the cause first (a missing bias before the shape it changes).
                messages = [found] if failed.value_failure else [found, *messages]
                break
    return {"passed": False, "messages": messages}
