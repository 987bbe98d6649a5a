"""What the screen snapshots are drawn from: fixed ids, clock, run metrics and a probe report.

Plain data and functions (no fixtures), used by this folder's conftest and its tests.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers.machines import cpu_report

from tutor import paths
from tutor.atomic import atomic_write_text
from tutor.training import events as ev
from tutor.training.config import TrainConfig

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
# A finished run, a later one that was stopped (so the step names the earlier run as reaching its
# goal), and one that failed: every state but running.
DONE_RUN = "20260302-084500-mlp-0a1b"
STOPPED_RUN = "20260302-091500-mlp-2c3d"
FAILED_RUN = "20260301-170000-cnn-4e5f"


def metrics(
    epochs: int, steps_per_epoch: int, stop_after: int | None = None
) -> list[dict[str, Any]]:
    """A run's events: losses falling from about 2.3 as a ten-class run's do, no randomness."""
    events: list[dict[str, Any]] = [
        {
            "event": "start",
            "device": "cpu, 1 thread of 2 cores (1 left free for the UI)",
            "threads": 1,
            "model": "mlp",
            "model_summary": "784-256-128-64-10, ReLU, LogSoftmax",
            "model_on": "cpu",
            "data_on": "cpu",
            "where": "model on cpu, data on cpu",
            "trainable_parameters": 242762,
            "dataset": "fashion-mnist",
            "data_source": "the bundled sample",
            "classes": [],
            "n_train": 60000,
            "n_test": 10000,
            "steps_per_epoch": steps_per_epoch,
            "epochs": epochs,
            "batch_size": 64,
            "start_epoch": 1,
            "start_step": 0,
        }
    ]
    step = 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps_per_epoch // 10):
            losses = [
                0.32 + 1.98 * math.exp(-(step + i) / 90) + 0.05 * math.sin(step + i)
                for i in range(10)
            ]
            step += 10
            events.append(
                {
                    "event": "step",
                    "epoch": epoch,
                    "step": step,
                    "epoch_step": step - (epoch - 1) * steps_per_epoch,
                    "steps_per_epoch": steps_per_epoch,
                    "train_loss": sum(losses) / 10,
                    "losses": losses,
                    "samples_per_s": 5120.0,
                    "time": step / 80,
                }
            )
        if stop_after is not None and epoch > stop_after:
            return events
        events.append(
            {
                "event": "epoch",
                "epoch": epoch,
                "step": step,
                "train_loss": 0.52 - 0.05 * epoch,
                "val_loss": 0.50 - 0.03 * epoch,
                "val_accuracy": 0.83 + 0.011 * epoch,
                "seconds": 9.5 * epoch,
                "train_seconds": 9.0,
            }
        )
    return events


def done_event(epochs: int, step: int) -> dict[str, Any]:
    """The final event of a finished run whose last epoch is the one ``metrics`` wrote."""
    return {
        "event": "done",
        "epochs": epochs,
        "step": step,
        "train_loss": 0.52 - 0.05 * epochs,
        "val_loss": 0.50 - 0.03 * epochs,
        "val_accuracy": 0.83 + 0.011 * epochs,
        "seconds": 9.5 * epochs,
        "checkpoint": "checkpoints/last.pt",
    }


def write_run(
    run_id: str, config: TrainConfig, events: list[dict[str, Any]], state: str, message: str = ""
) -> Path:
    """A run folder as a finished process leaves it (no live pid: the state file decides)."""
    for event in events:  # a partial event would be skipped by every reader: the picture lies
        assert ev.parse(event) is not None, event
    folder = paths.runs_dir() / run_id
    (folder / "checkpoints").mkdir(parents=True)
    atomic_write_text(folder / "config.json", config.to_json())
    (folder / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    atomic_write_text(folder / "state.json", json.dumps({"state": state, "message": message}))
    return folder


# The devices screen's fixed probe: the CPU-only machine every test starts on.
CPU_REPORT: dict[str, Any] = cpu_report()
