"""The ``training-loop`` check: a learner's training loop, run again under watch and judged.

The answer runs a second time in a fresh namespace made by the step's setup, with the tutor's
own instruments on the given objects: a gradient hook on the model's first parameter notices a
new gradient landing on an old one (``zero_grad`` missing), the criterion's forward is watched
(``criterion(...)`` and ``criterion.forward(...)`` alike) to note every batch loss, and the call
recorder counts optimizer steps and ``zero_grad`` calls. The verdict, in order:

1. ``losses`` holds one number per epoch;
2. no loss kept as a tensor with its autograd graph (``running_loss += loss``): use ``.item()``;
3. gradients never piled up between steps;
4. the loss fell;
5. each entry is the epoch's mean batch loss.
"""

from __future__ import annotations

from typing import Any

from tutor.checks.context import CheckFailed, Context, deadline, seed_all
from tutor.checks.watch import watch_forward
from tutor.execution.recorder import CallLog, Recorder

KEPT_GRAPH = (
    "`{name}` is a tensor that still carries the autograd graph of every batch it added up "
    "(`{name} += loss`): add `loss.item()`, a plain float, instead. Kept tensors hold every "
    "batch's graph in memory and make `losses` a list of tensors."
)


def _kept_graph(namespace: dict[str, Any], losses: Any) -> str | None:
    """The name of a variable holding an accumulated loss tensor with its graph, if any."""
    import torch

    def graphed(value: Any) -> bool:
        return isinstance(value, torch.Tensor) and value.grad_fn is not None

    for name, value in namespace.items():
        if name.startswith("_"):
            continue
        if (
            graphed(value)
            and value.numel() == 1
            and type(value.grad_fn).__name__
            in (
                "AddBackward0",
                "DivBackward0",
                "AddBackward1",
            )
        ):
            return name
    if isinstance(losses, list) and any(graphed(v) for v in losses):
        return "losses"
    return None


def check_training_loop(ctx: Context, params: dict[str, Any], message: str | None) -> None:
    import torch

    from tutor.execution.runner import run_cell

    names = {
        key: str(params.get(key, key))
        for key in ("losses", "model", "criterion", "optimizer", "epochs")
    }
    loader_name = str(params.get("loader", "trainloader"))
    min_drop = float(params.get("min_drop", 0.9))
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    quiet: Any = lambda _m: None  # noqa: E731 - the rerun's prints are not shown
    setup = run_cell(ctx.step.get("setup", ""), "<setup>", namespace, quiet)
    if setup["status"] != "ok":
        raise CheckFailed(f"The step's setup fails, so it cannot be checked: {setup['error']}")
    model, criterion = namespace[names["model"]], namespace[names["criterion"]]
    first = next(p for p in model.parameters() if p.requires_grad)
    incoming: list[Any] = []
    stale: list[bool] = []
    batch_losses: list[float] = []
    first.register_hook(lambda grad: incoming.__setitem__(slice(None), [grad.detach().clone()]))
    first.register_post_accumulate_grad_hook(
        lambda p: stale.append(not torch.equal(p.grad, incoming[0]))
    )

    def note_loss(_module: Any, _args: tuple[Any, ...], loss: Any) -> None:
        batch_losses.append(float(loss.detach()))

    watch_forward(criterion, after=note_loss)
    log = CallLog()
    seed_all()
    with Recorder(log, direct_forwards=".forward(" in ctx.code), deadline(ctx.timeout * 2):
        result = run_cell(ctx.code, "<answer>", namespace, quiet)
    if result["status"] != "ok":
        raise CheckFailed(f"Your loop failed when the tutor ran it again:\n{result['error']}")
    _judge(namespace, names, loader_name, min_drop, stale, batch_losses, log)


def _judge(
    namespace: dict[str, Any],
    names: dict[str, str],
    loader_name: str,
    min_drop: float,
    stale: list[bool],
    batch_losses: list[float],
    log: CallLog,
) -> None:
    import torch

    losses, epochs = namespace.get(names["losses"]), int(namespace[names["epochs"]])
    batches = len(namespace[loader_name])
    if not isinstance(losses, list) or len(losses) != epochs:
        raise CheckFailed(
            f"`{names['losses']}` should hold one number per epoch ({epochs}): append the "
            "epoch's mean loss once, after the loop over the batches."
        )
    kept = _kept_graph(namespace, losses)
    if kept:
        raise CheckFailed(KEPT_GRAPH.format(name=kept if kept != "losses" else "running_loss"))
    if not all(torch.as_tensor(v).numel() == 1 for v in losses):
        raise CheckFailed("Each entry of `losses` should be one number: the epoch's mean loss.")
    if any(stale):
        if log.optimizer_steps >= 2 and log.zero_grads < log.optimizer_steps - 1:
            raise CheckFailed(
                "Gradients add up across steps because they are never cleared: call "
                "optimizer.zero_grad() before loss.backward() in every step."
            )
        raise CheckFailed(
            "Gradients piled up from one step to the next: call `optimizer.zero_grad()` in "
            "every step, before `loss.backward()`."
        )
    if not float(losses[-1]) < min_drop * float(losses[0]):
        raise CheckFailed(
            "The loss did not fall: every step needs `loss.backward()` and then "
            "`optimizer.step()`, with `zero_grad()` before the backward pass, not between it "
            "and the step."
        )
    if len(batch_losses) != epochs * batches:
        raise CheckFailed(
            f"The criterion ran {len(batch_losses)} times, but {epochs} epochs of {batches} "
            "batches need one loss per batch."
        )
    for epoch in range(epochs):
        mean = sum(batch_losses[epoch * batches : (epoch + 1) * batches]) / batches
        if abs(float(losses[epoch]) - mean) > 1e-4 * max(1.0, abs(mean)):
            raise CheckFailed(
                f"`{names['losses']}` should hold each epoch's mean batch loss: add up "
                f"`loss.item()` over the batches and divide by `len({loader_name})` "
                f"(epoch {epoch + 1}: {float(losses[epoch]):.4g}, mean {mean:.4g})."
            )
