"""Fair timing of the same work on the CPU and on a GPU: warm up, synchronise, repeat.

GPU calls return as soon as the work is queued, and the first call pays one-off costs (CUDA
context, library loading, memory allocation). A fair measurement therefore warms up, calls
``synchronize`` before each clock read and averages over repeats. ``fair_seconds`` is that
recipe; ``audit_measure`` checks a learner's version of it against a fake clock (for the
``devices.timing`` exercise); ``compare`` runs the demo; ``python -m tutor.devices.timing``
prints it (``scripts/gpu-check.sh`` uses that).
"""

from __future__ import annotations

import argparse
import textwrap
import time
from collections.abc import Callable
from typing import Any

Work = Callable[[], Any]
Sync = Callable[[], Any]
Measure = Callable[[Work, Sync, int], float]

AUDIT_REPEATS = 7
NO_GPU_NOTE = (
    "No GPU here, so only the CPU ran. On a GPU three things differ: the first call is far slower "
    "than the rest (CUDA starts up and loads its libraries); without synchronize() the clock "
    "stops when the work is queued, not when it is done, so the time looks tiny; and a large "
    "matrix product runs many times faster than on a few CPU cores, while a tiny one can be "
    "slower, since every launch and every copy between CPU and GPU costs microseconds."
)


def sync_for(device: Any, torch_module: Any | None = None) -> Sync:
    """A function that waits for ``device`` to finish its queued work (a no-op on the CPU)."""
    if torch_module is None:
        import torch
    else:
        torch = torch_module
    device = torch.device(device)
    if device.type == "cuda":
        return lambda: torch.cuda.synchronize(device)
    if device.type == "mps":
        return lambda: torch.mps.synchronize()
    return lambda: None


def fair_seconds(work: Work, sync: Sync, repeats: int = 10, warmup: int = 1) -> float:
    """Seconds per call of ``work``: warm-up calls, then ``repeats`` calls between synced clocks."""
    for _ in range(warmup):
        work()
    sync()
    start = time.perf_counter()
    for _ in range(repeats):
        work()
    sync()
    return (time.perf_counter() - start) / repeats


class _FakeClock:
    """A clock that moves only when work (1 s) or a sync (0.5 s) happens, noting every event."""

    def __init__(self) -> None:
        self.now = 100.0
        self.events: list[tuple[str, float]] = []

    def work(self) -> None:
        self.now += 1.0
        self.events.append(("work", self.now))

    def sync(self) -> None:
        self.now += 0.5
        self.events.append(("sync", self.now))

    def read(self) -> float:
        self.events.append(("clock", self.now))
        return self.now


def _problems(events: list[tuple[str, float]], result: Any, repeats: int) -> set[str]:
    clocks = [i for i, (kind, _) in enumerate(events) if kind == "clock"]
    if len(clocks) < 2:
        return {"clock"}
    problems: set[str] = set()
    first, last = clocks[0], clocks[-1]
    if not any(kind == "work" for kind, _ in events[:first]):
        problems.add("warm-up")
    pending = False  # work queued since the last sync
    for kind, _ in events[: last + 1]:
        if kind == "work":
            pending = True
        elif kind == "sync":
            pending = False
        elif pending:
            problems.add("sync")
    if sum(kind == "work" for kind, _ in events[first:last]) != repeats:
        problems.add("repeats")
    expected = (events[last][1] - events[first][1]) / repeats
    if not isinstance(result, int | float) or isinstance(result, bool):
        try:
            result = float(result)
        except (TypeError, ValueError):
            problems.add("value")
            return problems
    if abs(result - expected) > 1e-9:
        problems.add("value")
    return problems


def audit_measure(measure: Measure, repeats: int = AUDIT_REPEATS) -> set[str]:
    """What is unfair about ``measure(work, sync, repeats)``, run against a fake clock.

    Problems: ``raised`` (it raised), ``clock`` (fewer than two clock reads), ``warm-up`` (no
    work before the clock started), ``sync`` (a clock read while work was queued), ``repeats``
    (not exactly ``repeats`` calls between the first and last read), ``value`` (the result is
    not the elapsed time divided by ``repeats``). The clock is ``time.perf_counter`` (and
    ``time.time`` / ``time.monotonic``), patched only while ``measure`` runs.
    """
    clock = _FakeClock()
    saved = (time.perf_counter, time.time, time.monotonic)
    time.perf_counter = time.time = time.monotonic = clock.read
    try:
        result = measure(clock.work, clock.sync, repeats)
    except Exception:
        return {"raised"}
    finally:
        time.perf_counter, time.time, time.monotonic = saved
    return _problems(clock.events, result, repeats)


def _reference(work: Work, sync: Sync, repeats: int) -> float:
    return fair_seconds(work, sync, repeats)


def _duration(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} us"


def timing_devices(torch: Any) -> list[Any]:
    """The CPU, plus the first GPU when CUDA or MPS can be used (a broken CUDA is skipped)."""
    devices = [torch.device("cpu")]
    try:
        if torch.cuda.is_available():
            devices.append(torch.device("cuda", 0))
        elif torch.backends.mps.is_available():
            devices.append(torch.device("mps"))
    except Exception:
        pass
    return devices


def time_devices(
    measure: Measure | None = None, size: int = 512, repeats: int = 10
) -> list[dict[str, Any]]:
    """Time ``a @ b`` for (size, size) matrices on each device: first call, fair, unsynced."""
    import torch

    from tutor.devices.select import describe_device

    measure = measure or _reference
    rows = []
    for device in timing_devices(torch):
        a = torch.randn(size, size, device=device)
        b = torch.randn(size, size, device=device)
        sync = sync_for(device, torch)

        def work(a: Any = a, b: Any = b) -> Any:
            return a @ b

        sync()
        start = time.perf_counter()
        work()
        sync()
        first = time.perf_counter() - start
        per_call = float(measure(work, sync, repeats))
        start = time.perf_counter()
        for _ in range(repeats):
            work()
        unsynced = (time.perf_counter() - start) / repeats  # the clock read before sync()
        sync()
        rows.append(
            {
                "device": str(device),
                "description": describe_device(device, torch),
                "first_call": first,
                "per_call": per_call,
                "without_sync": unsynced,
            }
        )
    return rows


def timing_table(rows: list[dict[str, Any]], size: int, repeats: int) -> list[str]:
    """The rows as printed lines, with the speed-up or, without a GPU, what would differ."""
    lines = [
        f"Timing a ({size}, {size}) @ ({size}, {size}) matrix product, {repeats} repeats:",
        f"{'device':<34} {'first call':>11} {'per call':>11} {'no sync':>11}",
    ]
    for row in rows:
        lines.append(
            f"{row['description'][:34]:<34} {_duration(row['first_call']):>11} "
            f"{_duration(row['per_call']):>11} {_duration(row['without_sync']):>11}"
        )
    if len(rows) > 1 and rows[1]["per_call"] > 0:
        speedup = rows[0]["per_call"] / rows[1]["per_call"]
        lines.append(f"{rows[1]['device']} is {speedup:.1f} times as fast as the CPU per call.")
    else:
        lines.extend(textwrap.wrap(NO_GPU_NOTE, width=78))
    return lines


def compare(measure: Measure | None = None, size: int = 512, repeats: int = 10) -> None:
    """The demo: time the same matrix product on the CPU and on a GPU, and print the table."""
    rows = time_devices(measure, size, repeats)
    print("\n".join(timing_table(rows, size, repeats)))


def main(argv: list[str] | None = None) -> int:
    """``python -m tutor.devices.timing [--size N] [--repeats N]``: print the timing demo."""
    parser = argparse.ArgumentParser(
        prog="python -m tutor.devices.timing",
        description="Time the same matrix product fairly on the CPU and, when present, a GPU.",
    )
    parser.add_argument("--size", type=int, default=2048, help="matrix side (default 2048)")
    parser.add_argument("--repeats", type=int, default=10, help="timed calls (default 10)")
    args = parser.parse_args(argv)
    if args.size < 1 or args.repeats < 1:
        parser.error("--size and --repeats must be positive")
    compare(size=args.size, repeats=args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
