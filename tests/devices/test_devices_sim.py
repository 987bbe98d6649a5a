"""Simulated devices: CPU-only builds, no driver, 0, 1 and 2 GPUs, and a CUDA that raises.

torch.cuda and torch.version are monkeypatched on the real torch module, so ``gather``,
``resolve_device`` and ``describe_device`` run their real code against each machine.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from tutor.devices import DeviceError
from tutor.devices.availability import (
    CPU_ONLY_BUILD,
    NO_DEVICE,
    NO_DRIVER,
    cuda_status,
    gpu_device_files,
)
from tutor.devices.report_data import cuda_gpu_count, gather
from tutor.devices.report_text import cudnn_text, report_text
from tutor.devices.select import available_choices, describe_device, parse_spec, resolve_device

GIB = 2**30


def simulate(
    monkeypatch: pytest.MonkeyPatch,
    gpus: int = 0,
    *,
    cuda_build: bool = True,
    mps: bool = False,
    broken: str | None = None,
) -> None:
    """Make torch look like a machine with ``gpus`` GPUs (``broken``: "is_available"/"properties")."""
    props = [
        SimpleNamespace(
            name=f"NVIDIA Test GPU {i}",
            major=9,
            minor=0,
            total_memory=80 * GIB,
            multi_processor_count=132,
        )
        for i in range(gpus)
    ]

    def is_available() -> bool:
        if broken == "is_available":
            raise RuntimeError("CUDA driver initialization failed, you might not have a CUDA gpu.")
        return gpus > 0

    def get_device_properties(index: int) -> Any:
        if broken == "properties":
            raise RuntimeError("CUDA error: unknown error")
        return props[index]

    monkeypatch.setattr(torch.version, "cuda", "12.4" if cuda_build else None)
    monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.setattr(torch.cuda, "is_available", is_available)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "get_device_properties", get_device_properties)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: get_device_properties(i).name)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i=0: (70 * GIB, 80 * GIB))
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    monkeypatch.setattr(torch.backends.mps, "is_built", lambda: mps)
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 90100 if cuda_build else None)


def report_for(**env: str) -> dict[str, Any]:
    return gather(torch, environ=env, driver_probe=lambda: True)


# The report -------------------------------------------------------------------------------


def test_cpu_only_build_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 0, cuda_build=False)
    report = report_for()
    assert report["cuda_version"] is None
    assert report["cudnn_version"] is None
    assert report["cuda_available"] is False
    assert report["cuda_reason"] == CPU_ONLY_BUILD
    assert report["gpus"] == [] and report["gpu_count"] == 0
    assert report["auto_device"] == "cpu"
    assert "CPU-only build" in report["auto_description"]
    assert "CPU-only build" in report_text(report)


def test_no_driver_and_hidden_gpus_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 0)
    assert gather(torch, environ={}, driver_probe=lambda: False)["cuda_reason"] == NO_DRIVER
    hidden = gather(torch, environ={"CUDA_VISIBLE_DEVICES": ""}, driver_probe=lambda: True)
    assert "CUDA_VISIBLE_DEVICES" in hidden["cuda_reason"]
    assert gather(torch, environ={}, driver_probe=lambda: True)["cuda_reason"] == NO_DEVICE


@pytest.mark.parametrize("gpus", [1, 2])
def test_gpus_are_listed_with_memory(monkeypatch: pytest.MonkeyPatch, gpus: int) -> None:
    simulate(monkeypatch, gpus)
    report = report_for()
    assert report["cuda_available"] is True
    assert report["cuda_reason"] is None and report["cuda_error"] is None
    assert report["gpu_count"] == gpus
    assert [g["index"] for g in report["gpus"]] == list(range(gpus))
    first = report["gpus"][0]
    assert first == {
        "index": 0,
        "name": "NVIDIA Test GPU 0",
        "capability": "9.0",
        "total_memory": 80 * GIB,
        "multiprocessors": 132,
        "free_memory": 70 * GIB,
    }
    assert report["cuda_version"] == "12.4" and report["cudnn_version"] == 90100
    assert report["auto_device"] == "cuda:0"
    text = report_text(report)
    assert f"available: {gpus} GPU" in text
    assert "NVIDIA Test GPU 0, compute capability 9.0, 132 multiprocessors" in text
    assert "80.0 GiB total, 70.0 GiB free" in text
    assert "cuDNN 9.1.0" in text


@pytest.mark.parametrize(
    ("gpus", "broken", "counted"), [(4, None, 4), (1, None, 1), (0, None, 0), (2, "properties", 0)]
)
def test_the_gpus_training_can_use_are_counted_from_the_report(
    monkeypatch: pytest.MonkeyPatch, gpus: int, broken: str | None, counted: int
) -> None:
    # What the training step's offer to train on all GPUs counts: a broken CUDA counts none.
    simulate(monkeypatch, gpus, broken=broken)
    assert cuda_gpu_count(report_for()) == counted
    assert cuda_gpu_count({"cuda_available": True, "gpu_count": "many"}) == 0


def test_gpu_device_files_bound_the_gpus_without_torch(tmp_path: Path) -> None:
    nvidia = tmp_path / "nvidia"
    nvidia.mkdir()
    for name in ("nvidia0", "nvidia1", "nvidia2", "nvidia3", "nvidiactl", "nvidia-uvm"):
        (nvidia / name).touch()
    (nvidia / "nvidia-caps").mkdir()
    assert gpu_device_files(nvidia) == 4
    amd = tmp_path / "amd"
    (amd / "dri").mkdir(parents=True)
    for name in ("kfd", "dri/renderD128", "dri/renderD129", "dri/card0"):
        (amd / name).touch()
    assert gpu_device_files(amd) == 2
    (amd / "kfd").unlink()
    assert gpu_device_files(amd) == 0  # render nodes without ROCm's kfd: a display, not compute
    wsl = tmp_path / "wsl"
    wsl.mkdir()
    (wsl / "dxg").touch()
    assert gpu_device_files(wsl) is None  # WSL's GPUs all sit behind /dev/dxg: the probe decides


def test_mps_is_picked_when_there_is_no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 0, cuda_build=False, mps=True)
    report = report_for()
    assert report["mps_available"] is True
    assert report["auto_device"] == "mps"
    device, description = resolve_device("auto")
    assert device.type == "mps" and "MPS is available" in description


@pytest.mark.parametrize("broken", ["is_available", "properties"])
def test_broken_cuda_shows_the_error_and_falls_back(
    monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    simulate(monkeypatch, 1, broken=broken)
    report = report_for()
    assert report["cuda_available"] is False
    assert report["cuda_error"].startswith("RuntimeError: CUDA")
    assert report["auto_device"] == "cpu"
    assert report["fallback"] == "CUDA is present but failed, so the tutor uses the CPU"
    text = report_text(report)
    assert "broken: RuntimeError: CUDA" in text and "uses the CPU" in text
    device, description = resolve_device("auto")
    assert device.type == "cpu"
    assert "failed" in description and "falls back" in description
    with pytest.raises(DeviceError, match="present but failed"):
        resolve_device("cuda")


def test_report_keys_are_the_documented_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 1)
    report = report_for()
    assert set(report) == {
        "schema", "python", "platform", "torch", "torchvision", "cuda_version", "hip_version",
        "cudnn_version", "cuda_available", "cuda_reason", "cuda_error", "gpu_count", "gpus",
        "mps_built", "mps_available", "cpu", "auto_device", "auto_description", "fallback",
        "warnings", "distributed",
    }  # fmt: skip
    assert set(report["cpu"]) == {"model", "logical_cores", "usable_cores", "torch_threads"}
    assert report["cpu"]["usable_cores"] >= 1
    assert report["cpu"]["torch_threads"] == torch.get_num_threads()


# Selection --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gpus", "mps", "expected"),
    [(0, False, "cpu"), (0, True, "mps"), (1, True, "cuda"), (2, False, "cuda")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(
    monkeypatch: pytest.MonkeyPatch, gpus: int, mps: bool, expected: str
) -> None:
    simulate(monkeypatch, gpus, mps=mps)
    device, description = resolve_device("auto")
    assert device.type == expected
    assert "auto:" in description


def test_cuda_indices_and_descriptions(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 2)
    device, description = resolve_device("cuda:1")
    assert device == torch.device("cuda", 1)
    assert description == "cuda:1 NVIDIA Test GPU 1"
    assert resolve_device(" CUDA ")[0] == torch.device("cuda", 0)
    assert available_choices() == ["auto", "cpu", "cuda", "cuda:0", "cuda:1"]
    with pytest.raises(DeviceError) as info:
        resolve_device("cuda:2")
    assert str(info.value) == "cuda:2 does not exist: this machine has 2 GPUs (cuda:0 to cuda:1)."


def test_one_gpu_out_of_range_message(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 1)
    with pytest.raises(DeviceError, match=r"has 1 GPU \(cuda:0\)\.$"):
        resolve_device("cuda:1")


def test_cuda_without_cuda_lists_what_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 0, cuda_build=False)
    with pytest.raises(DeviceError) as info:
        resolve_device("cuda")
    message = str(info.value)
    assert message == f"CUDA is not available here: {CPU_ONLY_BUILD}; available: auto, cpu."
    with pytest.raises(DeviceError, match=r"MPS .* not available here; available: auto, cpu"):
        resolve_device("mps")


@pytest.mark.parametrize("spec", ["gpu", "cuda:x", "cuda:-1", "", "cpu0"])
def test_invalid_choices_list_the_valid_ones(spec: str) -> None:
    with pytest.raises(DeviceError) as info:
        parse_spec(spec)
    assert "is not a device choice: use auto, cpu, cuda, cuda:N" in str(info.value)
    assert "mps" in str(info.value)


def test_describe_cpu_and_meta() -> None:
    threads = torch.get_num_threads()
    word = "thread" if threads == 1 else "threads"
    assert describe_device("cpu") == f"cpu, {threads} {word}"
    assert describe_device(torch.device("meta")).startswith("meta")
    assert resolve_device("cpu") == (torch.device("cpu"), f"cpu, {threads} {word}")


def test_status_notes_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    simulate(monkeypatch, 0)

    def warn_and_say_no() -> bool:
        warnings.warn("CUDA initialization: Found no NVIDIA driver on your system.", stacklevel=1)
        return False

    monkeypatch.setattr(torch.cuda, "is_available", warn_and_say_no)
    status = cuda_status(torch, {}, lambda: False)
    assert status.warnings == ("CUDA initialization: Found no NVIDIA driver on your system.",)
    assert status.reason == NO_DRIVER


def test_cudnn_version_text() -> None:
    assert cudnn_text(92400) == "9.24.0"
    assert cudnn_text(8902) == "8.9.2"
    assert cudnn_text(None) == "none"
