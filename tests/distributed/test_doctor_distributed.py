"""``doctor``'s distributed part: GPU count, NCCL, the torchrun line, on simulated machines.

torch.cuda and torch.distributed's availability questions are monkeypatched on the real torch
module, so ``gather`` and the text form run their real code for 0, 1 and 8 GPUs, with and
without NCCL.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from tutor.cli import main
from tutor.devices import report_data as report_module
from tutor.devices.report_data import gather
from tutor.devices.report_text import report_text
from tutor.distributed.report import distributed_report

GIB = 2**30


def simulate(monkeypatch: pytest.MonkeyPatch, gpus: int, *, nccl: bool = True) -> None:
    props = SimpleNamespace(
        name="NVIDIA Test GPU", major=9, minor=0, total_memory=80 * GIB, multi_processor_count=132
    )
    monkeypatch.setattr(torch.version, "cuda", "12.4")
    monkeypatch.setattr(torch.version, "hip", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda i: props)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda i=0: (70 * GIB, 80 * GIB))
    monkeypatch.setattr(torch.distributed, "is_nccl_available", lambda: nccl)


def test_eight_gpus_use_nccl_one_process_each(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 8)
    report = gather(torch, environ={}, driver_probe=lambda: True)
    assert report["gpu_count"] == 8
    assert report["distributed"] == {
        "available": True,
        "nccl_available": True,
        "gloo_available": True,
        "backend": "nccl",
        "nproc_per_node": 8,
        "torchrun": "torchrun --standalone --nproc-per-node 8 train.py",
    }
    text = report_text(report)
    assert "Several devices\n  NCCL available, gloo available" in text
    assert "8 GPUs: one process per GPU with nccl" in text
    assert text.rstrip().endswith("torchrun --standalone --nproc-per-node 8 train.py")


def test_one_gpu_without_nccl_falls_back_to_gloo(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 1, nccl=False)
    report = gather(torch, environ={}, driver_probe=lambda: True)
    info = report["distributed"]
    assert (info["nccl_available"], info["backend"], info["nproc_per_node"]) == (False, "gloo", 1)
    text = report_text(report)
    assert "NCCL not available, gloo available" in text
    assert "GPUs without NCCL: gloo works" in text


def test_no_gpu_offers_two_gloo_ranks(monkeypatch: pytest.MonkeyPatch) -> None:
    simulate(monkeypatch, 0)
    report = gather(torch, environ={}, driver_probe=lambda: True)
    info = report["distributed"]
    assert (info["backend"], info["nproc_per_node"]) == ("gloo", 2)
    assert "no GPU: gloo on the CPU, for trying DDP (expect no speed-up)" in report_text(report)


def test_a_build_without_torch_distributed() -> None:
    fake: Any = SimpleNamespace(distributed=SimpleNamespace(is_available=lambda: False))
    info = distributed_report(fake, 2)
    assert info["available"] is False and info["backend"] is None and info["torchrun"] is None
    broken: Any = SimpleNamespace(distributed=SimpleNamespace(is_available=lambda: 1 / 0))
    assert distributed_report(broken, 0)["available"] is False  # a question that raises is a no


def test_doctor_json_carries_the_distributed_part(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    simulate(monkeypatch, 2)
    report = gather(torch, environ={}, driver_probe=lambda: True)
    monkeypatch.setattr(report_module, "run_probe", lambda: report)
    assert main(["doctor", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["distributed"]["torchrun"] == "torchrun --standalone --nproc-per-node 2 train.py"
    assert main(["doctor"]) == 0
    assert "2 GPUs: one process per GPU with nccl" in capsys.readouterr().out


def test_the_real_probe_reports_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)["distributed"]
    assert info["available"] is torch.distributed.is_available()
    assert info["nccl_available"] is torch.distributed.is_nccl_available()
    assert info["gloo_available"] is True  # every build this project supports has gloo
