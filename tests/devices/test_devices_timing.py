"""Fair timing: the audit of a learner's ``measure`` and the CPU run of the demo; the watcher."""

from __future__ import annotations

import time
from typing import Any

import pytest
import torch

from tutor.devices.timing import (
    NO_GPU_NOTE,
    audit_measure,
    fair_seconds,
    time_devices,
    timing_table,
)
from tutor.devices.watch import LOG_NAME, AvailabilityLog, watch_availability


def fair(work: Any, sync: Any, repeats: int) -> float:
    work()
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    sync()
    return (time.perf_counter() - start) / repeats


def no_warm_up(work: Any, sync: Any, repeats: int) -> float:
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    sync()
    return (time.perf_counter() - start) / repeats


def no_sync(work: Any, sync: Any, repeats: int) -> float:
    work()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    return (time.perf_counter() - start) / repeats


def total(work: Any, sync: Any, repeats: int) -> float:
    work()
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    sync()
    return time.perf_counter() - start


def one_short(work: Any, sync: Any, repeats: int) -> float:
    work()
    sync()
    start = time.perf_counter()
    for _ in range(repeats - 1):
        work()
    sync()
    return (time.perf_counter() - start) / repeats


def per_call_synced(work: Any, sync: Any, repeats: int) -> float:
    work()
    sync()
    spent = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        sync()
        spent += time.perf_counter() - start
    return spent / repeats


def no_clock(work: Any, sync: Any, repeats: int) -> float:
    return 0.1


def raises(work: Any, sync: Any, repeats: int) -> float:
    raise ValueError("oops")


@pytest.mark.parametrize(
    ("measure", "problems"),
    [
        (fair, set()),
        (fair_seconds, set()),
        (per_call_synced, set()),
        (no_warm_up, {"warm-up"}),
        (no_sync, {"sync"}),
        (total, {"value"}),
        (one_short, {"repeats"}),
        (no_clock, {"clock"}),
        (raises, {"raised"}),
    ],
)
def test_audit_names_each_unfairness(measure: Any, problems: set[str]) -> None:
    assert audit_measure(measure) == problems


def test_audit_restores_the_clock() -> None:
    original = time.perf_counter
    audit_measure(raises)
    audit_measure(fair)
    assert time.perf_counter is original


def test_the_demo_runs_on_the_cpu_and_explains() -> None:
    rows = time_devices(size=32, repeats=2)
    assert rows[0]["device"] == "cpu"
    assert rows[0]["per_call"] > 0 and rows[0]["first_call"] > 0
    lines = timing_table(rows, 32, 2)
    assert lines[0] == "Timing a (32, 32) @ (32, 32) matrix product, 2 repeats:"
    assert lines[2].startswith("cpu, ")
    if len(rows) == 1:
        assert " ".join(lines[3:]) == NO_GPU_NOTE


def test_a_gpu_row_gives_a_speed_up() -> None:
    rows = [
        {"device": "cpu", "description": "cpu, 2 threads", "first_call": 0.05,
         "per_call": 0.04, "without_sync": 0.04},
        {"device": "cuda:0", "description": "cuda:0 NVIDIA H200", "first_call": 0.3,
         "per_call": 0.0004, "without_sync": 0.00001},
    ]  # fmt: skip
    lines = timing_table(rows, 2048, 10)
    assert lines[-1] == "cuda:0 is 100.0 times as fast as the CPU per call."
    assert "10.0 us" in lines[3]


def test_watch_notes_only_the_callers_questions(monkeypatch: pytest.MonkeyPatch) -> None:
    # Restore the unwrapped functions after the test: other tests may patch them.
    monkeypatch.setattr(torch.cuda, "is_available", torch.cuda.is_available)
    monkeypatch.setattr(torch.backends.mps, "is_available", torch.backends.mps.is_available)
    learner: dict[str, Any] = {"torch": torch, LOG_NAME: watch_availability(torch)}
    reference: dict[str, Any] = {"torch": torch, LOG_NAME: watch_availability(torch)}
    exec("device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')", learner)
    log: AvailabilityLog = learner[LOG_NAME]
    assert "cuda" in log and "mps" not in log
    assert log.cuda_available == torch.cuda.is_available()
    assert not reference[LOG_NAME].asked  # a different namespace noted nothing
    assert log.asked_in_order is log.cuda_available  # mps was never asked
    exec("ok = torch.backends.mps.is_available()", learner)
    assert log.asked_in_order
    # Wrapping twice keeps one wrapper, and the answers stay true.
    watch_availability(torch)
    assert torch.cuda.is_available.__wrapped__.__name__ == "is_available"  # type: ignore[attr-defined]
