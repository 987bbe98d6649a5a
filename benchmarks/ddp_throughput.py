"""Samples per second of data-parallel training on the CPU: 1 rank against 2 ranks, one run.

Both runs go through torchrun (``python -m torch.distributed.run --standalone``) with gloo and one
thread per rank, training the same MLP (784-256-2 by default, batch 64 per rank) on the same
synthetic set with ``tutor.distributed.selfcheck_process``. Prints samples/s for the whole run (all
ranks) and per rank, and the ratio 2 ranks : 1 rank. On a machine with few shared cores the
all-reduce of every step costs about as much as the step, so expect a ratio near or below 1 here;
GPUs are where the speed-up shows.

With ``--train`` the runs go through ``pytorch-tutor train mlp --device cpu`` instead: one plain
process, then ``--nproc-per-node 1`` and ``2`` (the tutor's own trainer under torchrun and DDP, on
the bundled 5,000-image sample in a temporary home), reading samples/s from the runs' step events.

    .venv/bin/python benchmarks/ddp_throughput.py [--size 32768] [--epochs 1] [--repeat 1]
    .venv/bin/python benchmarks/ddp_throughput.py --train [--epochs 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def run(nproc: int, size: int, epochs: int) -> dict[str, float]:
    """One torchrun of the self-check; samples/s summed over ranks and rank 0's own."""
    from tutor.distributed.launch import LaunchOptions, torchrun_command

    with tempfile.TemporaryDirectory() as out:
        args = [out, "--size", str(size), "--epochs", str(epochs), "--batch", "64"]
        args += ["--features", "784", "--hidden", "256"]
        command = torchrun_command(
            LaunchOptions(nproc), "tutor.distributed.selfcheck_process", args
        )
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)
        reports = [json.loads(p.read_text()) for p in sorted(Path(out).glob("rank*.json"))]
    per_rank = [r["samples_per_second"] for r in reports]
    return {"total": sum(per_rank), "per_rank": per_rank[0], "seconds": reports[0]["seconds"]}


def run_train(nproc: int, epochs: int) -> dict[str, float]:
    """One ``train mlp`` run (``nproc`` 0: the plain single process); samples/s from its steps."""
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "PYTORCH_TUTOR_HOME": f"{home}/home",
            "PYTORCH_TUTOR_DATA": f"{home}/data",
        }
        env["PYTORCH_TUTOR_OFFLINE"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
        command = [sys.executable, "-m", "tutor", "train", "mlp", "--device", "cpu", "--json"]
        command += ["--epochs", str(epochs), "--batch-size", "64"]
        if nproc:
            command += ["--nproc-per-node", str(nproc)]
        else:
            env["OMP_NUM_THREADS"] = "1"  # one thread, like each rank
        done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    steps = [e["samples_per_s"] for e in lines if e["event"] == "step"]
    world = next((e.get("world_size") or 1 for e in lines if e["event"] == "start"), 1)
    per_rank = sorted(steps)[len(steps) // 2]  # the median: the first steps warm up
    return {"total": per_rank * world, "per_rank": per_rank, "seconds": lines[-1]["seconds"]}


def main_train(epochs: int, repeat: int) -> int:
    best: dict[int, dict[str, float]] = {}
    for _ in range(repeat):
        for nproc in (0, 1, 2):  # side by side, so all see the same machine load
            result = run_train(nproc, epochs)
            if nproc not in best or result["total"] > best[nproc]["total"]:
                best[nproc] = result
    for nproc, result in best.items():
        name = "1 process " if nproc == 0 else f"{nproc} rank{'s' if nproc > 1 else ' '}   "
        print(
            f"{name}: {result['total']:8.0f} samples/s in all, {result['per_rank']:8.0f} per "
            f"rank, whole run {result['seconds']:.2f} s"
        )
    print(f"ratio 2 ranks : 1 rank = {best[2]['total'] / best[1]['total']:.2f}")
    print(f"ratio 1 rank under torchrun : 1 process = {best[1]['total'] / best[0]['total']:.2f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32768, help="examples in the set")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="alternate runs, best of each")
    parser.add_argument("--train", action="store_true", help="go through `pytorch-tutor train`")
    args = parser.parse_args()
    if args.train:
        return main_train(args.epochs, args.repeat)
    best: dict[int, dict[str, float]] = {}
    for _ in range(args.repeat):
        for nproc in (1, 2):  # side by side, so both see the same machine load
            result = run(nproc, args.size, args.epochs)
            if nproc not in best or result["total"] > best[nproc]["total"]:
                best[nproc] = result
    for nproc, result in best.items():
        print(
            f"{nproc} rank{'s' if nproc > 1 else ' '}: {result['total']:8.0f} samples/s in all, "
            f"{result['per_rank']:8.0f} per rank, training loop {result['seconds']:.2f} s"
        )
    print(f"ratio 2 ranks : 1 rank = {best[2]['total'] / best[1]['total']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
