"""Typed run events: their JSON keeps its keys and order, reads back to the same event, skips junk."""

from __future__ import annotations

import json

import pytest

from tutor.training import events as ev

# The JSON lines of metrics.jsonl, key by key, as runs have always written them.
SAMPLES: list[tuple[ev.Event, list[str]]] = [
    (ev.Notice("Using the sample.", at=1.0), ["event", "message", "at"]),
    (
        ev.Start(
            "cpu, 1 thread", 1, "mlp", "784-256-128-64-10", "cpu", "cpu", "model on cpu, data on cpu",
            242762, "fashion-mnist", "/data", ["T-shirt/top"], 5000, 1000, 79, 2, 64, 1, 0, at=2.0,
        ),
        [
            "event", "device", "threads", "model", "model_summary", "model_on", "data_on", "where",
            "trainable_parameters", "dataset", "data_source", "classes", "n_train", "n_test",
            "steps_per_epoch", "epochs", "batch_size", "start_epoch", "start_step", "at",
        ],
    ),
    (ev.Resume(2, 13, at=3.0), ["event", "epoch", "step", "at"]),
    (
        ev.Step(1, 20, 20, 79, 1.36, [1.5, 1.2], 32791.0, 1.04, at=4.0),
        [
            "event", "epoch", "step", "epoch_step", "steps_per_epoch", "train_loss", "losses",
            "samples_per_s", "time", "at",
        ],
    ),
    (
        ev.Epoch(1, 79, 0.91, 0.66, 0.738, 0.13, 0.12, at=5.0),
        [
            "event", "epoch", "step", "train_loss", "val_loss", "val_accuracy", "seconds",
            "train_seconds", "at",
        ],
    ),
    (
        ev.Done(2, 158, 0.61, 0.56, 0.786, 1.27, "/runs/r/checkpoints/last.pt", message="", at=6.0),
        [
            "event", "epochs", "step", "train_loss", "val_loss", "val_accuracy", "seconds",
            "checkpoint", "message", "at",
        ],
    ),
    (
        ev.Stopped(epoch=1, step=7, checkpoint="/c", seconds=0.5, message="Stopped", at=7.0),
        ["event", "epoch", "step", "checkpoint", "seconds", "message", "at"],
    ),
    (
        ev.Stopped(checkpoint=None, seconds=0.1, message="Stopped while loading", at=8.0),
        ["event", "checkpoint", "seconds", "message", "at"],
    ),
    (ev.Failed("The loss became nan", at=9.0), ["event", "message", "at"]),
]  # fmt: skip


@pytest.mark.parametrize(("event", "keys"), SAMPLES, ids=[e.kind for e, _ in SAMPLES])
def test_json_keys_and_order_stay_and_read_back(event: ev.Event, keys: list[str]) -> None:
    line = json.dumps(ev.to_json(event))
    assert list(json.loads(line)) == keys
    assert ev.parse(json.loads(line)) == event
    assert "losses" not in ev.cli_json(event)
    assert [k for k in keys if k != "losses"] == list(ev.cli_json(event))


def test_a_done_run_without_epochs_keeps_its_nulls() -> None:
    done = ev.Done(3, 30, None, None, None, 0.1, "/c")
    assert ev.to_json(done)["train_loss"] is None and "message" not in ev.to_json(done)


def test_unsaved_travels_with_the_final_event() -> None:
    unsaved = ev.Unsaved(["checkpoint"], "finished, but ...", "the disk is full", "ENOSPC", 1, "m")
    failed = ev.Failed("m", epochs=3, step=21, checkpoint="/c", unsaved=unsaved)
    raw = json.loads(json.dumps(ev.to_json(failed)))
    assert raw["unsaved"]["errno"] == "ENOSPC"
    assert ev.parse(raw) == failed


@pytest.mark.parametrize(
    "raw",
    [
        {"event": "warp"},
        {"event": "epoch", "epoch": 1},  # required fields missing
        ["not", "an", "object"],
        {"message": "no kind"},
    ],
)
def test_unknown_or_incomplete_lines_are_skipped(raw: object) -> None:
    assert ev.parse(raw) is None


def test_keep_on_resume_drops_what_came_after_the_checkpoint() -> None:
    step = ev.Step(2, 20, 7, 13, 1.0, [1.0], 1.0, 1.0)
    epoch = ev.Epoch(2, 26, 1.0, 1.0, 0.5, 1.0, 1.0)
    assert not ev.keep_on_resume(step, step=13, next_epoch=2)
    assert ev.keep_on_resume(step, step=20, next_epoch=2)
    assert not ev.keep_on_resume(epoch, step=26, next_epoch=2)
    assert ev.keep_on_resume(ev.Notice("x"), step=0, next_epoch=1)
    assert not ev.keep_on_resume(ev.Done(2, 26, 1.0, 1.0, 0.5, 1.0, "/c"), step=26, next_epoch=3)


def test_a_step_tells_its_speed_per_rank_and_in_all() -> None:
    step = ev.Step(1, 10, 10, 50, 0.5, [0.5], 1234.4, 2.0)
    assert step.rate() == "1,234 samples/s"
    assert step.rate(1) == "1,234 samples/s"
    assert step.rate(4) == "4,938 samples/s (4 ranks × 1,234)"
