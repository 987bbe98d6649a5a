"""The ``device-move`` check: prove a model would be moved to the GPU, on a machine without one.

On a CPU-only machine, code that picks a device and never moves the model looks right: everything
is on the CPU already. This check runs the learner's answer a second time, in a fresh namespace
made by the step's setup, while ``torch.cuda.is_available()`` answers True and every ``.to(...)``
/ ``.cuda()`` of a module or tensor is recorded instead of performed. It then asks: did ``device``
become cuda, and was the model the setup gave moved there? Code that works on both kinds of
machine passes; the real run on this machine is judged by the other checks as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tutor.checks.context import CheckFailed, Context, deadline


@contextmanager
def cuda_reported(moves: list[tuple[int, str]]) -> Iterator[None]:
    """CUDA reported available; ``.to``/``.cuda`` note ``(id(obj), device type)`` in ``moves``.

    Moves to cuda return the object unchanged (no GPU is touched); other moves run as usual.
    """
    import torch

    def target_type(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        for value in (*args, kwargs.get("device")):
            if isinstance(value, str | torch.device):
                try:
                    return torch.device(value).type
                except RuntimeError:
                    continue
            if isinstance(value, torch.Tensor):
                return value.device.type
        return None

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, attr: str, replacement: Any) -> None:
        saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, replacement)

    module_to, tensor_to = torch.nn.Module.to, torch.Tensor.to

    def fake_module_to(self: Any, *args: Any, **kwargs: Any) -> Any:
        kind = target_type(args, kwargs)
        if kind is not None:
            moves.append((id(self), kind))
        return self if kind == "cuda" else module_to(self, *args, **kwargs)

    def fake_tensor_to(self: Any, *args: Any, **kwargs: Any) -> Any:
        kind = target_type(args, kwargs)
        if kind is not None:
            moves.append((id(self), kind))
        return self if kind == "cuda" else tensor_to(self, *args, **kwargs)

    def fake_cuda(self: Any, *args: Any, **kwargs: Any) -> Any:
        moves.append((id(self), "cuda"))
        return self

    patch(torch.cuda, "is_available", lambda: True)
    patch(torch.cuda, "device_count", lambda: 1)
    patch(torch.nn.Module, "to", fake_module_to)
    patch(torch.nn.Module, "cuda", fake_cuda)
    patch(torch.Tensor, "to", fake_tensor_to)
    patch(torch.Tensor, "cuda", fake_cuda)
    try:
        yield
    finally:
        for owner, attr, original in reversed(saved):
            setattr(owner, attr, original)


def check_device_move(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    import torch

    from tutor.execution.runner import run_cell

    model_name = str(params.get("model", "model"))
    device_name = str(params.get("device", "device"))
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    quiet: Any = lambda _m: None  # noqa: E731 - this rerun's prints are not shown
    setup = run_cell(ctx.step.get("setup", ""), "<setup>", namespace, quiet)
    if setup["status"] != "ok":
        return  # nothing to prove against; the lesson's own lint run reports a broken setup
    given = namespace.get(model_name)
    moves: list[tuple[int, str]] = []
    with cuda_reported(moves), deadline(ctx.timeout):
        result = run_cell(ctx.code, "<answer>", namespace, quiet)
    if result["status"] != "ok":
        return  # code that cannot run this way is judged by the real run only
    device = namespace.get(device_name)
    if isinstance(device, torch.device | str) and torch.device(device).type != "cuda":
        raise CheckFailed(
            message
            or f"On a machine with a GPU, `{device_name}` would still be {device}: choose it "
            "with torch.cuda.is_available(), not for this machine only."
        )
    targets = {id(given), id(namespace.get(model_name))}
    if not any(obj in targets and kind == "cuda" for obj, kind in moves):
        raise CheckFailed(
            message
            or f"On a machine with a GPU, `{model_name}` would stay on the CPU: your code never "
            f"moves it (call {model_name}.to({device_name})). Here everything is on the CPU "
            "already, so it only looks right."
        )
