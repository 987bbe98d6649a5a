"""Time from process start to the first screen ready, headless; and whether torch was imported.

Run: .venv/bin/python benchmarks/startup.py [--runs N] [--resume]
Each run is a fresh `python` process that starts the real app headless (bundled lessons, a temp
PYTORCH_TUTOR_HOME) and exits on Textual's Ready event (the first frame is on screen). The parent
measures wall time from just before spawning the process to reading its report. With --resume the
learner was last in the tensors lesson, so the first screen is the reader on that step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys
from tutor.ui.app import TutorApp

class Probe(TutorApp):
    def on_ready(self) -> None:
        report = {"torch": "torch" in sys.modules, "screen": type(self.screen).__name__}
        print(json.dumps(report), file=sys.__stderr__, flush=True)
        self.exit()

Probe().run(headless=True, size=(80, 24))
"""


def one_run(home: str) -> tuple[float, dict]:
    env = {**os.environ, "PYTORCH_TUTOR_HOME": home}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    elapsed = time.perf_counter() - start
    proc.wait(timeout=30)
    return elapsed, json.loads(line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--resume", action="store_true", help="start where a lesson was left")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        if args.resume:
            from tutor.store import open_database
            from tutor.store.progress import Progress

            db = open_database(Path(home) / "progress.sqlite3")
            Progress(db).set_current("tensors", "neuron")
            db.close()
        one_run(home)  # warm the OS file cache and create the database once
        results = [one_run(home) for _ in range(args.runs)]
    times = sorted(t for t, _ in results)
    print(
        f"first screen ready: median {statistics.median(times):.3f} s, "
        f"min {times[0]:.3f} s, max {times[-1]:.3f} s over {args.runs} runs"
    )
    print(f"torch imported at that moment: {any(r['torch'] for _, r in results)}")
    print(f"first screen: {results[0][1]['screen']}")


if __name__ == "__main__":
    main()
