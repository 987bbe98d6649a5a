"""Run summaries: a listing reads summary.json, not the metrics; old or stale ones are rebuilt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tutor.training import runs, summary
from tutor.training.config import TrainConfig
from tutor.training.run import FileSink

EVENTS: list[dict[str, Any]] = [
    {"event": "start", "device": "cpu, 1 thread"},
    {"event": "step", "step": 20, "losses": [2.1]},
    {"event": "epoch", "epoch": 1, "train_loss": 1.5, "val_loss": 1.4, "val_accuracy": 0.61},
    {"event": "step", "step": 40, "losses": [1.2]},
    {"event": "epoch", "epoch": 2, "train_loss": 0.9, "val_loss": 0.8, "val_accuracy": 0.72},
    {"event": "done", "val_accuracy": 0.72},
]


def finished_run(write_summary: bool) -> Path:
    """A done run's folder, written as the run process writes it (or as an older version did)."""
    run_dir = runs.create_run(TrainConfig(epochs=2))
    if write_summary:
        sink = FileSink(run_dir / "metrics.jsonl")
        for event in EVENTS:
            sink.emit(dict(event))
        sink.write_summary()  # as the run does once its state.json is written
        sink.close()
    else:
        (run_dir / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in EVENTS))
    (run_dir / "state.json").write_text(json.dumps({"state": "done", "message": ""}))
    return run_dir


def no_metrics_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(run_dir: Path) -> list[dict[str, Any]]:
        raise AssertionError("the listing read the metrics file")

    monkeypatch.setattr(runs, "read_events", refuse)


def test_the_run_keeps_its_summary_and_the_listing_reads_only_that(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run_dir = finished_run(write_summary=True)
    stored = summary.read(run_dir)
    assert stored is not None
    assert stored.metrics_bytes == (run_dir / "metrics.jsonl").stat().st_size
    no_metrics_reading(monkeypatch)
    (info,) = runs.list_runs()
    assert (info.state, info.device, info.epoch) == ("done", "cpu, 1 thread", 2)
    assert (info.val_accuracy, info.train_loss) == (0.72, 0.9)


def test_a_run_without_a_summary_gets_one_built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    run_dir = finished_run(write_summary=False)
    assert summary.read(run_dir) is None
    first = runs.info(run_dir)
    assert (first.epoch, first.val_accuracy, first.device) == (2, 0.72, "cpu, 1 thread")
    stored = summary.read(run_dir)
    expected = summary.from_events(EVENTS)
    expected.metrics_bytes = (run_dir / "metrics.jsonl").stat().st_size
    assert stored == expected
    no_metrics_reading(monkeypatch)
    again = runs.info(run_dir)
    assert (again.epoch, again.val_accuracy) == (2, 0.72)


def test_events_after_the_summary_make_a_stopped_run_rebuild_it() -> None:
    run_dir = finished_run(write_summary=True)
    # Killed between appending an epoch and rewriting the summary: the metrics file is longer.
    with (run_dir / "metrics.jsonl").open("a") as metrics:
        metrics.write(json.dumps({"event": "epoch", "epoch": 3, "train_loss": 0.5}) + "\n")
    assert runs.info(run_dir).epoch == 3
    stored = summary.read(run_dir)
    assert stored is not None and stored.epoch == 3


@pytest.mark.parametrize("damage", ["{not json", '{"version": 99}', '{"version": 1, "odd": 2}'])
def test_a_damaged_summary_is_rebuilt(damage: str) -> None:
    run_dir = finished_run(write_summary=True)
    (run_dir / summary.FILE).write_text(damage)
    assert runs.info(run_dir).epoch == 2
    stored = summary.read(run_dir)
    assert stored is not None and stored.epoch == 2


def test_a_resume_rewrites_the_summary_with_the_kept_events() -> None:
    run_dir = finished_run(write_summary=True)
    sink = FileSink(run_dir / "metrics.jsonl")
    sink.truncate_after(step=20, next_epoch=2)
    sink.close()
    stored = summary.read(run_dir)
    assert stored is not None
    assert stored.epoch == 1 and stored.val_accuracy == 0.61
    assert stored.metrics_bytes == (run_dir / "metrics.jsonl").stat().st_size


def test_a_stopped_runs_message_comes_from_its_summary() -> None:
    run_dir = runs.create_run(TrainConfig(epochs=2))
    sink = FileSink(run_dir / "metrics.jsonl")
    sink.emit({"event": "start", "device": "cpu"})
    sink.emit({"event": "stopped", "step": 7, "message": "Stopped at step 7."})
    sink.write_summary()
    sink.close()
    (run_dir / "state.json").write_text(json.dumps({"state": "stopped", "message": ""}))
    assert runs.info(run_dir).message == "Stopped at step 7."
