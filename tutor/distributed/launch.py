"""Options of a run on several devices and the torchrun command that starts it.

``pytorch-tutor train MODEL --nproc-per-node N [--nnodes M --node-rank R --rdzv-endpoint HOST:PORT]``
uses the names of torchrun's own options. ``check_options`` turns every impossible combination
into one sentence (``DistributedError``) before anything starts; ``torchrun_command`` builds the
``python -m torch.distributed.run`` line, one per machine. torchrun does the rest: it starts
the processes, sets ``RANK`` / ``LOCAL_RANK`` / ``WORLD_SIZE``, and stops every rank when one fails.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from tutor.distributed.env import DistributedError, port_in_use

LOCAL_HOSTS = ("127.0.0.1", "localhost", "0.0.0.0", "::1")


@dataclass(frozen=True)
class LaunchOptions:
    """How many processes on how many machines, and where node 0 listens."""

    nproc_per_node: int = 1
    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None

    @property
    def world_size(self) -> int:
        return self.nproc_per_node * self.nnodes

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def parse_endpoint(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[v6]:PORT`` too) as (host, port); one sentence when it is not one."""
    host, sep, port_text = text.strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port_text.isdigit():
        raise DistributedError(
            f"--rdzv-endpoint should be HOST:PORT, e.g. 10.0.0.1:29500, not {text!r}."
        )
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise DistributedError(f"The port in --rdzv-endpoint should be 1 to 65535, not {port}.")
    return host, port


def _device_sentence(device: str, nproc: int, gpu_count: int) -> str | None:
    kind, _, index = device.partition(":")
    if kind == "cuda" and index:
        return (
            f"--device {device} names one GPU, but with --nproc-per-node {nproc} each process "
            "takes its own GPU (cuda:LOCAL_RANK): use --device cuda."
        )
    if kind == "mps":
        return (
            "MPS has no distributed backend: use --device cpu (gloo) or --device cuda "
            "with several processes, or drop --nproc-per-node."
        )
    if kind == "cuda" and nproc > gpu_count:
        have = "no GPU" if gpu_count == 0 else f"{gpu_count} GPU{'s' if gpu_count != 1 else ''}"
        return (
            f"--nproc-per-node {nproc} with --device cuda needs {nproc} GPUs, but this machine "
            f"has {have}: use at most {gpu_count} processes or --device cpu."
            if gpu_count
            else f"--device cuda needs a GPU, but this machine has {have}: use --device cpu."
        )
    return None


def check_options(options: LaunchOptions, device: str = "auto", gpu_count: int = 0) -> str:
    """Validate a launch for this machine; returns the device type each rank will use.

    ``device`` is the ``--device`` value (auto, cpu, cuda, cuda:N, mps); ``gpu_count`` the GPUs
    this machine has. ``auto`` becomes cuda with one process per GPU when there are enough GPUs,
    else cpu. Raises ``DistributedError`` with one sentence for anything that cannot work.
    """
    nproc, nnodes = options.nproc_per_node, options.nnodes
    if nproc < 1:
        raise DistributedError(
            f"--nproc-per-node must be at least 1, not {nproc}: it is the number of processes "
            "on this machine, usually one per GPU."
        )
    if nnodes < 1:
        raise DistributedError(f"--nnodes must be at least 1, not {nnodes}.")
    if nnodes > 1 and not options.rdzv_endpoint:
        raise DistributedError(
            f"--nnodes {nnodes} needs --rdzv-endpoint HOST:PORT, the address of node 0 that "
            "every machine can reach."
        )
    if not 0 <= options.node_rank < nnodes:
        raise DistributedError(
            f"--node-rank must be 0 to {nnodes - 1} for --nnodes {nnodes}, not {options.node_rank}."
        )
    if options.rdzv_endpoint:
        parse_endpoint(options.rdzv_endpoint)
    device = (device or "auto").strip().lower()
    if device == "auto":
        return "cuda" if gpu_count >= nproc and gpu_count > 0 else "cpu"
    kind = device.partition(":")[0]
    if kind not in ("cpu", "cuda", "mps"):
        raise DistributedError(
            f"--device should be auto, cpu, cuda, cuda:N or mps, not {device!r}."
        )
    if not options.distributed and device != "cuda":
        return kind  # one process: any single device will do
    problem = _device_sentence(device, nproc, gpu_count)
    if problem:
        raise DistributedError(problem)
    return kind


def per_rank_batch(global_batch: int, world_size: int) -> int:
    """The batch each rank takes so that ``world_size`` ranks keep ``global_batch`` (rounded up).

    A run on several devices that keeps a single device's global batch takes the same number of
    steps per epoch, so its losses, goal and learning rate compare with the single run's.
    """
    return max(1, -(-global_batch // max(1, world_size)))


def check_endpoint_free(options: LaunchOptions) -> None:
    """On node 0 with a local endpoint, fail at once when its port is taken (not after a timeout)."""
    if not options.rdzv_endpoint or options.node_rank != 0:
        return
    host, port = parse_endpoint(options.rdzv_endpoint)
    if host in LOCAL_HOSTS and port_in_use(port, "127.0.0.1" if host != "::1" else host):
        raise DistributedError(
            f"Port {port} on {host} is already in use, perhaps by another run: choose another "
            "port in --rdzv-endpoint."
        )


def check_resume(saved_world_size: int, options: LaunchOptions) -> None:
    """A resumed run keeps its world size: its batches and learning rate were made for it."""
    if saved_world_size != options.world_size:
        raise DistributedError(
            f"This run was trained with {saved_world_size} process"
            f"{'es' if saved_world_size != 1 else ''}; resume it with the same world size, not "
            f"{options.world_size}."
        )


def torchrun_command(
    options: LaunchOptions,
    module: str,
    args: Sequence[str] = (),
    python: str | None = None,
    rdzv_timeout: int | None = None,
) -> list[str]:
    """``python -m torch.distributed.run ... --module MODULE ARGS`` for this machine.

    One machine without an endpoint runs ``--standalone`` (torchrun picks a free port). Otherwise
    the static rendezvous uses ``--rdzv-endpoint``: node 0 listens there, ``--node-rank`` says
    which machine this is; ``rdzv_timeout`` bounds how long the machines wait for each other.
    """
    command = [python or sys.executable, "-m", "torch.distributed.run"]
    command += ["--nproc-per-node", str(options.nproc_per_node)]
    if options.nnodes == 1 and not options.rdzv_endpoint:
        command.append("--standalone")
    else:
        command += ["--nnodes", str(options.nnodes), "--node-rank", str(options.node_rank)]
        command += ["--rdzv-endpoint", str(options.rdzv_endpoint)]
        if rdzv_timeout is not None:
            command += ["--rdzv-conf", f"timeout={rdzv_timeout}"]
    return [*command, "--module", module, *args]
