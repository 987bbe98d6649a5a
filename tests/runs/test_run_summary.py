"""Run summaries: a listing reads summary.json, not the metrics; old or stale ones are rebuilt."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from tutor.training import events as ev
from tutor.training import runs, summary
from tutor.training.config import TrainConfig
from tutor.training.streams import FileSink


def _start(device: str) -> ev.Start:
    return ev.Start(
        device=device, threads=1, model="mlp", model_summary="", model_on="cpu", data_on="cpu",
        where="", trainable_parameters=1, dataset="fashion-mnist", data_source="", classes=[],
        n_train=40, n_test=10, steps_per_epoch=20, epochs=2, batch_size=2, start_epoch=1,
        start_step=0,
    )  # fmt: skip


def _step(epoch: int, step: int, loss: float) -> ev.Step:
    return ev.Step(epoch, step, step - 20 * (epoch - 1), 20, loss, [loss], 100.0, 0.1)


def _epoch(epoch: int, train_loss: float, val_loss: float, accuracy: float) -> ev.Epoch:
    return ev.Epoch(epoch, 20 * epoch, train_loss, val_loss, accuracy, 1.0, 0.9)


EVENTS: list[ev.Event] = [
    _start("cpu, 1 thread"),
    _step(1, 20, 2.1),
    _epoch(1, 1.5, 1.4, 0.61),
    _step(2, 40, 1.2),
    _epoch(2, 0.9, 0.8, 0.72),
    ev.Done(2, 40, 0.9, 0.8, 0.72, 2.0, "last.pt"),
]


def finished_run(write_summary: bool) -> Path:
    """A done run's folder, written as the run process writes it (or as an older version did)."""
    run_dir = runs.create_run(TrainConfig(epochs=2))
    if write_summary:
        sink = FileSink(run_dir / "metrics.jsonl")
        for event in EVENTS:
            sink.emit(copy.copy(event))
        sink.write_summary()  # as the run does once its state.json is written
        sink.close()
    else:
        (run_dir / "metrics.jsonl").write_text(
            "".join(json.dumps(ev.to_json(e)) + "\n" for e in EVENTS)
        )
    (run_dir / "state.json").write_text(json.dumps({"state": "done", "message": ""}))
    return run_dir


def no_metrics_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(run_dir: Path) -> list[ev.Event]:
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
        metrics.write(json.dumps(ev.to_json(_epoch(3, 0.5, 0.6, 0.8))) + "\n")
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
    sink.emit(_start("cpu"))
    sink.emit(ev.Stopped(step=7, message="Stopped at step 7."))
    sink.write_summary()
    sink.close()
    (run_dir / "state.json").write_text(json.dumps({"state": "stopped", "message": ""}))
    assert runs.info(run_dir).message == "Stopped at step 7."
