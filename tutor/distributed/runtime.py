"""What one rank of a data-parallel run does, around an ordinary training loop.

A trainer started by torchrun calls ``start_rank`` once (reads ``RANK`` / ``LOCAL_RANK`` /
``WORLD_SIZE``, starts the group with a timeout: gloo on the CPU, nccl on ``cuda:LOCAL_RANK``),
wraps its model with ``wrap_model``, takes its shard of the in-memory data each epoch with
``shard_indices`` (DistributedSampler itself, reshuffled per epoch), averages its epoch metrics
with ``average_metrics`` (one all-reduce of sums and counts, on every rank), and lets only rank 0
write (``RankContext.is_main``). ``unwrap`` gives the model inside DDP for checkpoints.
Without torchrun's variables everything degrades to a plain single-process run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tutor.distributed.env import (
    DEFAULT_TIMEOUT,
    DistributedError,
    RankInfo,
    init_group,
    rank_info,
)


@dataclass(frozen=True)
class RankContext:
    """This process's place in the run and the device it trains on."""

    info: RankInfo
    device: Any  # torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 writes the run folder, the checkpoints and the events; the others stay quiet."""
        return self.info.is_main

    @property
    def world_size(self) -> int:
        return self.info.world_size


def start_rank(
    device_type: str = "cpu",
    environ: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> RankContext:
    """Read torchrun's variables and, when there are several ranks, start the process group."""
    import torch

    info = rank_info(environ)
    if not info.distributed:
        device = torch.device("cuda", info.local_rank) if device_type == "cuda" else None
        return RankContext(info, device or torch.device(device_type))
    return RankContext(info, init_group(info, device_type, timeout))


def stop_rank() -> None:
    """Tear the group down at the end of a run (nothing to do for a single process)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: Any, context: RankContext) -> Any:
    """The model on this rank's device, wrapped in DDP when there are several ranks."""
    model.to(context.device)
    if not context.info.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if context.device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[context.device.index])
    return DistributedDataParallel(model)


def unwrap(model: Any) -> Any:
    """The plain model inside a DDP wrapper (what checkpoints hold), or the model itself."""
    from torch.nn.parallel import DistributedDataParallel

    return model.module if isinstance(model, DistributedDataParallel) else model


def shard_indices(
    size: int,
    info: RankInfo,
    epoch: int,
    seed: int = 0,
    shuffle: bool = True,
    drop_last: bool = False,
) -> list[int]:
    """The indices of ``size`` items this rank trains on in ``epoch``: DistributedSampler's own.

    Every rank gets the same number (a few indices repeat when ``size`` does not divide evenly,
    or the tail is dropped with ``drop_last``), so every rank runs the same number of steps and
    no collective waits for a rank that ran out of data.
    """
    from torch.utils.data import DistributedSampler

    sampler: DistributedSampler[int] = DistributedSampler(
        range(size),  # type: ignore[arg-type]  # only its length matters
        num_replicas=info.world_size,
        rank=info.rank,
        shuffle=shuffle,
        seed=seed,
        drop_last=drop_last,
    )
    sampler.set_epoch(epoch)
    return list(sampler)


def average_metrics(
    sums: Mapping[str, float], count: float, context: RankContext
) -> dict[str, float]:
    """Means over every rank's examples: ``sums`` are this rank's totals over ``count`` examples.

    One all-reduce of ``[*sums, count]`` in float64 on this rank's device (nccl needs CUDA
    tensors); every rank must call it, and every rank gets the same answer.
    """
    names = list(sums)
    if not context.info.distributed:
        return {name: sums[name] / count if count else 0.0 for name in names}
    import torch
    import torch.distributed as dist

    totals = torch.tensor(
        [float(sums[name]) for name in names] + [float(count)],
        dtype=torch.float64,
        device=context.device,
    )
    dist.all_reduce(totals)
    values = totals.tolist()
    total_count = values[-1]
    return {name: values[i] / total_count if total_count else 0.0 for i, name in enumerate(names)}


def file_from_main(path: Path, context: RankContext) -> bytes | None:
    """The bytes of rank 0's ``path`` on every rank (None when rank 0 has no such file).

    A run on several machines keeps its checkpoint on node 0 only; a resume reads it there and
    hands it to every rank (one ``broadcast_object_list``), so the others need no copy. Every
    rank must call it; a file rank 0 cannot read raises ``DistributedError`` on every rank.
    """
    if not context.info.distributed:
        return path.read_bytes() if path.is_file() else None
    import torch.distributed as dist

    payload: tuple[str, Any] | None = None
    if context.is_main:
        try:
            payload = ("bytes", path.read_bytes() if path.is_file() else None)
        except OSError as exc:
            payload = ("error", f"{path} cannot be read on node 0 ({exc.strerror or exc}).")
    box = [payload]
    # nccl sends objects through this rank's GPU; gloo through the CPU.
    device = context.device if context.device.type == "cuda" else None
    dist.broadcast_object_list(box, src=0, device=device)
    received = box[0]
    if received is None or received[0] == "error":
        raise DistributedError(received[1] if received else "Rank 0 sent nothing.")
    return received[1]  # type: ignore[no-any-return]


def barrier(context: RankContext) -> None:
    """Wait until every rank gets here (e.g. until rank 0 has written a checkpoint)."""
    if context.info.distributed:
        import torch.distributed as dist

        if context.device.type == "cuda":
            dist.barrier(device_ids=[context.device.index])
        else:
            dist.barrier()
