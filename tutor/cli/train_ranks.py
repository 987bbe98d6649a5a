"""The torchrun options of ``train``: ``--nproc-per-node N [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT]``.

They have torchrun's own names. ``launch_for`` checks them before anything starts (one sentence for
anything that cannot work: see ``tutor.distributed.launch``), keeps a resumed run at its world size,
and returns the ``RunLaunch`` the run folder keeps; None means the ordinary single-process run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tutor.cli import UsageError

_NAMES = ("nproc_per_node", "nnodes", "node_rank", "rdzv_endpoint")
_GPU_COUNT = "import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("several processes (torchrun, DistributedDataParallel)")
    group.add_argument(
        "--nproc-per-node", type=int, metavar="N", help="processes on this machine, one per GPU"
    )
    group.add_argument("--nnodes", type=int, metavar="M", help="machines taking part (default 1)")
    group.add_argument("--node-rank", type=int, metavar="R", help="this machine's number, 0..M-1")
    group.add_argument(
        "--rdzv-endpoint", metavar="HOST:PORT", help="node 0's address, reachable by every machine"
    )


def _gpu_count(device: str) -> int:
    """GPUs on this machine, counted in a child (this command never imports torch)."""
    if device.strip().lower() in ("cpu", "mps"):
        return 0
    env = dict(os.environ)
    done = subprocess.run(
        [sys.executable, "-c", _GPU_COUNT],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    text = done.stdout.strip()
    return int(text) if done.returncode == 0 and text.isdigit() else 0


def launch_for(args: argparse.Namespace, config: Any, run_dir: Path | None) -> Any:
    """The run's ``RunLaunch`` (None: one process); ``run_dir`` is the run being resumed."""
    from tutor.distributed.env import DistributedError
    from tutor.distributed.launch import LaunchOptions, check_resume
    from tutor.training.rank_files import plan_launch, read_launch

    given = any(getattr(args, name, None) is not None for name in _NAMES)
    saved = read_launch(run_dir) if run_dir is not None else None
    try:
        if given:
            options = LaunchOptions(
                nproc_per_node=args.nproc_per_node if args.nproc_per_node is not None else 1,
                nnodes=args.nnodes if args.nnodes is not None else 1,
                node_rank=args.node_rank if args.node_rank is not None else 0,
                rdzv_endpoint=args.rdzv_endpoint,
            )
            if run_dir is not None:
                check_resume(saved.world_size if saved is not None else 1, options)
        elif saved is not None:
            options = saved.options  # a resume keeps its processes
        else:
            return None
        # The counts and the endpoint are checked before the GPUs are counted in a child.
        return plan_launch(options, config.device, lambda: _gpu_count(config.device))
    except DistributedError as exc:
        raise UsageError(str(exc)) from exc
