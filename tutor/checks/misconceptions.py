"""Misconception detectors: recognise a typical wrong answer and explain that mistake.

A detector never fails an answer by itself. When a later value check fails, the engine asks the
step's detectors; the first that matches puts its message in place of the generic "wrong value"
(or, after a shape failure, beside it). A detector that errors simply does not match.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tutor.checks.context import Context

DEFAULT_MESSAGES = {
    "transposed": (
        "`{name}` holds the right numbers, transposed: the operands of the product are in the "
        "wrong order or one of them needs .T (an (a, b) @ (b, c) product gives (a, c))."
    ),
    "softmax-wrong-dim": (
        "Your softmax normalises over the wrong dimension: each row holds one sample's scores, "
        "so sum over dim=1 (with keepdim=True) and each row will add up to 1."
    ),
    "softmax-whole": (
        "Your softmax divides by the sum over the whole tensor: each row must add up to 1 on "
        "its own, so sum with dim=1, keepdim=True."
    ),
    "softmax-keepdim": (
        "Your softmax divides by torch.sum(..., dim=1) without keepdim=True: the (N,) row sums "
        "broadcast along the wrong axis, so entries are divided by another row's sum. Keep the "
        "dimension so the sums have shape (N, 1)."
    ),
    "broadcast-nn": (
        "Comparing an (N, 1) tensor with an (N,) tensor broadcasts to (N, N), so every prediction "
        "is compared with every label: give both the same shape first, e.g. "
        "top_class == labels.view(*top_class.shape)."
    ),
    "missing-zero-grad": (
        "Gradients add up across steps because they are never cleared: call "
        "optimizer.zero_grad() before loss.backward() in every step."
    ),
    "missing-zero-grad-multiple": (
        "`{name}.grad` is a multiple of the right gradient: backward() ran more than once and "
        "the gradients added up. Zero them (or run backward once) before reading .grad."
    ),
    "missing-bias": "`{name}` matches the answer without the bias: add the bias before the activation.",
    "missing-activation": (
        "`{name}` matches the answer before the activation: pass the result through the "
        "activation function."
    ),
    "expr": "This answer shows a typical misconception.",
}


def _close(a: Any, b: Any, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    import torch

    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
        try:
            return bool(abs(float(a) - float(b)) <= atol + rtol * abs(float(b)))
        except (TypeError, ValueError, RuntimeError):
            return False
    if a.shape != b.shape:
        return False
    return bool(torch.allclose(a.detach().cpu().double(), b.detach().cpu().double(), rtol, atol))


def _name(ctx: Context, params: dict[str, Any]) -> str:
    defines = ctx.step.get("defines") or [""]
    return str(params.get("name") or defines[0])


def transposed(ctx: Context, params: dict[str, Any]) -> str | None:
    import torch

    name = _name(ctx, params)
    got, want = ctx.learner.get(name), ctx.reference.get(name)
    if not (isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor)) or want.dim() < 2:
        return None
    flipped = want.transpose(-2, -1)
    if _close(got, flipped) and not _close(got, want):
        return "transposed"
    return None


def softmax_wrong_dim(ctx: Context, params: dict[str, Any]) -> str | None:
    import torch

    dim = int(params.get("dim", 1))
    pairs: list[tuple[Any, Any]] = []
    function = params.get("function")
    if function:
        fn = ctx.learner.get(function)
        if not callable(fn):
            return None
        for shape in ((3, 4), (4, 4)):
            x = torch.randn(*shape, generator=torch.Generator().manual_seed(11))

            def call(x: Any = x) -> Any:
                return fn(x.clone())

            try:
                pairs.append((x, ctx.call_learner(call)))
            except Exception:  # e.g. a broadcast error on the non-square input
                continue
    else:
        name = _name(ctx, params)
        inputs = params.get("inputs")
        if not inputs or name not in ctx.learner:
            return None
        pairs.append((ctx.eval_learner(inputs), ctx.learner[name]))
    for x, out in pairs:
        if not isinstance(out, torch.Tensor) or x.dim() < 2:
            continue
        e = torch.exp(x)
        if out.shape == x.shape:
            for other in range(x.dim()):
                if other != dim % x.dim() and _close(out, torch.softmax(x, dim=other)):
                    return "softmax-wrong-dim"
            if _close(out, e / e.sum()):
                return "softmax-whole"
        if x.dim() == 2:
            try:
                broadcast = e / e.sum(dim=dim)
            except RuntimeError:
                continue
            if _close(out, broadcast):
                return "softmax-keepdim"
    return None


def broadcast_nn(ctx: Context, params: dict[str, Any]) -> str | None:
    import torch

    if ctx.log.square_broadcasts:
        return "broadcast-nn"
    name = str(params.get("name", "accuracy"))
    scores = ctx.reference.get(str(params.get("scores", "ps")))
    labels = ctx.reference.get(str(params.get("labels", "labels")))
    got = ctx.learner.get(name)
    if not isinstance(scores, torch.Tensor) or not isinstance(labels, torch.Tensor) or got is None:
        return None
    top = scores.topk(1, dim=1).indices
    wrong = (top == labels).float().mean()
    return "broadcast-nn" if _close(got, wrong) else None


def missing_zero_grad(ctx: Context, params: dict[str, Any]) -> str | None:
    import torch

    name = params.get("name")
    if name:
        got, want = ctx.learner.get(name), ctx.reference.get(name)
        if not (isinstance(got, torch.Tensor) and isinstance(want, torch.Tensor)):
            return None
        if got.grad is None or want.grad is None:
            return None
        for k in (2, 3, 4):
            if _close(got.grad, want.grad * k):
                return "missing-zero-grad-multiple"
        return None
    log = ctx.log
    if log.optimizer_steps >= 2 and log.zero_grads < log.optimizer_steps - 1:
        return "missing-zero-grad"
    return None


def _value_without(ctx: Context, params: dict[str, Any]) -> tuple[Any, Any] | None:
    name = _name(ctx, params)
    if name not in ctx.learner or name not in ctx.reference:
        return None
    return ctx.learner[name], ctx.reference[name]


def missing_bias(ctx: Context, params: dict[str, Any]) -> str | None:
    import torch

    pair = _value_without(ctx, params)
    if pair is None:
        return None
    got, want = pair
    if params.get("expr"):
        return "missing-bias" if _close(got, ctx.eval_reference(params["expr"])) else None
    bias = ctx.reference.get(str(params.get("bias", "bias")))
    if not isinstance(bias, torch.Tensor) or not isinstance(got, torch.Tensor):
        return None
    if bool(((got > 0) & (got < 1)).all()) and bool(((want > 0) & (want < 1)).all()):
        # Undo a sigmoid: logit(answer) - logit(learner's) is the bias when only the bias is missing.
        delta = torch.logit(want.double()) - torch.logit(got.double())
    else:
        delta = want.double() - got.double()
    try:
        return "missing-bias" if _close(delta, bias.double().expand_as(delta)) else None
    except RuntimeError:
        return None


def missing_activation(ctx: Context, params: dict[str, Any]) -> str | None:
    import torch

    pair = _value_without(ctx, params)
    if pair is None:
        return None
    got, want = pair
    if params.get("expr"):
        return "missing-activation" if _close(got, ctx.eval_reference(params["expr"])) else None
    activation = ctx.reference.get(str(params.get("activation", "activation")), torch.sigmoid)
    if not callable(activation) or not isinstance(got, torch.Tensor):
        return None
    return "missing-activation" if _close(activation(got), want) and not _close(got, want) else None


def custom_expr(ctx: Context, params: dict[str, Any]) -> str | None:
    return "expr" if params.get("expr") and ctx.eval_learner(params["expr"]) else None


DETECTORS: dict[str, Callable[[Context, dict[str, Any]], str | None]] = {
    "transposed": transposed,
    "softmax-wrong-dim": softmax_wrong_dim,
    "broadcast-nn": broadcast_nn,
    "missing-zero-grad": missing_zero_grad,
    "missing-bias": missing_bias,
    "missing-activation": missing_activation,
    "expr": custom_expr,
}


def detect(ctx: Context, params: dict[str, Any], message: str | None) -> str | None:
    """The message of this misconception when the learner's answer shows it, else None."""
    detector = DETECTORS.get(str(params.get("detector")))
    if detector is None:
        return None
    try:
        variant = detector(ctx, params)
    except BaseException:  # a detector that cannot decide does not match
        return None
    if variant is None:
        return None
    if message:
        return message
    return DEFAULT_MESSAGES[variant].format(name=_name(ctx, params))
