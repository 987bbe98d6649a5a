"""What torchrun tells each rank, free ports, and starting a process group that cannot hang forever.

torchrun (``python -m torch.distributed.run``) starts one process per device and tells each who it
is through environment variables: ``RANK`` (0 .. world size - 1 across every machine),
``LOCAL_RANK`` (0 .. processes on this machine - 1, which picks the GPU), ``WORLD_SIZE``,
``LOCAL_WORLD_SIZE``, ``MASTER_ADDR`` and ``MASTER_PORT`` (where rank 0's store listens).
``init_process_group`` with the default ``env://`` method reads them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Long enough for a slow rank to start, short enough that a missing rank ends the run, not hangs it.
DEFAULT_TIMEOUT = 120.0


class DistributedError(Exception):
    """Distributed settings or start-up went wrong; ``str(error)`` is one sentence for the user."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it; another program may take it later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port`` (binding it fails).

    Bound the way torchrun's store binds it (``SO_REUSEADDR``): connections of a run that just
    ended linger in TIME_WAIT for a minute, and must not make a resume on the same port fail.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


@dataclass(frozen=True)
class RankInfo:
    """Who this process is among the ranks of a run, as torchrun's variables say."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1
    launched: bool = False  # torchrun's variables are set: a group is wanted, even of one

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, logs and the run folder."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether this process runs in a process group (under torchrun, or with several ranks)."""
        return self.launched or self.world_size > 1


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise DistributedError(f"{name} should be a whole number, not {raw!r}.") from None


def rank_info(environ: Mapping[str, str] | None = None) -> RankInfo:
    """This process's rank, local rank and world size; a plain run (no variables) is rank 0 of 1."""
    env = os.environ if environ is None else environ
    world = _int(env, "WORLD_SIZE", 1)
    rank = _int(env, "RANK", 0)
    local_rank = _int(env, "LOCAL_RANK", rank)
    local_world = _int(env, "LOCAL_WORLD_SIZE", world)
    if world < 1:
        raise DistributedError(f"WORLD_SIZE should be at least 1, not {world}.")
    if not 0 <= rank < world:
        raise DistributedError(f"RANK {rank} is outside 0..{world - 1} for WORLD_SIZE {world}.")
    if not 0 <= local_rank < max(local_world, 1):
        raise DistributedError(
            f"LOCAL_RANK {local_rank} is outside 0..{local_world - 1} "
            f"for LOCAL_WORLD_SIZE {local_world}."
        )
    return RankInfo(rank, local_rank, world, local_world, "WORLD_SIZE" in env)


def backend_for(device_type: str) -> str:
    """nccl for NVIDIA GPUs, gloo for the CPU (and anything else)."""
    return "nccl" if device_type == "cuda" else "gloo"


def init_group(
    info: RankInfo,
    device_type: str = "cpu",
    timeout: float = DEFAULT_TIMEOUT,
    torch_module: Any | None = None,
) -> Any:
    """Start the default process group from torchrun's variables and return this rank's device.

    On CUDA each rank takes ``cuda:LOCAL_RANK`` before the group starts (nccl binds to the current
    device); on the CPU the device is ``cpu``. The timeout bounds rendezvous and every collective,
    so a rank that never arrives ends the others with an error instead of a hang.
    """
    import datetime

    if torch_module is None:
        import torch
    else:
        torch = torch_module
    dist = torch.distributed
    backend = backend_for(device_type)
    if device_type == "cuda":
        device = torch.device("cuda", info.local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
    if dist.is_initialized():
        return device
    kwargs: dict[str, Any] = {}
    if backend == "nccl":
        kwargs["device_id"] = device  # binds the group to this GPU at once
    try:
        dist.init_process_group(
            backend,
            rank=info.rank,
            world_size=info.world_size,
            timeout=datetime.timedelta(seconds=timeout),
            **kwargs,
        )
    except Exception as exc:
        address = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
        raise DistributedError(
            f"Rank {info.rank} could not join the {backend} process group at {address} "
            f"({' '.join(str(exc).split())[:300]})."
        ) from exc
    return device
