"""Kernel timings: warm run + checks round trip, and restarts after a crash or a timeout.

Run: ``.venv/bin/python benchmarks/kernel_bench.py [--rounds 30]``. Targets: warm round trip
median <= 50 ms; restart after a timeout, torch import included, <= 3 s.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tutor.kernel import Kernel
from tutor.lessons.model import Check, ExerciseStep

STEP = ExerciseStep(
    id="neuron-sum",
    lesson_id="bench",
    title="A neuron",
    line=None,
    prompt="",
    setup=(
        "import torch\nactivation = torch.sigmoid\ntorch.manual_seed(7)\n"
        "features = torch.randn((1, 5))\nweights = torch.randn_like(features)\n"
        "bias = torch.randn((1, 1))\n"
    ),
    solution="y = activation(torch.sum(features * weights) + bias)",
    defines=("y",),
    checks=(
        Check("type", {"name": "y", "type": "Tensor"}),
        Check("shape", {"name": "y"}),
        Check("dtype", {"name": "y"}),
        Check("misconception", {"detector": "missing-bias", "name": "y"}),
        Check("close", {"name": "y"}),
        Check("required", {"calls": ["torch.sum", "Tensor.sum"]}),
    ),
)
# Ignores SIGINT, so the kernel must kill and restart the child.
STUBBORN = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"


def ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(len(values) * 0.9) - 1] if len(values) >= 10 else values[-1]
    return f"median {statistics.median(values) * 1000:.1f} ms, p90 {p90 * 1000:.1f} ms, n={len(values)}"


def round_trips(kernel: Kernel, rounds: int) -> None:
    assert kernel.reset(STEP).ok
    kernel.answer(STEP, STEP.solution)  # warm: the reference namespace is cached now
    both, runs, checks = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        result, verdict = kernel.answer(STEP, STEP.solution)
        both.append(time.perf_counter() - started)
        assert result.ok and verdict.passed, verdict
        started = time.perf_counter()
        kernel.run(STEP.solution, show=STEP.defines)
        runs.append(time.perf_counter() - started)
        started = time.perf_counter()
        kernel.check(STEP)
        checks.append(time.perf_counter() - started)
    print(f"warm run + checks: {ms(both)}")
    print(f"  run alone:       {ms(runs)}")
    print(f"  checks alone:    {ms(checks)}")


def restart(spare: bool) -> None:
    label = "with a spare child" if spare else "no spare child"
    kernel = Kernel.start(spare=spare)
    try:
        assert kernel.reset(STEP).ok
        kernel.run(STEP.solution)
        if spare:
            time.sleep(8)  # let the spare finish importing torch, as it would while a learner reads
        started = time.perf_counter()
        result = kernel.run("import os\nos._exit(1)")
        crash = time.perf_counter() - started
        assert result.status == "crashed"
        if spare:
            time.sleep(8)
        timeout = 0.5
        started = time.perf_counter()
        result = kernel.run(STUBBORN, timeout=timeout)
        stuck = time.perf_counter() - started
        assert result.status == "timeout" and "restarted" in result.notice, result
        assert kernel.run("print(y.item())").output.strip()  # the namespace came back
        print(f"restart after a crash ({label}): {crash:.2f} s (new child + replay)")
        print(
            f"restart after a timeout ({label}): {stuck - timeout - 1.0:.2f} s after the 1 s "
            f"SIGINT grace ({stuck:.2f} s in all with a {timeout} s timeout)"
        )
    finally:
        kernel.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    started = time.perf_counter()
    kernel = Kernel.start()
    kernel.run("1")
    print(f"cold start to first result: {time.perf_counter() - started:.2f} s")
    try:
        round_trips(kernel, args.rounds)
    finally:
        kernel.close()
    restart(spare=False)
    restart(spare=True)


if __name__ == "__main__":
    main()
