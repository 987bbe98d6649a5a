"""The ``architecture`` check: does the learner's model compute what the prompt prescribes?

One forward pass of the learner's model and one of the reference model run on the same batch
while a ``TorchFunctionMode`` and global module hooks record what ran: leaf modules (``Linear``,
``Conv2d``, ``ReLU``, ``Dropout``, ``Softmax`` ...) and the functional ops outside them
(``F.relu``, ``torch.relu``, ``x.relu()``, ``F.log_softmax``, ``F.dropout``, ``F.linear`` ...).
Both become the same words, so spelling does not matter; reshapes (``view``, ``reshape``,
``flatten``, ``nn.Flatten``) are left out. The two lists are compared in order and the first
difference is named: "layer 3 is Linear(128, 64); the prompt asks for Linear(128, 10)". Every
input the prompt promises (``inputs``) is fed, so a model that never flattens fails on images.
"""

from __future__ import annotations

from typing import Any

from tutor.checks.context import CheckFailed, CheckTimeout, Context, helpers, kind_of
from tutor.execution.runner import short_traceback

# Functional ops (their ``__name__``) and the layer they stand for.
ACTIVATIONS = {
    "relu": "ReLU",
    "relu_": "ReLU",
    "sigmoid": "Sigmoid",
    "sigmoid_": "Sigmoid",
    "tanh": "Tanh",
    "tanh_": "Tanh",
    "leaky_relu": "LeakyReLU",
    "gelu": "GELU",
    "elu": "ELU",
}
SOFTMAXES = {"softmax": "Softmax", "log_softmax": "LogSoftmax"}
# Modules that only reshape or pass through: not part of what the model computes.
IGNORED_MODULES = {"Flatten", "Unflatten", "Identity"}


def _softmax_dim(dim: Any, ndim: int) -> int:
    if dim is None:  # the legacy implicit choice
        dim = 0 if ndim in (0, 1, 3) else 1
    return int(dim) % max(ndim, 1)


def _arg(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else None


def describe_op(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    """The layer a functional call stands for, or None for ops that are not layers."""
    import torch

    name = getattr(func, "__name__", "")
    first = args[0] if args else None
    if name in ACTIVATIONS:
        return ACTIVATIONS[name]
    if name in SOFTMAXES and isinstance(first, torch.Tensor):
        dim = _arg(args, kwargs, 1, "dim")
        return f"{SOFTMAXES[name]}(dim={_softmax_dim(dim, first.dim())})"
    if name in ("dropout", "dropout_"):
        p = _arg(args, kwargs, 1, "p")
        return f"Dropout(p={0.5 if p is None else float(p):g})"
    if name == "linear":
        weight = _arg(args, kwargs, 1, "weight")
        bias = _arg(args, kwargs, 2, "bias")
        if isinstance(weight, torch.Tensor) and weight.dim() == 2:
            out_f, in_f = weight.shape
            return f"Linear({in_f}, {out_f}" + (", bias=False)" if bias is None else ")")
    return None


def describe_module(module: Any, inputs: tuple[Any, ...]) -> str | None:
    """A leaf module in the words ``describe_op`` uses, or None for reshapes."""
    import torch
    from torch import nn

    kind = type(module).__name__
    if kind in IGNORED_MODULES:
        return None
    if isinstance(module, nn.Linear):
        bias = "" if module.bias is not None else ", bias=False"
        return f"Linear({module.in_features}, {module.out_features}{bias})"
    if isinstance(module, nn.Conv1d | nn.Conv2d | nn.Conv3d):
        size = module.kernel_size[0] if len(set(module.kernel_size)) == 1 else module.kernel_size
        return f"{kind}({module.in_channels}, {module.out_channels}, kernel_size={size})"
    if isinstance(module, nn.Dropout | nn.Dropout1d | nn.Dropout2d):
        return f"Dropout(p={module.p:g})"
    if isinstance(module, nn.Softmax | nn.LogSoftmax):
        first = inputs[0] if inputs else None
        ndim = first.dim() if isinstance(first, torch.Tensor) else 2
        return f"{kind}(dim={_softmax_dim(module.dim, ndim)})"
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        return f"{kind}({module.kernel_size})"
    if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
        return f"{kind}({module.num_features})"
    return kind


def trace(run: Any) -> list[str]:
    """The layers that ran while ``run()`` did, in order, in ``describe_*`` words."""
    from torch.nn.modules.module import (
        register_module_forward_hook,
        register_module_forward_pre_hook,
    )
    from torch.overrides import TorchFunctionMode

    layers: list[str] = []
    depth = [0]  # > 0 while a leaf module runs: its own inner ops are not layers

    class _Mode(TorchFunctionMode):
        """Notes functional layers called outside leaf modules."""

        def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
            kwargs = kwargs or {}
            if depth[0] == 0:
                described = describe_op(func, args, kwargs)
                if described:
                    layers.append(described)
            return func(*args, **kwargs)

    def leaf(module: Any) -> bool:
        return next(iter(module.children()), None) is None

    def before(module: Any, inputs: tuple[Any, ...]) -> None:
        if leaf(module):
            if depth[0] == 0:
                described = describe_module(module, inputs)
                if described:
                    layers.append(described)
            depth[0] += 1

    def after(module: Any, _inputs: Any, _output: Any) -> None:
        if leaf(module):
            depth[0] = max(depth[0] - 1, 0)

    handles = [register_module_forward_pre_hook(before), register_module_forward_hook(after)]
    try:
        with _Mode():
            run()
    finally:
        for handle in handles:
            handle.remove()
    return layers


def difference(got: list[str], want: list[str]) -> str | None:
    """The first difference between two layer lists, as a sentence; None when they agree."""
    import difflib

    if got == want:
        return None
    matcher = difflib.SequenceMatcher(a=got, b=want, autojunk=False)
    tag, i, _i2, j, _j2 = next(op for op in matcher.get_opcodes() if op[0] != "equal")
    if tag == "replace":
        return f"Layer {i + 1} is {got[i]}; the prompt asks for {want[j]}."
    if tag == "delete":
        if j >= len(want):
            return (
                f"Layer {i + 1}, {got[i]}, is one too many: the prompt's model ends with "
                f"{want[-1]}."
            )
        return f"Layer {i + 1}, {got[i]}, is extra: the prompt asks for {want[j]} there."
    if i >= len(got):
        after = f" after {got[-1]}" if got else ""
        return (
            f"The model stops{after}: layer {i + 1} should be {want[j]} "
            f"(the prompt's model is {', '.join(want)})."
        )
    return f"Layer {i + 1} is missing: the prompt asks for {want[j]} before {got[i]}."


def check_architecture(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    import torch

    name = str(params.get("name", "model"))
    inputs = params.get("inputs") or []
    try:
        learner_model = ctx.eval_learner(name)
    except CheckTimeout:
        raise
    except Exception as exc:
        raise CheckFailed(f"`{name}` could not be read:\n{short_traceback(exc)}") from None
    if not isinstance(learner_model, torch.nn.Module):
        raise CheckFailed(f"`{name}` should be an nn.Module (a model) to run it.")
    reference_model = ctx.eval_reference(name)
    for source in inputs:
        x = eval(compile(source, "<check>", "eval"), {**helpers(), "g": torch.Generator()})
        shape = tuple(x.shape)
        outputs: list[Any] = []
        with torch.no_grad():
            want = trace(lambda x=x, out=outputs: out.append(reference_model(x.clone())))
            try:
                got = trace(
                    lambda x=x, out=outputs: out.append(
                        ctx.call_learner(lambda: learner_model(x.clone()))
                    )
                )
            except CheckTimeout:
                raise
            except Exception as exc:
                raise CheckFailed(
                    f"`{name}` fails on a batch of shape {shape}, which the prompt promises "
                    f"to work:\n{short_traceback(exc, ctx.learner, ctx.code)}"
                ) from None
        found = difference(got, want)
        if found:
            lead = f"{message} " if message else ""
            raise CheckFailed(f"{lead}{found}")
        _check_output(name, shape, outputs[-1], outputs[0])


def _check_output(name: str, shape: tuple[int, ...], got: Any, want: Any) -> None:
    import torch

    if got is None:
        raise CheckFailed(
            f"`{name}(x)` returned None for a batch of shape {shape}: `forward` has no `return` "
            "line, so the result never leaves it. End forward with `return x`."
        )
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(f"`{name}(x)` should return a tensor, but it returned {kind_of(got)}.")
    if isinstance(want, torch.Tensor) and tuple(got.shape) != tuple(want.shape):
        raise CheckFailed(
            f"`{name}(x)` returned shape {tuple(got.shape)} for a batch of shape {shape}, but "
            f"should return {tuple(want.shape)}."
        )
