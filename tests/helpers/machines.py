"""Simulated machines: device probe reports of a CPU-only machine and of a GPU server.

No test machine has a GPU, so the app's view of the hardware comes from these reports, handed to
``tutor.ui.hardware.probe``'s stand-in (``probe_of``) instead of a probe child.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

GIB = 2**30


def cpu_report() -> dict[str, Any]:
    """A machine whose PyTorch is a CPU-only build."""
    return {
        "schema": 1,
        "python": "3.11.7",
        "platform": "Linux",
        "torch": "2.14.1+cpu",
        "torchvision": "0.29.1",
        "cuda_version": None,
        "hip_version": None,
        "cudnn_version": None,
        "cuda_available": False,
        "cuda_reason": "this PyTorch is a CPU-only build",
        "cuda_error": None,
        "gpu_count": 0,
        "gpus": [],
        "mps_built": False,
        "mps_available": False,
        "cpu": {"model": "Test CPU", "logical_cores": 2, "usable_cores": 2, "torch_threads": 2},
        "auto_device": "cpu",
        "auto_description": "cpu, 2 threads (auto: no CUDA, since this PyTorch is a CPU-only build)",
        "fallback": None,
        "warnings": [],
    }


def gpu_report(count: int) -> dict[str, Any]:
    """A server with ``count`` CUDA GPUs (80 GiB each) that PyTorch can use."""
    report = cpu_report()
    report.update(
        torch="2.14.1+cu130",
        cuda_version="13.0",
        cudnn_version=92400,
        cuda_available=True,
        cuda_reason=None,
        gpu_count=count,
        gpus=[
            {
                "index": index,
                "name": "NVIDIA Test GPU",
                "capability": "9.0",
                "total_memory": 80 * GIB,
                "multiprocessors": 132,
                "free_memory": 79 * GIB,
            }
            for index in range(count)
        ],
        cpu={"model": "Test CPU", "logical_cores": 32, "usable_cores": 32, "torch_threads": 32},
        auto_device="cuda:0",
        auto_description="cuda:0 NVIDIA Test GPU (auto: CUDA is available)",
    )
    return report


def probe_of(report: dict[str, Any]) -> Callable[[threading.Event], dict[str, Any]]:
    """A probe that answers at once with a copy of ``report``."""
    return lambda cancel: dict(report)
