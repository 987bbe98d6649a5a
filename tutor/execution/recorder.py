"""Recording what the learner's code calls, for the ``banned``/``required`` checks and detectors.

Runs only in the child. A ``TorchFunctionMode`` sees every torch function and Tensor method call;
a global module forward pre-hook sees ``nn.Softmax()(x)`` and friends, and a profile
function sees ``model.forward(x)`` called directly from learner code (hooks miss it); counters on
``zero_grad`` and a global optimizer step hook let the missing-zero-grad detector count steps.
Each call name is stored once with the learner's line where it first happened.
"""

from __future__ import annotations

import sys
from typing import Any

from tutor.execution.runner import LEARNER_FILES


def canonical_name(func: Any) -> str:
    """``torch.softmax``, ``Tensor.softmax``, ``torch.nn.functional.softmax`` for a torch callable."""
    name = getattr(func, "__name__", None) or type(func).__name__
    qualname = getattr(func, "__qualname__", "") or ""
    module = getattr(func, "__module__", None)
    if qualname.startswith(("TensorBase.", "Tensor.")):
        return f"Tensor.{name}"
    if qualname.startswith("_VariableFunctionsClass.") or module == "torch":
        return f"torch.{name}"
    if module:
        return f"{module}.{name}"
    return name


def learner_line() -> tuple[str, int] | None:
    """The innermost frame of the learner's own code on the current stack."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename in LEARNER_FILES:
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back  # type: ignore[assignment]
    return None


class CallLog:
    """Every distinct call name seen, with the first learner line, plus training-loop counters."""

    def __init__(self) -> None:
        self.calls: dict[str, tuple[str, int] | None] = {}
        self.zero_grads = 0
        self.optimizer_steps = 0
        self.backwards = 0
        self.square_broadcasts: list[tuple[int, ...]] = []
        # (n, 1) @ (1, m) products with n or m above 1: an outer product, usually swapped operands.
        self.outer_products: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        self.direct_forwards = 0  # model.forward(x) calls, which module hooks miss

    def note(self, name: str) -> None:
        if name not in self.calls:
            self.calls[name] = learner_line()

    def to_json(self) -> dict[str, Any]:
        return {
            "calls": {k: list(v) if v else None for k, v in self.calls.items()},
            "zero_grads": self.zero_grads,
            "optimizer_steps": self.optimizer_steps,
            "backwards": self.backwards,
        }


class Recorder:
    """A context manager that fills a ``CallLog`` while learner code runs (nesting is fine)."""

    def __init__(self, log: CallLog, *, direct_forwards: bool = True) -> None:
        self.log = log
        # The profile function that sees model.forward(x) costs time on every Python call; callers
        # that know the code has no ".forward(" turn it off.
        self.direct_forwards = direct_forwards
        self._mode: Any = None
        self._handles: list[Any] = []
        self._patched: list[tuple[Any, str, Any]] = []
        self._profile: Any = None

    def __enter__(self) -> CallLog:
        import torch
        from torch.overrides import TorchFunctionMode

        log = self.log
        comparisons = {"__eq__", "eq"}
        products = {"mm", "matmul", "__matmul__"}

        class _Mode(TorchFunctionMode):
            """Notes each torch function and checks comparisons for an (N, N) broadcast."""

            def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
                name = canonical_name(func)
                if name != "getset_descriptor.__get__":
                    log.note(name)
                if name == "Tensor.backward":
                    log.backwards += 1
                result = func(*args, **(kwargs or {}))
                if getattr(func, "__name__", "") in products and len(args) == 2:
                    a, b = args
                    if (
                        isinstance(a, torch.Tensor)
                        and isinstance(b, torch.Tensor)
                        and a.dim() == b.dim() == 2
                        and a.shape[1] == 1
                        and max(a.shape[0], b.shape[1]) > 1
                    ):
                        log.outer_products.append((tuple(a.shape), tuple(b.shape)))
                if getattr(func, "__name__", "") in comparisons and len(args) == 2:
                    a, b = args
                    if (
                        isinstance(a, torch.Tensor)
                        and isinstance(b, torch.Tensor)
                        and a.dim() != b.dim()
                        and isinstance(result, torch.Tensor)
                        and result.dim() == 2
                        and result.shape[0] == result.shape[1] > 1
                    ):
                        log.square_broadcasts.append(tuple(result.shape))
                return result

        self._mode = _Mode()
        self._mode.__enter__()

        def forward_hook(module: Any, _inputs: Any) -> None:
            cls = type(module)
            public = getattr(torch.nn, cls.__name__, None)
            log.note(
                f"torch.nn.{cls.__name__}" if public is cls else f"{cls.__module__}.{cls.__name__}"
            )

        def step_hook(_optimizer: Any, _args: Any, _kwargs: Any) -> None:
            log.optimizer_steps += 1
            log.note("Optimizer.step")

        def profile(frame: Any, event: str, _arg: Any) -> None:
            # model.forward(x) skips the forward hooks: note a forward called from learner code.
            if event != "call" or frame.f_code.co_name != "forward":
                return
            caller = frame.f_back
            if caller is None or caller.f_code.co_filename not in LEARNER_FILES:
                return
            module = frame.f_locals.get("self")
            if isinstance(module, torch.nn.Module):
                forward_hook(module, ())
                log.direct_forwards += 1

        self._profile = sys.getprofile()
        if self.direct_forwards:
            sys.setprofile(profile)

        from torch.nn.modules.module import register_module_forward_pre_hook
        from torch.optim.optimizer import register_optimizer_step_pre_hook

        self._handles = [
            register_module_forward_pre_hook(forward_hook),
            register_optimizer_step_pre_hook(step_hook),
        ]
        for owner, label in ((torch.optim.Optimizer, "Optimizer"), (torch.nn.Module, "Module")):
            original = owner.zero_grad

            def counted(
                self: Any, *args: Any, _original: Any = original, _label: str = label, **kwargs: Any
            ) -> Any:
                log.zero_grads += 1
                log.note(f"{_label}.zero_grad")
                return _original(self, *args, **kwargs)

            owner.zero_grad = counted  # type: ignore[method-assign]
            self._patched.append((owner, "zero_grad", original))
        return log

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(self._profile)
        for handle in self._handles:
            handle.remove()
        for owner, attr, original in self._patched:
            setattr(owner, attr, original)
        self._patched.clear()
        if self._mode is not None:
            self._mode.__exit__(None, None, None)
            self._mode = None
