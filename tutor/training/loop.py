"""One epoch of training and one evaluation: the two functions every model's training is made of.

They read like PyTorch's own MNIST example: ``train_epoch`` takes shuffled batches (zero the
gradients, forward, loss, backward, step), ``evaluate`` measures the loss and accuracy on a held-out
split in eval mode without gradients. ``LossLog`` keeps the per-step losses on the device and reads
them back to the host once per log interval, turning them into ``Step`` events and checking them
for NaN. torch is imported inside functions: only run processes call these.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from tutor.training.checkpoint import Position
from tutor.training.events import EventSink, Step

if TYPE_CHECKING:
    import torch
    from torch import nn

EVAL_BATCH = 1000


class StopFlag(Protocol):
    """What the loop asks whether to stop: a ``threading.Event``, or one every rank agrees on."""

    def is_set(self) -> bool: ...


class TrainingFailed(Exception):
    """The run cannot go on (NaN loss, no data, bad checkpoint); the message is one sentence."""


class StopRequested(Exception):
    """A stop came before training began (loading data, pretraining a base); nothing to save."""


class LossLog:
    """Per-step losses kept on the device; every ``size`` steps one host read and a Step event.

    It also counts the run's steps (``position.step``) and adds the logged losses to the epoch's sum,
    so the epoch's mean training loss covers every step.
    """

    def __init__(
        self,
        size: int,
        device: torch.device,
        position: Position,
        steps_per_epoch: int,
        batch_size: int,
        lr: float,
        sink: EventSink,
        began: float,
        reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        import torch

        self.window = torch.zeros(size, device=device)
        self.size = size
        self.fill = 0
        self.clock = time.perf_counter()
        self.position = position
        self.steps_per_epoch = steps_per_epoch
        self.batch_size = batch_size
        self.lr = lr
        self.sink = sink
        self.began = began
        # Several ranks: averages the window over every rank before it is read.
        self.reduce = reduce

    def add(self, loss: torch.Tensor) -> None:
        """Note one step's loss (no host sync until the window is full)."""
        self.window[self.fill] = loss.detach()
        self.fill += 1
        self.position.step += 1
        if self.fill == self.size:
            self.flush()

    def flush(self) -> None:
        """Read the window back, check it, add it to the epoch's loss and emit a Step event."""
        if self.fill == 0:
            return
        position = self.position
        window = self.window[: self.fill]
        losses = (self.reduce(window) if self.reduce is not None else window).tolist()
        for offset, value in enumerate(losses):
            if not math.isfinite(value):
                at = position.step - self.fill + offset + 1
                raise TrainingFailed(
                    f"The loss became {value} at step {at} (epoch {position.epoch}); lower the "
                    f"learning rate (it is {self.lr:g}) and start again."
                )
        now = time.perf_counter()
        position.epoch_loss_sum += sum(losses)
        position.epoch_loss_count += len(losses)
        self.sink.emit(
            Step(
                epoch=position.epoch,
                step=position.step,
                epoch_step=position.step - (position.epoch - 1) * self.steps_per_epoch,
                steps_per_epoch=self.steps_per_epoch,
                train_loss=sum(losses) / len(losses),
                losses=[round(v, 5) for v in losses],
                samples_per_s=self.fill * self.batch_size / max(now - self.clock, 1e-9),
                time=now - self.began,
            )
        )
        self.fill, self.clock = 0, now


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    criterion: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    order: torch.Tensor,
    batch_size: int,
    device: torch.device,
    stop: threading.Event | StopFlag,
    first_batch: int = 0,
    log: LossLog | None = None,
    after_step: Callable[[], None] | None = None,
) -> int:
    """Train on the batches of ``order`` from ``first_batch`` on; return how many batches are done.

    Returns early, after the step in progress, when ``stop`` is set: then fewer than all batches.
    The caller puts the model in train mode (a frozen base stays in eval mode).
    """
    batches = math.ceil(len(order) / batch_size)
    for index in range(first_batch, batches):
        batch = order[index * batch_size : (index + 1) * batch_size]
        x = images[batch].to(device, non_blocking=True)
        y = labels[batch].to(device, non_blocking=True)

        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()

        if log is not None:
            log.add(loss)
        if after_step is not None:
            after_step()
        if stop.is_set():
            return index + 1
    return batches


def evaluate(
    model: nn.Module, criterion: nn.Module, images: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    """Mean loss and accuracy over a split, in eval mode without gradients; one host sync."""
    import torch

    model.eval()
    loss_sum = torch.zeros((), device=images.device)
    correct = torch.zeros((), device=images.device, dtype=torch.int64)
    with torch.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            x = images[start : start + EVAL_BATCH]
            y = labels[start : start + EVAL_BATCH]
            log_ps = model(x)
            loss_sum += criterion(log_ps, y) * len(x)
            correct += (log_ps.argmax(dim=1) == y).sum()
    model.train()
    n = max(1, len(images))
    return loss_sum.item() / n, correct.item() / n
