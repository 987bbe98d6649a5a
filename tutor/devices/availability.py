"""Whether CUDA and MPS can be used, and when CUDA cannot, the reason in words.

Every function takes the torch module as an argument, so tests can hand in a module whose
``torch.cuda`` and ``torch.version`` are patched to simulate CPU-only builds, 0, 1 or 2 GPUs and
a CUDA that raises. A CUDA that raises is reported with its error text, never re-raised.
"""

from __future__ import annotations

import ctypes
import os
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CPU_ONLY_BUILD = "this PyTorch is a CPU-only build"
NO_DRIVER = "no NVIDIA driver was found"
HIDDEN = "no GPU is visible: CUDA_VISIBLE_DEVICES is {value!r}"
NO_DEVICE = "the driver is present but reports no GPU"


@dataclass(frozen=True)
class CudaStatus:
    """What torch.cuda says: usable or not, how many GPUs, and why not (or what failed)."""

    available: bool
    device_count: int
    reason: str | None = None  # why CUDA is not available, in words; None when it is
    error: str | None = None  # the text of an exception CUDA raised, when it is broken
    warnings: tuple[str, ...] = field(default_factory=tuple)


def error_text(exc: BaseException) -> str:
    """An exception as ``Type: message`` on one line (CUDA errors can span several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def driver_loadable() -> bool | None:
    """True when the CUDA driver library loads, False when it does not, None where unknown."""
    if sys.platform.startswith("linux"):
        names = ["libcuda.so.1", "libcuda.so"]
    elif sys.platform == "win32":
        names = ["nvcuda.dll"]
    else:
        return None  # macOS has no CUDA driver to look for
    for name in names:
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        return True
    return False


_NVIDIA_GPU_NODE = re.compile(r"nvidia\d+")


def gpu_device_files(dev: Path = Path("/dev")) -> int | None:
    """GPUs the operating system shows as device files, counted without torch or a driver call.

    NVIDIA's driver makes ``/dev/nvidiaN`` per GPU (``nvidiactl``, ``nvidia-uvm`` are not GPUs);
    AMD's ROCm makes a render node per GPU beside ``/dev/kfd``. None where files tell nothing:
    not Linux, or WSL, whose GPUs all sit behind ``/dev/dxg``. A cheap bound before the probe:
    CUDA can see fewer GPUs (``CUDA_VISIBLE_DEVICES``), never more.
    """
    if not sys.platform.startswith("linux") or (dev / "dxg").exists():
        return None
    try:
        nvidia = sum(1 for path in dev.iterdir() if _NVIDIA_GPU_NODE.fullmatch(path.name))
        amd = len(list((dev / "dri").glob("renderD*"))) if (dev / "kfd").exists() else 0
    except OSError:
        return None
    return max(nvidia, amd)


def _built_with_gpu(torch: Any) -> bool:
    version = getattr(torch, "version", None)
    return bool(getattr(version, "cuda", None) or getattr(version, "hip", None))


def unavailable_reason(
    torch: Any,
    environ: Mapping[str, str] | None = None,
    driver_probe: Callable[[], bool | None] = driver_loadable,
) -> str:
    """Why ``torch.cuda.is_available()`` is False: a CPU-only build, no driver, or no GPU seen."""
    if not _built_with_gpu(torch):
        return CPU_ONLY_BUILD
    env = os.environ if environ is None else environ
    visible = env.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() in ("", "-1"):
        return HIDDEN.format(value=visible)
    if getattr(torch.version, "hip", None) is None and driver_probe() is False:
        return NO_DRIVER
    return NO_DEVICE


def cuda_status(
    torch: Any,
    environ: Mapping[str, str] | None = None,
    driver_probe: Callable[[], bool | None] = driver_loadable,
) -> CudaStatus:
    """Ask torch.cuda whether it is usable; an exception becomes ``error`` with available False.

    CUDA counts as broken when ``is_available``, ``device_count`` or a GPU's properties raise.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            available = bool(torch.cuda.is_available())
            count = int(torch.cuda.device_count()) if available else 0
            # A driver can say yes and still fail on the first real question: ask one per GPU.
            for index in range(count):
                torch.cuda.get_device_properties(index)
        except Exception as exc:  # a broken driver or runtime: report it, fall back to the CPU
            notes = tuple(str(w.message) for w in caught)
            return CudaStatus(False, 0, "CUDA is present but failed", error_text(exc), notes)
    notes = tuple(" ".join(str(w.message).split()) for w in caught)
    if available and count == 0:
        # is_available and device_count disagree only when something is broken.
        return CudaStatus(False, 0, NO_DEVICE, None, notes)
    if not available:
        return CudaStatus(False, 0, unavailable_reason(torch, environ, driver_probe), None, notes)
    return CudaStatus(True, count, None, None, notes)


def mps_built(torch: Any) -> bool:
    """Whether this PyTorch was built with MPS (Apple GPUs); False when the question raises."""
    try:
        return bool(torch.backends.mps.is_built())
    except Exception:
        return False


def mps_available(torch: Any) -> bool:
    """Whether an Apple GPU can be used through MPS; False when the question raises."""
    try:
        return bool(torch.backends.mps.is_available())
    except Exception:
        return False
