"""Time from process start to the first screen ready, headless; and whether torch was imported.

Run: .venv/bin/python benchmarks/startup.py [--runs N] [--resume] [--no-template | --compare]
Each run is a fresh `python` process that starts the real app headless (bundled lessons, a temp
PYTORCH_TUTOR_HOME) and exits on Textual's Ready event (the first frame is on screen). The parent
measures wall time from just before spawning the process to reading its report. With --resume the
learner was last in the tensors lesson, so the first screen is the reader on that step. The warm
template is started as the app starts it (``--no-template``: not at all, to compare).
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
import json, os, signal, sys
import multiprocessing.resource_tracker

# As run_app does: the tracker, and the warm template asked for (the app starts it after its
# first frame; a no-op with PYTORCH_TUTOR_TEMPLATE=0).
multiprocessing.resource_tracker.ensure_running()
from tutor.processes import template
template.request()
from tutor.ui.app import TutorApp

class Probe(TutorApp):
    def on_ready(self) -> None:
        report = {"torch": "torch" in sys.modules, "screen": type(self.screen).__name__}
        print(json.dumps(report), file=sys.__stderr__, flush=True)
        self.exit()

Probe().run(headless=True, size=(80, 24))
# The template would finish importing torch before it noticed the app is gone: end it now, so it
# does not weigh on the next measurement.
from multiprocessing import forkserver
if getattr(forkserver._forkserver, "_forkserver_pid", None):
    os.kill(forkserver._forkserver._forkserver_pid, signal.SIGKILL)
"""


def one_run(home: str, template: bool = True) -> tuple[float, dict]:
    env = {**os.environ, "PYTORCH_TUTOR_HOME": home}
    env["PYTORCH_TUTOR_TEMPLATE"] = "1" if template else "0"
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
    parser.add_argument(
        "--no-template", action="store_true", help="do not start the warm template (as before)"
    )
    parser.add_argument(
        "--compare", action="store_true", help="alternate runs with and without the template"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        if args.resume:
            from tutor.store import open_database
            from tutor.store.progress import Progress

            db = open_database(Path(home) / "progress.sqlite3")
            Progress(db).set_current("tensors", "neuron")
            db.close()
        template = not args.no_template
        one_run(home, template)  # warm the OS file cache and create the database once
        if args.compare:
            pairs = [(one_run(home, True)[0], one_run(home, False)[0]) for _ in range(args.runs)]
            print(
                f"first screen ready, alternating: with the template median "
                f"{statistics.median(a for a, _ in pairs):.3f} s, without "
                f"{statistics.median(b for _, b in pairs):.3f} s over {args.runs} runs each"
            )
            return
        results = [one_run(home, template) for _ in range(args.runs)]
    times = sorted(t for t, _ in results)
    print(
        f"first screen ready: median {statistics.median(times):.3f} s, "
        f"min {times[0]:.3f} s, max {times[-1]:.3f} s over {args.runs} runs"
    )
    print(f"torch imported at that moment: {any(r['torch'] for _, r in results)}")
    print(f"first screen: {results[0][1]['screen']}")


if __name__ == "__main__":
    main()
