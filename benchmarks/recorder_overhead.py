"""How much the call recorder slows a learner's training loop, measured side by side.

Run: ``python benchmarks/recorder_overhead.py [--rounds 5]``. Prints the median seconds of the
``training.loop`` reference solution run plain, under the recorder, and under the recorder with
its direct-forward watch on (used only when the code contains ``.forward(``), with ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tutor.execution.recorder import CallLog, Recorder
from tutor.lessons import load_catalog
from tutor.lessons.model import ExerciseStep


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    step = load_catalog().step("training.loop")
    assert isinstance(step, ExerciseStep)
    labels = ("plain", "recorded", "forward-watched")
    timings: dict[str, list[float]] = {label: [] for label in labels}
    for _ in range(rounds):
        for label in labels:
            namespace: dict[str, object] = {"__name__": "__main__"}
            exec(compile(step.setup, "<setup>", "exec"), namespace)
            code = compile(step.solution, "<answer>", "exec")
            started = time.perf_counter()
            if label == "plain":
                exec(code, namespace)
            else:
                with Recorder(CallLog(), direct_forwards=label == "forward-watched"):
                    exec(code, namespace)
            timings[label].append(time.perf_counter() - started)
    plain, recorded, watched = (statistics.median(timings[k]) for k in labels)
    print(
        f"plain {plain:.3f} s, recorded {recorded:.3f} s (x{recorded / plain:.2f}), "
        f"forward-watched {watched:.3f} s (x{watched / plain:.2f})"
    )


if __name__ == "__main__":
    main()
