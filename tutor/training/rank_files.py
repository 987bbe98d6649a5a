"""The files a run on several ranks keeps in its folder besides a single run's.

``launch.json`` holds how the run was started (processes per node, nodes, this node's rank, the
rendezvous endpoint, the device type every rank uses): the supervisor builds the torchrun line
from it, each rank reads its device type, ``runs`` shows the world size, and a resume keeps it.
``ranks/final.json`` is how rank 0 ended (the supervisor writes it out as the run's end once
torchrun is gone, so the run does not look ended while its processes still run).
``ranks/R.error`` is what rank R said when it failed; the supervisor names the rank that failed
first for its own reasons (a rank that only lost its partners is an echo, not the cause).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tutor.atomic import atomic_write_text
from tutor.distributed.launch import LaunchOptions, check_endpoint_free, check_options

LAUNCH_FILE = "launch.json"
ERRORS_DIR = "ranks"
FINAL_FILE = "final.json"
RDZV_TIMEOUT = 300


@dataclass(frozen=True)
class RunLaunch:
    """A run's launch: the torchrun options and the device type of every rank."""

    options: LaunchOptions
    device_type: str = "cpu"
    # Seconds the machines of a multi-machine run wait for each other at the rendezvous.
    rdzv_timeout: int = RDZV_TIMEOUT

    @property
    def world_size(self) -> int:
        return self.options.world_size


def plan_launch(options: LaunchOptions, device: str, gpu_count: Callable[[], int]) -> RunLaunch:
    """The launch a run folder keeps, once ``options`` are checked for this machine.

    ``device`` is the run's device setting (auto, cpu, cuda, ...); ``gpu_count`` counts this
    machine's GPUs, asked only once the counts and the endpoint are known to be sound (counting
    starts CUDA in a child). Raises ``DistributedError`` with one sentence for a launch that
    cannot work. The command line and the app both build their launches here.
    """
    check_options(options, "cpu", 0)
    device_type = check_options(options, device, gpu_count())
    check_endpoint_free(options)
    return RunLaunch(options, device_type)


def all_gpus_launch(device: str, gpu_count: int) -> RunLaunch | None:
    """One rank per GPU of this machine, or None where that is no offer.

    Only with two GPUs or more, and only when the device setting leaves the GPU to the tutor
    (``auto``) or asks for CUDA; ``cpu``, ``mps`` and one named GPU (``cuda:N``) keep one process.
    """
    if gpu_count < 2 or (device or "auto").strip().lower() not in ("auto", "cuda"):
        return None
    return plan_launch(LaunchOptions(nproc_per_node=gpu_count), device, lambda: gpu_count)


def write_launch(run_dir: Path, launch: RunLaunch) -> None:
    record = {
        **asdict(launch.options),
        "device_type": launch.device_type,
        "rdzv_timeout": launch.rdzv_timeout,
    }
    atomic_write_text(run_dir / LAUNCH_FILE, json.dumps(record, indent=2, sort_keys=True))


def read_launch(run_dir: Path) -> RunLaunch | None:
    """The run's launch, or None for a single-process run (or an unreadable file)."""
    try:
        raw = json.loads((run_dir / LAUNCH_FILE).read_text())
        options = LaunchOptions(
            nproc_per_node=int(raw["nproc_per_node"]),
            nnodes=int(raw.get("nnodes", 1)),
            node_rank=int(raw.get("node_rank", 0)),
            rdzv_endpoint=raw.get("rdzv_endpoint") or None,
        )
        timeout = int(raw.get("rdzv_timeout", RDZV_TIMEOUT))
        return RunLaunch(options, str(raw.get("device_type", "cpu")), timeout)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def mark_started(run_dir: Path, rank: int) -> None:
    """Note that torchrun started ``rank`` (the rendezvous worked), and the rank's pid."""
    folder = run_dir / ERRORS_DIR
    folder.mkdir(exist_ok=True)
    atomic_write_text(folder / f"{rank}.started", str(os.getpid()))


def ranks_running(run_dir: Path) -> bool:
    """Whether a rank of this run still runs (Linux: by ``/proc``; elsewhere always False).

    A run whose supervisor died is still running while its ranks save and end it themselves.
    """
    from tutor.training.runs import pid_alive

    folder = run_dir / ERRORS_DIR
    # Without /proc a recycled pid cannot be told from this run's rank.
    if not Path("/proc/self").is_dir() or not folder.is_dir():
        return False
    for path in folder.glob("*.started"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(path.read_text() or "0")
            if pid > 0 and pid_alive(pid, run_dir.name):
                return True
    return False


def write_rank_error(run_dir: Path, rank: int, message: str, echo: bool) -> None:
    """Record why ``rank`` failed; ``echo``: it only lost its partners (a stop, a closed peer)."""
    folder = run_dir / ERRORS_DIR
    folder.mkdir(exist_ok=True)
    record = {"rank": rank, "message": message, "echo": echo, "at": time.time()}
    atomic_write_text(folder / f"{rank}.error", json.dumps(record))


def write_final(run_dir: Path, state: str, final: Any) -> None:
    """Rank 0's ending (state and final event), for the supervisor to write once all ranks end."""
    from tutor.training.events import to_json

    folder = run_dir / ERRORS_DIR
    folder.mkdir(exist_ok=True)
    atomic_write_text(folder / FINAL_FILE, json.dumps({"state": state, "final": to_json(final)}))


def read_final(run_dir: Path) -> tuple[str, Any] | None:
    """(state, final event) rank 0 left, or None when it left none."""
    from tutor.training.events import parse

    try:
        raw = json.loads((run_dir / ERRORS_DIR / FINAL_FILE).read_text())
        final = parse(raw["final"])
        return (str(raw["state"]), final) if final is not None else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def node_ending(options: LaunchOptions, run_id: str, final: Any) -> tuple[str, Any]:
    """How a machine other than node 0 ends (state, final event): its ranks took part, and
    node 0 holds what they made."""
    from tutor.training.events import Done

    part = f"Node {options.node_rank} of {options.nnodes}"
    if isinstance(final, Done):
        final.checkpoint = ""
        final.message = f"{part} finished its part; the metrics and the model are on node 0."
        return "done", final
    final.checkpoint = None
    final.message = (
        f"{part} stopped with the others at step {final.step}; node 0 holds the checkpoint: "
        f"resume every node (here `pytorch-tutor train --resume {run_id}`)."
    )
    return "stopped", final


def orphan_ending(final: Any, supervisor: int | None) -> Any:
    """The end a rank writes itself when the supervisor died: said, not hidden."""
    who = f"its supervisor (pid {supervisor})" if supervisor else "its supervisor"
    said = f" {final.message}" if final.message else ""
    final.message = f"The run lost {who}, so every rank saved its place and stopped.{said}"
    return final


def clear_rank_errors(run_dir: Path) -> None:
    folder = run_dir / ERRORS_DIR
    if folder.is_dir():
        for path in [*folder.glob("*.error"), *folder.glob("*.started"), folder / FINAL_FILE]:
            path.unlink(missing_ok=True)


def failure_sentence(run_dir: Path, status: int, launch: RunLaunch) -> str:
    """One sentence naming the rank that failed and its error, from the ranks' error files."""
    options = launch.options
    first_rank = options.node_rank * options.nproc_per_node
    local_ranks = range(first_rank, first_rank + options.nproc_per_node)
    records = []
    for path in sorted((run_dir / ERRORS_DIR).glob("*.error")):
        try:
            records.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    started = any((run_dir / ERRORS_DIR).glob("*.started"))
    if not started and options.nnodes > 1:
        return _rendezvous_sentence(run_dir, launch)
    causes = sorted((r for r in records if not r.get("echo")), key=lambda r: r.get("at", 0))
    if causes:
        first = causes[0]
        return f"Rank {first['rank']} failed: {first['message']}; torchrun stopped every rank."
    silent = [rank for rank in local_ranks if not any(r.get("rank") == rank for r in records)]
    if silent:
        return (
            f"Rank {silent[0]} ended without a word (killed, or out of memory?), so torchrun "
            f"stopped every rank (status {status}; details in {run_dir / 'log'})."
        )
    if records:
        first = min(records, key=lambda r: r.get("at", 0))
        return f"Rank {first['rank']} failed: {first['message']}; torchrun stopped every rank."
    return (
        f"torchrun ended with status {status} before training began (details in {run_dir / 'log'})."
    )


def _rendezvous_sentence(run_dir: Path, launch: RunLaunch) -> str:
    """The machines never met: which endpoint, how long, what to check."""
    options = launch.options
    if options.node_rank != 0:
        return (
            f"Node {options.node_rank} could not join node 0 at {options.rdzv_endpoint} within "
            f"{launch.rdzv_timeout} s: start node 0 with the same options and --node-rank 0, and "
            f"make sure this machine can reach that port (details in {run_dir / 'log'})."
        )
    return (
        f"Node 0 waited at {options.rdzv_endpoint} for the other "
        f"{options.nnodes - 1} node{'s' if options.nnodes > 2 else ''}, which did not all "
        f"come within {launch.rdzv_timeout} s: start them with the same options, and make "
        f"sure they can reach this port (details in {run_dir / 'log'})."
    )
