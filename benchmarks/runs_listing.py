"""Listing runs with 500 runs against listing one: the CLI's ``runs`` and the app's runs screen.

Run: PYTHONPATH=. .venv/bin/python benchmarks/runs_listing.py [--runs 500] [--repeat 3]

Each run folder is what a finished 5-epoch run of the MLP on Fashion-MNIST leaves (config.json,
state.json, a metrics.jsonl of about 240 step events with their losses, summary.json). Measured
side by side in one run: ``python -m tutor runs`` from start to exit, and the app (headless,
started on its runs screen) from start to the first row in the table. "old runs" are the same
folders without summary.json (made by an earlier version): the first listing builds the summaries
once, the next ones read them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

SCREEN_CHILD = r"""
import asyncio, sys, time
started = time.perf_counter()
from textual.widgets import DataTable
from tutor.ui.app import TutorApp

async def go():
    app = TutorApp(start="runs")
    async with app.run_test(size=(80, 24)) as pilot:
        while True:
            tables = app.screen.query(DataTable)
            if tables and tables.first().row_count > 0:
                break
            await asyncio.sleep(0.005)
        print(f"{time.perf_counter() - started:.4f}", file=sys.__stderr__, flush=True)

asyncio.run(go())
"""


def make_runs(home: Path, count: int, with_summary: bool) -> None:
    sys.path.insert(0, str(REPO))
    os.environ["PYTORCH_TUTOR_HOME"] = str(home)
    from tutor.training import events as ev
    from tutor.training import summary
    from tutor.training.config import TrainConfig

    runs_dir = home / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    start = {
        "event": "start", "device": "cpu, 1 thread", "threads": 1, "model": "mlp",
        "model_summary": "", "model_on": "cpu", "data_on": "cpu", "where": "",
        "trainable_parameters": 242762, "dataset": "fashion-mnist", "data_source": "",
        "classes": [], "n_train": 60000, "n_test": 10000, "steps_per_epoch": 47 * 20,
        "epochs": 5, "batch_size": 64, "start_epoch": 1, "start_step": 0,
    }  # fmt: skip
    lines = [json.dumps(start)]
    step = 0
    for epoch in range(1, 6):
        for _ in range(47):
            step += 20
            losses = [round(2.3 / (1 + step / 500) + i * 1e-4, 6) for i in range(20)]
            lines.append(
                json.dumps(
                    {
                        "event": "step",
                        "epoch": epoch,
                        "step": step,
                        "epoch_step": step - (epoch - 1) * 47 * 20,
                        "steps_per_epoch": 47 * 20,
                        "losses": losses,
                        "train_loss": losses[-1],
                        "samples_per_s": 9000.0,
                        "time": step / 450,
                    }
                )
            )
        lines.append(
            json.dumps(
                {
                    "event": "epoch",
                    "epoch": epoch,
                    "step": step,
                    "seconds": 6.7 * epoch,
                    "train_seconds": 6.0,
                    "train_loss": 0.5,
                    "val_loss": 0.45,
                    "val_accuracy": 0.8 + epoch / 100,
                }
            )
        )
    done = {
        "event": "done", "epochs": 5, "step": step, "train_loss": 0.5, "val_loss": 0.45,
        "val_accuracy": 0.85, "seconds": 33.5, "checkpoint": "checkpoints/last.pt",
    }  # fmt: skip
    lines.append(json.dumps(done))
    metrics = "\n".join(lines) + "\n"
    parsed = [ev.parse(json.loads(line)) for line in lines]
    assert all(parsed), "every synthetic event must be a whole event"
    brief = summary.from_events(e for e in parsed if e is not None)
    brief.metrics_bytes = len(metrics.encode())
    for index in range(count):
        folder = runs_dir / f"20260101-{index:06d}-mlp-{index % 9999:04x}"
        (folder / "checkpoints").mkdir(parents=True)
        (folder / "config.json").write_text(TrainConfig().to_json())
        (folder / "metrics.jsonl").write_text(metrics)
        (folder / "state.json").write_text(json.dumps({"state": "done", "message": ""}))
        (folder / "pid").write_text("1")
        if with_summary:
            (folder / "summary.json").write_text(brief.to_json())


def cli_seconds(home: Path) -> float:
    env = {**os.environ, "PYTORCH_TUTOR_HOME": str(home), "PYTHONPATH": str(REPO)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tutor", "runs"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - started


def screen_seconds(home: Path) -> float:
    env = {**os.environ, "PYTORCH_TUTOR_HOME": str(home), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-c", SCREEN_CHILD],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return float(proc.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        one, many, old = Path(tmp, "one"), Path(tmp, "many"), Path(tmp, "old")
        make_runs(one, 1, True)
        make_runs(many, args.runs, True)
        make_runs(old, args.runs, False)
        first_old = cli_seconds(old)  # builds the summaries
        cli_seconds(one), cli_seconds(many)  # warm the file cache alike
        figures: dict[str, list[float]] = {"cli1": [], "cliN": [], "scr1": [], "scrN": []}
        for _ in range(args.repeat):
            figures["cli1"].append(cli_seconds(one))
            figures["cliN"].append(cli_seconds(many))
            figures["scr1"].append(screen_seconds(one))
            figures["scrN"].append(screen_seconds(many))
        med = {k: statistics.median(v) for k, v in figures.items()}
        print(
            f"pytorch-tutor runs: 1 run {med['cli1']:.3f} s, {args.runs} runs {med['cliN']:.3f} s "
            f"= {med['cliN'] / med['cli1']:.2f}x"
        )
        print(
            f"runs screen, first row: 1 run {med['scr1']:.3f} s, {args.runs} runs "
            f"{med['scrN']:.3f} s = {med['scrN'] / med['scr1']:.2f}x"
        )
        print(
            f"{args.runs} old runs without summaries: first listing {first_old:.3f} s "
            f"(builds them), then {cli_seconds(old):.3f} s"
        )
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
