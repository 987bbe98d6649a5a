"""Samples per second of data-parallel training on the CPU: 1 rank against 2 ranks, one run.

Both runs go through torchrun (``python -m torch.distributed.run --standalone``) with gloo and one
thread per rank, training the same MLP (784-256-2 by default, batch 64 per rank) on the same
synthetic set with ``tutor.distributed.selfcheck``. Prints samples/s for the whole run (all
ranks) and per rank, and the ratio 2 ranks : 1 rank. On a machine with few shared cores the
all-reduce of every step costs about as much as the step, so expect a ratio near or below 1 here;
GPUs are where the speed-up shows.

    .venv/bin/python benchmarks/ddp_throughput.py [--size 32768] [--epochs 1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
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
        command = torchrun_command(LaunchOptions(nproc), "tutor.distributed.selfcheck", args)
        subprocess.run(command, check=True, capture_output=True, cwd=REPO)
        reports = [json.loads(p.read_text()) for p in sorted(Path(out).glob("rank*.json"))]
    per_rank = [r["samples_per_second"] for r in reports]
    return {"total": sum(per_rank), "per_rank": per_rank[0], "seconds": reports[0]["seconds"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=32768, help="examples in the set")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="alternate runs, best of each")
    args = parser.parse_args()
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
