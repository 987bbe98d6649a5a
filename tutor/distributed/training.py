"""What the trainer does differently on one rank of several: shards, agreed stops, averaged metrics.

``Ranks`` wraps a ``RankContext`` for the trainer's loop. Each epoch's order is this rank's shard
(``shard_indices``: DistributedSampler's own indices, reshuffled per epoch); a stop counts only
when every rank agrees on it at the same step (one all-reduce of a flag), so no rank leaves a
collective the others are waiting in; the logged losses and the evaluation are averaged over
every rank. The single-process trainer never builds one: its loop is untouched.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING, Any

from tutor.distributed.runtime import RankContext, average_metrics, barrier, shard_indices, unwrap

if TYPE_CHECKING:
    import torch
    from torch import nn

EVAL_BATCH = 1000


class AgreedStop:
    """A stop flag every rank reads at the same step: set on one rank, set on all (MAX all-reduce).

    The loop asks after every step; the ranks compare flags every ``every``-th question (the
    same questions on every rank, so they always compare together), which keeps one more
    collective per step off the training. ``agree`` compares at once (the end of an epoch).
    """

    def __init__(self, local: threading.Event, context: RankContext, every: int = 8) -> None:
        self.local = local
        self.context = context
        self.every = every
        self.asked = 0

    def is_set(self) -> bool:
        self.asked += 1
        if self.asked % self.every:
            return False
        return self.agree()

    def agree(self) -> bool:
        import torch
        import torch.distributed as dist

        flag = torch.tensor([1 if self.local.is_set() else 0], device=self.context.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item())

    def set(self) -> None:
        self.local.set()


class NullSink:
    """The events of a rank other than 0: rank 0 alone writes the run's metrics."""

    def emit(self, event: Any) -> None:
        pass

    def truncate_after(self, step: int, next_epoch: int) -> None:
        pass


class Ranks:
    """The trainer's view of several ranks: shard sizes, orders, reductions, the main rank."""

    def __init__(self, context: RankContext) -> None:
        self.context = context

    @property
    def world_size(self) -> int:
        return self.context.world_size

    @property
    def is_main(self) -> bool:
        return self.context.is_main

    def shard_size(self, size: int) -> int:
        """Items per rank: every rank gets the same number (DistributedSampler pads)."""
        return math.ceil(size / self.world_size)

    def order(self, size: int, epoch: int, seed: int) -> torch.Tensor:
        """This rank's shuffled indices for ``epoch``."""
        import torch

        return torch.tensor(shard_indices(size, self.context.info, epoch, seed), dtype=torch.long)

    def mean_losses(self, losses: torch.Tensor) -> torch.Tensor:
        """The per-step losses averaged over every rank (every rank calls it at the same step)."""
        import torch.distributed as dist

        total = losses.detach().to(self.context.device, dtype=losses.dtype).clone()
        dist.all_reduce(total)
        return total / self.world_size

    def evaluate(
        self, model: nn.Module, criterion: nn.Module, images: torch.Tensor, labels: torch.Tensor
    ) -> tuple[float, float]:
        """Loss and accuracy over the whole split: each rank its shard, then one all-reduce."""
        import torch

        plain = unwrap(model)
        plain.eval()
        indices = torch.tensor(
            shard_indices(len(images), self.context.info, 0, shuffle=False), dtype=torch.long
        ).to(images.device)
        loss_sum = 0.0
        correct = 0.0
        with torch.no_grad():
            for start in range(0, len(indices), EVAL_BATCH):
                batch = indices[start : start + EVAL_BATCH]
                x, y = images[batch], labels[batch]
                log_ps = plain(x.to(self.context.device))
                y = y.to(self.context.device)
                loss_sum += float(criterion(log_ps, y)) * len(batch)
                correct += float((log_ps.argmax(dim=1) == y).sum())
        plain.train()
        means = average_metrics({"loss": loss_sum, "correct": correct}, len(indices), self.context)
        return means["loss"], means["correct"]

    def barrier(self) -> None:
        barrier(self.context)
