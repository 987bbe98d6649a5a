"""Choosing a device: ``auto`` (cuda, then mps, then cpu), ``cpu``, ``cuda``, ``cuda:N`` or ``mps``.

``resolve_device`` returns a ``torch.device`` and a sentence saying which device it is and, for
``auto``, why it was picked; a choice that cannot be honoured raises ``DeviceError`` whose text
lists what is available. The training code and the app both use these names: keep them stable.
"""

from __future__ import annotations

import re
from typing import Any

from tutor.devices.availability import CudaStatus, cuda_status, error_text, mps_available
from tutor.devices.errors import DeviceError

SPECS = ("auto", "cpu", "cuda", "mps")
CHOICES_TEXT = "auto, cpu, cuda, cuda:N (N is a GPU index, counting from 0) or mps"
_CUDA_INDEX = re.compile(r"cuda:(\d+)")


def _torch(torch_module: Any | None) -> Any:
    if torch_module is not None:
        return torch_module
    import torch  # only when called: importing this module must stay cheap

    return torch


def parse_spec(spec: str) -> tuple[str, int | None]:
    """Split a device choice into its kind and GPU index; ``DeviceError`` for anything else."""
    text = str(spec).strip().lower()
    if text in SPECS:
        return text, None
    match = _CUDA_INDEX.fullmatch(text)
    if match:
        return "cuda", int(match.group(1))
    raise DeviceError(f"{spec!r} is not a device choice: use {CHOICES_TEXT}.")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def available_choices(
    torch_module: Any | None = None, status: CudaStatus | None = None
) -> list[str]:
    """The device choices that would work here, e.g. ``["auto", "cpu", "cuda", "cuda:0"]``."""
    torch = _torch(torch_module)
    status = status or cuda_status(torch)
    choices = ["auto", "cpu"]
    if status.available:
        choices.append("cuda")
        choices.extend(f"cuda:{i}" for i in range(status.device_count))
    if mps_available(torch):
        choices.append("mps")
    return choices


def describe_device(device: Any, torch_module: Any | None = None) -> str:
    """A device in a few words: ``cuda:0 NVIDIA H100 80GB HBM3``, ``cpu, 2 threads``, ``mps ...``."""
    torch = _torch(torch_module)
    device = torch.device(device)
    if device.type == "cpu":
        return f"cpu, {_plural(int(torch.get_num_threads()), 'thread')}"
    if device.type == "cuda":
        index = 0 if device.index is None else device.index
        try:
            name = str(torch.cuda.get_device_name(index))
        except Exception as exc:  # a broken CUDA still gets described, with what went wrong
            return f"cuda:{index} (its name cannot be read: {error_text(exc)})"
        return f"cuda:{index} {name}"
    if device.type == "mps":
        return "mps (Apple GPU)"
    if device.type == "meta":
        return "meta (shapes and dtypes only, no data)"
    return str(device)


def auto_choice(torch: Any, status: CudaStatus) -> tuple[Any, str]:
    """The device ``auto`` picks given a CUDA status (cuda, then mps, then cpu) and why."""
    if status.available:
        device = torch.device("cuda", 0)
        return device, f"{describe_device(device, torch)} (auto: CUDA is available)"
    mps = mps_available(torch)
    device = torch.device("mps" if mps else "cpu")
    if status.error:
        why = f"CUDA is present but failed ({status.error}), so the tutor falls back to"
        why += " MPS" if mps else " the CPU"
    elif mps:
        why = f"no CUDA, since {status.reason}; MPS is available"
    else:
        why = f"no CUDA, since {status.reason}; no MPS"
    return device, f"{describe_device(device, torch)} (auto: {why})"


def resolve_device(spec: str = "auto", torch_module: Any | None = None) -> tuple[Any, str]:
    """The ``torch.device`` for a choice and a sentence describing it; ``DeviceError`` if unusable."""
    kind, index = parse_spec(spec)
    torch = _torch(torch_module)
    if kind == "cpu":
        device = torch.device("cpu")
        return device, describe_device(device, torch)
    status = cuda_status(torch)
    if kind == "auto":
        return auto_choice(torch, status)
    available = ", ".join(available_choices(torch, status))
    if kind == "mps":
        if not mps_available(torch):
            raise DeviceError(f"MPS (Apple GPUs) is not available here; available: {available}.")
        device = torch.device("mps")
        return device, describe_device(device, torch)
    if status.error:
        raise DeviceError(
            f"CUDA is present but failed ({status.error}); choose auto or cpu to run on the CPU."
        )
    if not status.available:
        raise DeviceError(f"CUDA is not available here: {status.reason}; available: {available}.")
    index = 0 if index is None else index
    if index >= status.device_count:
        gpus = "cuda:0" if status.device_count == 1 else f"cuda:0 to cuda:{status.device_count - 1}"
        raise DeviceError(
            f"cuda:{index} does not exist: this machine has "
            f"{_plural(status.device_count, 'GPU')} ({gpus})."
        )
    device = torch.device("cuda", index)
    return device, describe_device(device, torch)
