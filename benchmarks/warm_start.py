"""Warm start: first loss point, memory while idle on an exercise, kernel restart; side by side.

Run: PYTHONPATH=. .venv/bin/python benchmarks/warm_start.py [--repeat N] [--only NAME ...]

Every figure is measured in this one run, next to a cold ``python -c "import torch"`` (the unit the
goals are stated in) and next to the same thing without the warm template
(``PYTORCH_TUTOR_TEMPLATE=0``, the path taken before the template existed):

- ``cli``: ``python -m tutor train mlp --epochs 1 --json`` from start to its first ``step`` event
  (the dataset cache is warm: an earlier run built it), and the same with the cache turned off;
- ``f5``: the real app, headless, resumed on the ``fashion-mnist`` lesson's ``train`` step after
  the template is up (the learner has been reading): the step's train action (F5) to the first
  ``step`` line in the run's metrics.jsonl;
- ``pss``: the app resumed on an exercise, its kernel ready and idle: the PSS
  (``/proc/PID/smaps_rollup``) of the app and every process under it, summed;
- ``restart``: a kernel whose code ignores SIGINT is killed at its timeout; the seconds from the
  kill to the next answer (the restart and the replay of one earlier cell).

Each app or run uses a fresh temp ``PYTORCH_TUTOR_HOME`` (shared by that section's repeats).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

APP_CHILD = r"""
import asyncio, json, os, sys, threading, time
import multiprocessing.resource_tracker

def main():
    multiprocessing.resource_tracker.ensure_running()
    from tutor.processes import template
    template.request()  # as run_app does (a no-op with PYTORCH_TUTOR_TEMPLATE=0)
    from tutor.ui.app import TutorApp
    mode = sys.argv[1]

    async def go():
        app = TutorApp()
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            if mode == "f5":
                for _ in range(200):  # the app starts the template after its first frame
                    if template.state() != "off" or not template.enabled():
                        break
                    await asyncio.sleep(0.01)
                template.wait(300)
                await asyncio.sleep(1.0)  # the learner reads a moment
                from tutor.training import runs
                from tutor.ui.widgets.training_step import TrainingStepPanel
                panel = app.screen.query_one(TrainingStepPanel)
                started = time.perf_counter()
                panel.action_train()
                run_dir = runs.find_run("last")
                while not any(e.kind == "step" for e in runs.read_events(run_dir)):
                    await asyncio.sleep(0.005)
                seconds = time.perf_counter() - started
                runs.stop(run_dir, wait_s=30)
                print(json.dumps({"seconds": seconds}), flush=True)
            else:
                done = threading.Event()
                threading.Thread(target=lambda: (app.kernels.get().run("x = 1"), done.set())).start()
                while not done.is_set():
                    await asyncio.sleep(0.05)
                await asyncio.sleep(3.0)  # settle: background starts finish
                print(json.dumps({"pid": os.getpid()}), flush=True)
                sys.stdin.readline()  # measured meanwhile

    asyncio.run(go())

if __name__ == "__main__":
    main()
"""

RESTART_CHILD = r"""
import json, time
import multiprocessing.resource_tracker

def main():
    multiprocessing.resource_tracker.ensure_running()
    from tutor.processes import template
    from tutor.kernel import client
    template.start()
    template.wait(300)
    kernel = client.Kernel.start(spare=True)
    kernel.run("import torch\nx = torch.arange(5.0)")
    time.sleep(8)  # a spare (without the template) finishes importing torch
    stubborn = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
    figures = []
    for _ in range(5):
        timeout = 0.3
        started = time.perf_counter()
        result = kernel.run(stubborn, timeout=timeout)
        killed_at = started + timeout + client.GRACE_SECONDS
        assert result.status == "timeout", result.status
        answer = kernel.run("print(int(x.sum()))")
        assert answer.output.strip() == "10", answer.output
        figures.append(time.perf_counter() - killed_at)
        time.sleep(8)
    kernel.close()
    print(json.dumps({"seconds": figures}), flush=True)

if __name__ == "__main__":
    main()
"""


def env_for(home: str, template: bool, **extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTORCH_TUTOR_HOME": home, "PYTHONPATH": str(REPO)}
    env["PYTORCH_TUTOR_TEMPLATE"] = "1" if template else "0"
    env.update(extra)
    return env


def cold_import() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - started


def cli_first_step(home: str, cache: bool) -> float:
    env = env_for(home, False, PYTORCH_TUTOR_DATASET_CACHE="1" if cache else "0")
    command = [sys.executable, "-m", "tutor", "train", "mlp", "--epochs", "1", "--json"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    seconds = float("nan")
    for line in proc.stdout:
        if json.loads(line).get("event") == "step":
            seconds = time.perf_counter() - started
            break
    proc.send_signal(signal.SIGINT)  # train asks the run to checkpoint and stop
    proc.communicate(timeout=120)
    return seconds


def resumed_home(home: str, lesson: str, step: str) -> None:
    sys.path.insert(0, str(REPO))
    from tutor.store import open_database
    from tutor.store.progress import Progress

    db = open_database(Path(home) / "progress.sqlite3")
    Progress(db).set_current(lesson, step)
    db.close()


def app_f5(home: str, template: bool) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", APP_CHILD, "f5"],
        env=env_for(home, template),
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(proc.stderr[-2000:])
    return float(json.loads(lines[-1])["seconds"])


def tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def idle_pss(home: str, template: bool) -> tuple[float, list[tuple[str, float]]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", APP_CHILD, "pss"],
        env=env_for(home, template),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    pid = int(json.loads(proc.stdout.readline())["pid"])
    parts = []
    for member in tree(pid):
        try:
            name = Path(f"/proc/{member}/comm").read_text().strip()
        except OSError:
            continue
        parts.append((name, pss_kb(member) / 1024))
    proc.stdin.write("\n")
    proc.stdin.flush()
    proc.wait(timeout=60)
    return sum(mb for _, mb in parts), parts


def kernel_restart(home: str, template: bool) -> list[float]:
    proc = subprocess.run(
        [sys.executable, "-c", RESTART_CHILD],
        env=env_for(home, template),
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(proc.stderr[-2000:])
    return [float(s) for s in json.loads(lines[-1])["seconds"]]


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=["cli", "f5", "pss", "restart"])
    args = parser.parse_args()
    cold_import()  # the OS file cache holds torch from here on, for every contender alike
    imports: list[float] = []

    def unit() -> float:
        imports.append(cold_import())
        return imports[-1]

    def side_by_side(
        what: str, measure: Callable[[bool], float], without: str, digits: int
    ) -> None:
        """Each repeat: a cold import, then ``measure(True)`` and ``measure(False)``, in turns."""
        on, off = [], []
        for _ in range(args.repeat):
            unit()
            on.append(measure(True))
            off.append(measure(False))
        base = median(imports)
        print(
            f"{what}: {median(on):.{digits}f} s = {median(on) / base:.2f}x import torch "
            f"({base:.2f} s); {without} {median(off):.2f} s = {median(off) / base:.2f}x"
        )

    with tempfile.TemporaryDirectory() as home:
        if "cli" in args.only:
            cli_first_step(home, cache=True)  # unpacks the data and builds the cache once
            side_by_side(
                "cli train, start to first step",
                lambda cache: cli_first_step(home, cache=cache),
                "without the dataset cache",
                2,
            )
    with tempfile.TemporaryDirectory() as home:
        if "f5" in args.only:
            resumed_home(home, "fashion-mnist", "train")
            app_f5(home, template=False)  # the data in place and cached
            side_by_side(
                "app F5 to first step",
                lambda template: app_f5(home, template=template),
                "without the template",
                3,
            )
    with tempfile.TemporaryDirectory() as home:
        if "pss" in args.only:
            resumed_home(home, "tensors", "neuron")
            for template in (True, False):
                total, parts = idle_pss(home, template)
                shown = ", ".join(f"{name} {mb:.0f}" for name, mb in parts)
                label = "with the template" if template else "without the template"
                print(f"idle on an exercise, {label}: {total:.0f} MB PSS ({shown})")
    with tempfile.TemporaryDirectory() as home:
        if "restart" in args.only:
            for template in (True, False):
                figures = kernel_restart(home, template)
                label = "forked from the template" if template else "fresh process + spare"
                print(
                    f"kernel restart after a timeout, {label}: median {median(figures):.3f} s "
                    f"(max {max(figures):.3f} s over {len(figures)})"
                )


if __name__ == "__main__":
    main()
