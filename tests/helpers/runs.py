"""Fake run folders, as a finished, stopped, failed or killed run leaves them (no process runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tutor.atomic import atomic_write_text
from tutor.training import events as ev
from tutor.training import runs
from tutor.training.config import TrainConfig


def _final(state: str, step: int, epochs: int) -> ev.Event:
    if state == "done":
        return ev.Done(epochs, step, 0.25, 0.3, 0.9, 3.0, "", message="")
    if state == "stopped":
        return ev.Stopped(epoch=epochs, step=step, message="")
    return ev.Failed(message="")


def fake_run(state: str | None = "done", epochs: int = 2, steps_per_epoch: int = 50) -> Path:
    """A run folder as a finished (or killed, with state None) run leaves it."""
    run_dir = runs.create_run(TrainConfig(model="mlp", epochs=epochs))
    lines: list[ev.Event] = [
        ev.Start(
            device="cpu, 1 thread",
            threads=1,
            model="mlp",
            model_summary="",
            model_on="cpu",
            data_on="cpu",
            where="model on cpu, data on cpu",
            trainable_parameters=1,
            dataset="fashion-mnist",
            data_source="",
            classes=[],
            n_train=steps_per_epoch * 64,
            n_test=100,
            steps_per_epoch=steps_per_epoch,
            epochs=epochs,
            batch_size=64,
            start_epoch=1,
            start_step=0,
        )
    ]
    step = 0
    for epoch in range(1, epochs + 1):
        for _ in range(steps_per_epoch // 10):
            step += 10
            losses = [2.0 / (step + i) ** 0.3 for i in range(10)]
            lines.append(
                ev.Step(
                    epoch=epoch,
                    step=step,
                    epoch_step=step - (epoch - 1) * steps_per_epoch,
                    steps_per_epoch=steps_per_epoch,
                    train_loss=sum(losses) / 10,
                    losses=losses,
                    samples_per_s=5000.0,
                    time=0.0,
                )
            )
        lines.append(
            ev.Epoch(
                epoch=epoch,
                step=step,
                train_loss=0.5 / epoch,
                val_loss=0.6 / epoch,
                val_accuracy=0.8 + 0.05 * epoch,
                seconds=1.5,
                train_seconds=1.4,
            )
        )
    if state:
        lines.append(_final(state, step, epochs))
        atomic_write_text(run_dir / "state.json", json.dumps({"state": state, "message": ""}))
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(ev.to_json(e)) + "\n" for e in lines))
    # A pid that surely is not a run process: a child that has already exited.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (run_dir / "pid").write_text(str(dead.pid))
    return run_dir
