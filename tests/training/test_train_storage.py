"""Runs on storage that fails: what was not saved is said (state, final event, ``runs``), never hidden.

Unit tests inject ENOSPC, EDQUOT, EROFS, EACCES and EIO into the checkpoint writer and the run
folder's metrics; the last tests use a real full file system (a small tmpfs, when running as root).
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.fulldisk import small_tmpfs

from tutor import paths
from tutor.cli import main
from tutor.training import checkpoint, run_process, runs
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.streams import Echo, FileSink, PipeReader

REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "there is no permission to write there",
    errno.EIO: "the disk reported an I/O error",
}


# The tiny generated dataset in the data root, offline, no system copy (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("tiny_data")


@pytest.fixture(autouse=True)
def signals_put_back() -> Iterator[None]:
    """The run process's main, called here in-process, takes SIGTERM, SIGINT and SIGHUP over."""
    import signal

    kept = {
        number: signal.getsignal(number)
        for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    yield
    for number, handler in kept.items():
        signal.signal(number, handler)


def tiny(**overrides: Any) -> TrainConfig:
    settings: dict[str, Any] = {
        "model": "mnist-mlp",
        "epochs": 3,
        "batch_size": 32,
        "device": "cpu",
        "threads": 1,
        "log_every": 4,
    }
    settings.update(overrides)
    return TrainConfig(**settings)


def fail_checkpoints_from(monkeypatch: pytest.MonkeyPatch, code: int, next_epoch: int = 3) -> None:
    """Checkpoint writes fail with ``code`` once they would hold epochs up to next_epoch - 1."""
    real_save = torch.save

    def save(obj: Any, handle: Any, *args: Any, **kwargs: Any) -> None:
        if isinstance(obj, dict) and obj.get("epoch", 0) >= next_epoch:
            handle.write(b"part of a checkpoint")
            raise OSError(code, os.strerror(code))
        real_save(obj, handle, *args, **kwargs)

    monkeypatch.setattr(torch, "save", save)


def run_in_process(config: TrainConfig, *extra: str) -> tuple[int, Path]:
    run_dir = runs.create_run(config)
    return run_process.main([str(run_dir), *extra]), run_dir


# --- the checkpoint writer ------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(REASONS))
def test_checkpoint_errors_are_classified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    path = tmp_path / "checkpoints" / "last.pt"
    fail_checkpoints_from(monkeypatch, code, next_epoch=0)
    with pytest.raises(checkpoint.CheckpointError, match="previous one is intact") as caught:
        checkpoint.save_checkpoint(path, {"epoch": 1})
    problem = caught.value.problem
    assert problem is not None
    assert problem.errno == errno.errorcode[code] and problem.reason == REASONS[code]
    assert REASONS[code] in str(caught.value) and str(path.parent) in str(caught.value)
    assert not list(path.parent.iterdir())  # no temp file left behind


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS])
def test_final_model_not_saved_fails_the_run_and_says_what_was_lost(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int
) -> None:
    fail_checkpoints_from(monkeypatch, code)
    status, run_dir = run_in_process(tiny())
    assert status == 1
    state, message = runs.run_state(run_dir)
    assert state == "failed"
    assert f"Training finished, but nothing after epoch 1 was saved: {REASONS[code]}" in message
    assert f"pytorch-tutor train --resume {run_dir.name}` continues from epoch 2" in message
    final = runs.read_events(run_dir)[-1]
    assert isinstance(final, ev.Failed) and final.unsaved is not None
    assert final.unsaved.what == ["checkpoint"] and final.unsaved.saved_epoch == 1
    assert final.unsaved.errno == errno.errorcode[code]
    assert final.epochs == 3 and final.val_accuracy is not None  # what training reached
    # Every epoch was reported, and the run went on after the failed writes.
    assert [e.epoch for e in runs.read_events(run_dir) if isinstance(e, ev.Epoch)] == [1, 2, 3]
    info = runs.info(run_dir)
    assert info.unsaved is not None
    assert info.unsaved.summary == f"finished, but nothing after epoch 1 was saved: {REASONS[code]}"
    assert checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))["epoch"] == 2
    capsys.readouterr()
    assert main(["runs"]) == 0
    assert (
        f"finished, but nothing after epoch 1 was saved: {REASONS[code]}" in capsys.readouterr().out
    )
    assert main(["runs", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)["runs"]
    assert listed["state"] == "failed" and listed["unsaved"]["errno"] == errno.errorcode[code]


def test_resume_after_space_is_freed_continues_from_the_last_checkpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_save = torch.save
    fail_checkpoints_from(monkeypatch, errno.ENOSPC)
    status, run_dir = run_in_process(tiny())
    assert status == 1
    monkeypatch.setattr(torch, "save", real_save)  # space was freed
    assert run_process.main([str(run_dir), "--resume"]) == 0
    assert runs.run_state(run_dir) == ("done", "")
    events = runs.read_events(run_dir)
    resumed = next(e for e in events if isinstance(e, ev.Resume))
    assert (resumed.epoch, resumed.step) == (2, 7)  # 200 images in batches of 32: 7 per epoch
    assert [e.epoch for e in events if isinstance(e, ev.Epoch)] == [1, 2, 3]
    assert runs.info(run_dir).unsaved is None
    assert checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))["epoch"] == 4


def test_a_stop_whose_checkpoint_fails_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    fail_checkpoints_from(monkeypatch, errno.EDQUOT, next_epoch=0)
    run_dir = runs.create_run(tiny(epochs=1))
    stop_after_the_first_step(monkeypatch)
    assert run_process.main([str(run_dir)]) == 0
    state, message = runs.run_state(run_dir)
    assert state == "stopped"
    assert "Training stopped, but its model was not saved: the disk quota is exceeded" in message
    final = runs.read_events(run_dir)[-1]
    assert isinstance(final, ev.Stopped) and final.unsaved is not None
    assert final.unsaved.errno == "EDQUOT"


def stop_after_the_first_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next run stop after its first step, as SIGTERM would."""
    from tutor.training import loop, trainer

    real = loop.train_epoch

    def train_epoch(*args: Any, **kwargs: Any) -> int:
        args[8].set()  # the stop event
        return real(*args, **kwargs)

    monkeypatch.setattr(trainer, "train_epoch", train_epoch)


# --- the run folder's metrics ---------------------------------------------------------------------


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO])
def test_metrics_that_cannot_be_written_still_reach_the_pipe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    failing = {"on": True}
    real_write = FileSink._write

    def write(self: FileSink, fd: int, data: bytes) -> int:
        if failing["on"]:
            raise OSError(code, os.strerror(code))
        return real_write(self, fd, data)

    monkeypatch.setattr(FileSink, "_write", write)
    read_fd, write_fd = os.pipe()
    sink = FileSink(tmp_path / "metrics.jsonl", Echo(write_fd))
    sink.emit(ev.Notice("first"))
    sink.emit(ev.Resume(epoch=1, step=0))
    assert sink.problem is not None and sink.problem.reason == REASONS[code]
    assert (tmp_path / "metrics.jsonl").read_text() == ""
    reader = PipeReader(read_fd)
    heard, _ = reader.poll(1.0)
    assert [type(e) for e in heard] == [ev.Notice, ev.Notice, ev.Resume]
    assert REASONS[code] in heard[1].message  # the follower is told at once
    failing["on"] = False  # room again: what waited is written, in order
    sink.emit(ev.Notice("third"))
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [line["event"] for line in lines] == ["notice", "resume", "notice"]
    sink.close()
    assert sink.echo is not None
    sink.echo.close()
    reader.close()


def test_metrics_not_written_but_model_saved_ends_done_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_write = FileSink._write

    def write(self: FileSink, fd: int, data: bytes) -> int:
        # From epoch 2's first line on, until the run ends (its final event finds room).
        final = b'"event": "done"' in data
        if not final and (self.problem is not None or b'"epoch": 2' in data):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, fd, data)

    monkeypatch.setattr(FileSink, "_write", write)
    status, run_dir = run_in_process(tiny())
    assert status == 0
    state, message = runs.run_state(run_dir)
    assert state == "done"
    assert "the metrics after epoch 1 were not saved: the disk is full" in message
    unsaved = runs.info(run_dir).unsaved
    assert unsaved is not None and unsaved.what == ["metrics"]


# --- a real full file system ----------------------------------------------------------------------


@pytest.fixture
def small_disk(tutor_env: Path) -> Iterator[Path]:
    """The tutor home on a 3 MB tmpfs (root only); unmounted afterwards."""
    with small_tmpfs(tutor_env):
        yield tutor_env


def checkpoint_size(tmp_path: Path, config: TrainConfig) -> int:
    """The size of this config's checkpoint, measured off the small disk."""
    from tutor.training.events import ListSink
    from tutor.training.trainer import train

    path = tmp_path / "measure" / "last.pt"
    train(TrainConfig.from_dict({**config.to_dict(), "epochs": 1}), path, ListSink())
    return path.stat().st_size


def fill(disk: Path, leave: int) -> Path:
    """A file that takes all but ``leave`` bytes of the disk."""
    filler = disk / "filler"
    size = max(0, paths_free(disk) - leave)
    with filler.open("wb") as handle:
        handle.write(os.urandom(size))
    return filler


def paths_free(folder: Path) -> int:
    import shutil

    return shutil.disk_usage(folder).free


def test_train_json_on_a_full_disk(
    small_disk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train", "mnist-mlp", "--epochs", "3", "--batch-size", "32", "--device", "cpu"]
    size = checkpoint_size(tmp_path, tiny())
    paths.runs_dir().mkdir(parents=True, exist_ok=True)
    # Room for one checkpoint and the small files, not for the temp file of a second one.
    filler = fill(small_disk, size + size // 2)
    assert main([*args, "--json"]) == 1
    out, err = capsys.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert [e["epoch"] for e in lines if e["event"] == "epoch"] == [1, 2, 3]
    final = lines[-1]
    assert final["event"] == "failed"
    assert final["unsaved"]["what"] == ["checkpoint"] and final["unsaved"]["errno"] == "ENOSPC"
    assert (
        "Training finished, but nothing after epoch 1 was saved: the disk is full"
        in final["message"]
    )
    assert "nothing after epoch 1 was saved" in err
    assert main(["runs"]) == 0
    listing = capsys.readouterr().out
    assert "failed" in listing
    assert "finished, but nothing after epoch 1 was saved: the disk is full" in listing
    assert main(["runs", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["state"] == "failed" and run["unsaved"]["saved_epoch"] == 1

    filler.unlink()  # space is freed: resume continues from the checkpoint of epoch 1
    assert main(["train", "--resume", "last", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {**lines[0], "event": "resume", "epoch": 2, "step": 7}
    assert [e["epoch"] for e in lines if e["event"] == "epoch"] == [2, 3]
    assert lines[-1]["event"] == "done" and "unsaved" not in lines[-1]


def test_train_json_on_a_disk_with_no_room_for_metrics(
    small_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths.runs_dir().mkdir(parents=True, exist_ok=True)
    fill(small_disk, 48 * 1024)  # config, pid and heartbeat fit; checkpoints and metrics do not
    args = ["train", "mnist-mlp", "--epochs", "2", "--batch-size", "32", "--device", "cpu"]
    assert main([*args, "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    # Every event still reached the output, through the run's pipe.
    assert [e["epoch"] for e in lines if e["event"] == "epoch"] == [1, 2]
    final = lines[-1]
    assert final["event"] == "failed" and final["unsaved"]["saved_epoch"] == 0
    assert final["unsaved"]["what"] == ["checkpoint", "metrics"]
    assert "Training finished, but its model was not saved: the disk is full" in final["message"]
    assert main(["runs", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)["runs"]
    assert run["state"] == "failed"
