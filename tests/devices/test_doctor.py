"""``pytorch-tutor doctor [--json]``: the real probe child, the documented keys, the text form."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tutor.cli import main
from tutor.devices import report_data as report_module
from tutor.devices.report_data import ProbeError

DOCS = Path(__file__).resolve().parents[2] / "docs" / "devices.md"
TOP_KEYS = {
    "schema", "python", "platform", "torch", "torchvision", "cuda_version", "hip_version",
    "cudnn_version", "cuda_available", "cuda_reason", "cuda_error", "gpu_count", "gpus",
    "mps_built", "mps_available", "cpu", "auto_device", "auto_description", "fallback",
    "warnings", "distributed",
}  # fmt: skip


def test_doctor_json_runs_the_real_probe(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report) == TOP_KEYS
    assert report["schema"] == 1
    assert re.match(r"\d+\.\d+", report["torch"])
    assert report["gpu_count"] == len(report["gpus"])
    assert report["auto_device"] in {"cpu", "mps"} | {f"cuda:{i}" for i in range(8)}
    if not report["cuda_available"]:
        assert report["cuda_reason"]  # every "no" comes with a reason
    assert report["cpu"]["usable_cores"] >= 1 and report["cpu"]["torch_threads"] >= 1


def test_every_key_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)`", text, flags=re.MULTILINE))
    gpu_keys = {"index", "name", "capability", "total_memory", "free_memory", "multiprocessors",
                "error"}  # fmt: skip
    cpu_keys = {"model", "logical_cores", "usable_cores", "torch_threads"}
    distributed_keys = {"available", "nccl_available", "gloo_available", "backend",
                        "nproc_per_node", "torchrun"}  # fmt: skip
    assert TOP_KEYS | gpu_keys | cpu_keys | distributed_keys <= documented


def fake_report(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "schema": 1, "python": "3.11.7", "platform": "Linux", "torch": "2.14.1",
        "torchvision": None, "cuda_version": None, "hip_version": None, "cudnn_version": None,
        "cuda_available": False, "cuda_reason": "this PyTorch is a CPU-only build",
        "cuda_error": None, "gpu_count": 0, "gpus": [], "mps_built": False,
        "mps_available": False,
        "cpu": {"model": "Test CPU", "logical_cores": 4, "usable_cores": 2, "torch_threads": 2},
        "auto_device": "cpu", "auto_description": "cpu, 2 threads (auto: no CUDA)",
        "fallback": None, "warnings": [],
    }  # fmt: skip
    base.update(changes)
    return base


def test_doctor_text(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(report_module, "run_probe", lambda: fake_report())
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "torchvision not installed" in out
    assert "a CPU-only build: torch.version.cuda is None" in out
    assert "not available: this PyTorch is a CPU-only build" in out
    assert "Test CPU: 4 logical cores, 2 usable by this process\n" in out
    # The threads as a run takes them (one core left for the UI), in the training screen's words.
    assert "training on it: cpu, up to 1 thread of 2 cores (1 left free for the UI)" in out
    assert out.rstrip().endswith(
        "cpu, up to 1 thread of 2 cores (1 left free for the UI; auto: no CUDA)"
    )


def test_doctor_text_broken_cuda(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = fake_report(
        cuda_version="12.4",
        cuda_reason="CUDA is present but failed",
        cuda_error="RuntimeError: CUDA error: unknown error",
        fallback="CUDA is present but failed, so the tutor uses the CPU",
    )
    monkeypatch.setattr(report_module, "run_probe", lambda: broken)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "broken: RuntimeError: CUDA error: unknown error" in out
    assert "so the tutor uses the CPU." in out


def test_probe_failure_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing() -> dict[str, Any]:
        raise ProbeError("The device probe failed (exit 1): PyTorch cannot be imported.")

    monkeypatch.setattr(report_module, "run_probe", failing)
    assert main(["doctor", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == (
        "pytorch-tutor: The device probe failed (exit 1): PyTorch cannot be imported."
    )


def test_probe_output_parsing() -> None:
    assert report_module._parse(0, 'noise\n{"schema": 1}\n', "")["schema"] == 1
    with pytest.raises(ProbeError, match=r"exit 1\): boom"):
        report_module._parse(1, "", "Traceback...\nboom\n")
    with pytest.raises(ProbeError, match="unreadable"):
        report_module._parse(0, "{not json\n", "")


def test_unknown_flag_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["doctor", "--gpu"])
    assert info.value.code == 2
    assert "unrecognized arguments: --gpu" in capsys.readouterr().err
