"""``python -m tutor.distributed.selfcheck_process OUT [--device cpu|cuda] [--batch N] [--epochs N] ...``.

A small data-parallel training run, meant to be started by torchrun, that proves the pieces of
``runtime`` work together on this machine: each rank trains a linear classifier on its shard of
a fixed synthetic set, metrics are averaged across ranks, and rank 0 alone writes ``main.json``.
Every rank writes ``rank<R>.json`` (its shard of epoch 0, its final weights, the metrics it got),
so a test or ``scripts/gpu-check.sh`` can compare ranks with each other and with one process
running the same global batch. ``--features``, ``--hidden`` and ``--size`` make the model and the
set larger for ``benchmarks/ddp_throughput.py``, which reads the samples per second each rank
reports.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tutor.atomic import atomic_write_text
from tutor.distributed.runtime import (
    average_metrics,
    barrier,
    shard_indices,
    start_rank,
    stop_rank,
    unwrap,
    wrap_model,
)

SIZE = 256  # examples in the synthetic set (default)
FEATURES = 8


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.distributed.selfcheck_process")
    parser.add_argument("out", help="folder for rank<R>.json and main.json")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=16, help="examples per rank per step")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--size", type=int, default=SIZE, help="examples in the set")
    parser.add_argument("--features", type=int, default=FEATURES, help="inputs per example")
    parser.add_argument("--hidden", type=int, default=0, help="a hidden layer of this width")
    args = parser.parse_args(argv)
    size = args.size

    import torch

    torch.set_num_threads(1)
    context = start_rank(args.device, timeout=60.0)
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(size, args.features, generator=generator)
    labels = (inputs.sum(dim=1) > 0).long()
    torch.manual_seed(0)  # the same start on every rank (DDP would broadcast rank 0's anyway)
    if args.hidden:
        layers = [torch.nn.Linear(args.features, args.hidden), torch.nn.ReLU()]
        net = torch.nn.Sequential(*layers, torch.nn.Linear(args.hidden, 2))
    else:
        net = torch.nn.Sequential(torch.nn.Linear(args.features, 2))
    model = wrap_model(net, context)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    criterion = torch.nn.CrossEntropyLoss()
    first_shard: list[int] = []
    metrics: dict[str, float] = {}
    seen = 0
    began = time.perf_counter()
    for epoch in range(args.epochs):
        shard = shard_indices(size, context.info, epoch)
        seen += len(shard)
        first_shard = first_shard or shard
        loss_sum = correct = 0.0
        for start in range(0, len(shard), args.batch):
            index = torch.tensor(shard[start : start + args.batch])
            x, y = inputs[index].to(context.device), labels[index].to(context.device)
            optimizer.zero_grad()
            out = model(x)
            loss = criterion(out, y)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(index)
            correct += (out.argmax(dim=1) == y).sum().item()
        metrics = average_metrics({"loss": loss_sum, "accuracy": correct}, len(shard), context)
    seconds = time.perf_counter() - began
    params = list(unwrap(model).parameters())
    small = sum(p.numel() for p in params) <= 10_000  # larger models: no weights in the report
    weights = [p.detach().cpu().flatten().tolist() for p in params] if small else []
    out = Path(args.out)
    rank = context.info.rank
    report = {"rank": rank, "world_size": context.world_size, "shard": first_shard}
    report |= {"weights": weights, "metrics": metrics, "device": str(context.device)}
    report |= {"seconds": seconds, "samples_per_second": seen / seconds if seconds else 0.0}
    atomic_write_text(out / f"rank{rank}.json", json.dumps(report))
    if context.is_main:
        atomic_write_text(out / "main.json", json.dumps({"metrics": metrics}))
    barrier(context)
    stop_rank()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
