"""The device report's distributed part: can this PyTorch run DDP, with which backend, and how.

``distributed_report(torch, gpu_count)`` is gathered in the probe child beside the rest of the
device report (``doctor``); ``distributed_lines`` writes it as text. Every question is asked
defensively: a build without ``torch.distributed`` answers False, never raises.
"""

from __future__ import annotations

from typing import Any

CPU_PROCESSES = 2  # on a CPU-only machine the line starts two gloo ranks: enough to try DDP


def _ask(dist: Any, name: str) -> bool:
    try:
        return bool(getattr(dist, name)())
    except Exception:
        return False


def torchrun_line(nproc: int, script: str = "train.py") -> str:
    """The torchrun command for one machine with ``nproc`` processes."""
    return f"torchrun --standalone --nproc-per-node {nproc} {script}"


def distributed_report(torch: Any, gpu_count: int) -> dict[str, Any]:
    """Whether torch.distributed, NCCL and gloo are here, the backend to use and the torchrun line."""
    dist = getattr(torch, "distributed", None)
    available = dist is not None and _ask(dist, "is_available")
    nccl = available and _ask(dist, "is_nccl_available")
    gloo = available and _ask(dist, "is_gloo_available")
    if not available:
        backend, nproc = None, 0
    elif gpu_count > 0 and nccl:
        backend, nproc = "nccl", gpu_count
    else:
        backend, nproc = ("gloo" if gloo else None), (gpu_count or CPU_PROCESSES)
    return {
        "available": available,
        "nccl_available": nccl,
        "gloo_available": gloo,
        "backend": backend,
        "nproc_per_node": nproc,
        "torchrun": torchrun_line(nproc) if backend else None,
    }


def distributed_lines(info: dict[str, Any], gpu_count: int) -> list[str]:
    """The report's distributed part as short lines for ``doctor`` and the devices panel."""
    if not info.get("available"):
        return ["torch.distributed is not available in this PyTorch build"]
    nccl = "available" if info.get("nccl_available") else "not available"
    gloo = "available" if info.get("gloo_available") else "not available"
    lines = [f"NCCL {nccl}, gloo {gloo}"]
    backend, nproc = info.get("backend"), info.get("nproc_per_node")
    if backend == "nccl":
        lines.append(f"{nproc} GPU{'s' if nproc != 1 else ''}: one process per GPU with nccl")
    elif backend == "gloo" and gpu_count:
        lines.append("GPUs without NCCL: gloo works, nccl would be much faster")
    elif backend == "gloo":
        lines.append("no GPU: gloo on the CPU, for trying DDP (expect no speed-up)")
    if info.get("torchrun"):
        lines.append(str(info["torchrun"]))
    return lines
