"""The device report: versions, CUDA and cuDNN, each GPU with its memory, MPS, the CPU, ``auto``.

``gather(torch)`` builds the report as a plain JSON-ready dict; it takes the torch module as an
argument so tests can patch ``torch.cuda`` and ``torch.version``. ``run_probe()`` gathers it in a
child process (``python -m tutor.devices.probe_process``): the first CUDA call can take seconds, can write
to the terminal from C, and on a broken driver can hang, none of which may touch the app.
The keys are documented in ``docs/devices.md``; bump ``SCHEMA`` when one changes meaning.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from tutor.devices.availability import (
    cuda_status,
    driver_loadable,
    error_text,
    mps_available,
    mps_built,
)
from tutor.devices.select import auto_choice
from tutor.devices.threads import usable_cores
from tutor.distributed.report import distributed_report

SCHEMA = 1
PROBE_TIMEOUT = 120.0  # seconds; a first CUDA initialisation on a big machine can take a while


class ProbeError(Exception):
    """The probe child failed; ``str(error)`` is one sentence saying what happened."""


def package_version(name: str) -> str | None:
    """An installed distribution's version without importing it, or None when absent."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str | None:
    """The CPU's model name from /proc/cpuinfo (Linux), else what the platform says, else None."""
    try:
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def _gpu(torch: Any, index: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index}
    try:
        props = torch.cuda.get_device_properties(index)
        entry["name"] = str(props.name)
        entry["capability"] = f"{props.major}.{props.minor}"
        entry["total_memory"] = int(props.total_memory)
        entry["multiprocessors"] = int(props.multi_processor_count)
        free, _total = torch.cuda.mem_get_info(index)
        entry["free_memory"] = int(free)
    except Exception as exc:  # one GPU failing must not hide the others
        entry["error"] = error_text(exc)
    return entry


def _cudnn_version(torch: Any) -> int | None:
    try:
        version = torch.backends.cudnn.version()
    except Exception:
        return None
    return int(version) if version is not None else None


def gather(
    torch: Any,
    environ: Mapping[str, str] | None = None,
    driver_probe: Callable[[], bool | None] = driver_loadable,
) -> dict[str, Any]:
    """The device report as a dict of JSON values; never raises for a broken CUDA."""
    status = cuda_status(torch, environ, driver_probe)
    gpus = [_gpu(torch, index) for index in range(status.device_count)]
    auto_device, auto_description = auto_choice(torch, status)
    fallback = None
    if status.error:
        fallback = "CUDA is present but failed, so the tutor uses the CPU"
        if auto_device.type == "mps":
            fallback = "CUDA is present but failed, so the tutor uses MPS"
    return {
        "schema": SCHEMA,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": str(torch.__version__),
        "torchvision": package_version("torchvision"),
        "cuda_version": getattr(torch.version, "cuda", None),
        "hip_version": getattr(torch.version, "hip", None),
        "cudnn_version": _cudnn_version(torch),
        "cuda_available": status.available,
        "cuda_reason": status.reason,
        "cuda_error": status.error,
        "gpu_count": status.device_count,
        "gpus": gpus,
        "mps_built": mps_built(torch),
        "mps_available": mps_available(torch),
        "cpu": {
            "model": cpu_model(),
            "logical_cores": os.cpu_count(),
            "usable_cores": usable_cores(),
            "torch_threads": int(torch.get_num_threads()),
        },
        "auto_device": str(auto_device),
        "auto_description": auto_description,
        "fallback": fallback,
        "warnings": list(status.warnings),
        "distributed": distributed_report(torch, status.device_count),
    }


def cuda_gpu_count(report: Mapping[str, Any]) -> int:
    """The GPUs a report says CUDA can use now: 0 when CUDA is absent, broken or unavailable."""
    if not report.get("cuda_available"):
        return 0
    try:
        return max(0, int(report.get("gpu_count") or 0))
    except (TypeError, ValueError):
        return 0


def collect() -> dict[str, Any]:
    """Gather the report in this process (imports torch): what the probe child runs."""
    import torch

    return gather(torch)


def probe_command() -> list[str]:
    """The command line of the probe child: this interpreter, ``-m tutor.devices.probe_process``."""
    return [sys.executable, "-m", "tutor.devices.probe_process"]


def run_probe(
    timeout: float = PROBE_TIMEOUT, cancel: threading.Event | None = None
) -> dict[str, Any]:
    """Gather the report in a child process; ``ProbeError`` with one sentence when that fails.

    Setting ``cancel`` (from another thread) kills the child and raises ``ProbeError`` at once, so
    a screen that closes never waits for a slow driver.
    """
    try:
        child = subprocess.Popen(
            probe_command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    except OSError as exc:
        raise ProbeError(f"The device probe could not start ({error_text(exc)}).") from exc
    deadline = time.monotonic() + timeout
    while True:
        try:
            stdout, stderr = child.communicate(timeout=0.1)
            break
        except subprocess.TimeoutExpired:
            cancelled = cancel is not None and cancel.is_set()
            if not cancelled and time.monotonic() < deadline:
                continue
            child.kill()
            child.communicate()
            if cancelled:
                raise ProbeError("The device probe was cancelled.") from None
            raise ProbeError(
                f"The device probe did not finish within {timeout:g} seconds; "
                "a GPU driver may be hanging (try nvidia-smi)."
            ) from None
    return _parse(child.returncode, stdout, stderr)


def _parse(returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if returncode != 0 or not lines:
        detail = (stderr.strip().splitlines() or ["no output"])[-1]
        raise ProbeError(f"The device probe failed (exit {returncode}): {detail}")
    try:
        report = json.loads(lines[-1])
    except json.JSONDecodeError as exc:
        raise ProbeError(f"The device probe printed something unreadable ({exc}).") from exc
    if not isinstance(report, dict):
        raise ProbeError("The device probe printed something other than a report.")
    return report
