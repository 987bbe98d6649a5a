"""The one-rank gloo process group the ``distributed`` lesson's exercises run in, inside the kernel.

A step's setup calls ``start_group()``. It sets the variables torchrun would set for rank 0 of a
world of one (``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``LOCAL_WORLD_SIZE``, ``MASTER_ADDR``,
``MASTER_PORT`` on a free port) and starts a gloo group, so ``dist.get_rank()``,
``dist.all_reduce`` and ``DistributedDataParallel`` work in the learner's namespace as in a real
script. The kernel runs the setup twice (the learner's namespace and the reference's) and again on
every reset, and a learner may destroy the group: a group that is already the right one is kept,
anything else is replaced.
"""

from __future__ import annotations

import os
from typing import Any

from tutor.distributed.env import free_port

GROUP_TIMEOUT = 30.0  # seconds; a world of one never waits, this only bounds the unexpected


def _group_is_ours(dist: Any) -> bool:
    try:
        return bool(
            dist.is_initialized()
            and dist.get_world_size() == 1
            and dist.get_rank() == 0
            and dist.get_backend() == "gloo"
        )
    except Exception:  # a half-destroyed group counts as none
        return False


def start_group() -> Any:
    """Make sure a gloo group of world size 1 exists; return ``torch.distributed``."""
    import datetime

    import torch.distributed as dist

    if _group_is_ours(dist):
        return dist
    if dist.is_initialized():
        dist.destroy_process_group()  # the learner made another one; the lesson needs its own
    os.environ.update(
        {
            "RANK": "0",
            "LOCAL_RANK": "0",
            "WORLD_SIZE": "1",
            "LOCAL_WORLD_SIZE": "1",
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(free_port()),
        }
    )
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=GROUP_TIMEOUT))
    return dist
