"""Training edge cases: stopping before the first step, the pretrained base's file, the CLI's
--data-root and --resume options, and Ctrl+C while following a run."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.runs import fake_run
from helpers.tiny_data import write_tiny_fashion_mnist

from tutor import paths
from tutor.cli import main, train_cmd
from tutor.training import data, runs
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.events import ListSink
from tutor.training.trainer import train


@pytest.fixture(autouse=True)
def tiny_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    return write_tiny_fashion_mnist(paths.data_root())


def tiny(**overrides: Any) -> TrainConfig:
    settings: dict[str, Any] = {
        "model": "mlp",
        "epochs": 1,
        "batch_size": 16,
        "device": "cpu",
        "threads": 1,
        "log_every": 4,
    }
    settings.update(overrides)
    return TrainConfig(**settings)


# --- stopping before the first step ---------------------------------------------------------------


def test_stop_while_loading_the_data_ends_stopped_before_any_step(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()  # as if SIGTERM came while the dataset loaded
    sink = ListSink()
    final = train(tiny(), tmp_path / "last.pt", sink, stop)
    assert isinstance(final, ev.Stopped)
    assert "loading the data" in final.message
    assert not [e for e in sink.events if isinstance(e, (ev.Step, ev.Start))]
    assert not (tmp_path / "last.pt").exists()


class StopAfterFirstPretrainingEpoch(ListSink):
    """Asks for a stop as soon as the base's first pretraining epoch is reported."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop

    def emit(self, event: ev.Event) -> None:
        super().emit(event)
        if isinstance(event, ev.Notice) and "Pretraining the base: epoch 1/" in event.message:
            self.stop.set()


def test_stop_between_pretraining_epochs_ends_stopped(tmp_path: Path) -> None:
    stop = threading.Event()
    sink = StopAfterFirstPretrainingEpoch(stop)
    final = train(tiny(model="transfer"), tmp_path / "last.pt", sink, stop)
    assert isinstance(final, ev.Stopped)
    assert "pretraining the base (epoch 2)" in final.message
    notices = [e.message for e in sink.of(ev.Notice)]
    assert not any("epoch 2/" in text for text in notices)
    assert not (paths.home_dir() / "pretrained" / "cnn-fashion-mnist.pt").exists()
    assert not sink.of(ev.Step)


def test_pretrained_base_uses_a_temp_file_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    folder = paths.home_dir() / "pretrained"
    # Another run's temp file under the old fixed name is in the way (here a folder, to fail loudly).
    (folder / ".cnn-fashion-mnist.pt.tmp").mkdir(parents=True)
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    final = train(tiny(model="transfer"), tmp_path / "last.pt", ListSink())
    assert isinstance(final, ev.Done)
    assert (folder / "cnn-fashion-mnist.pt").is_file()
    assert synced  # flushed to disk before the rename
    leftovers = sorted(p.name for p in folder.iterdir())
    assert leftovers == [".cnn-fashion-mnist.pt.tmp", "cnn-fashion-mnist.pt"]


# --- --data-root ---------------------------------------------------------------------------------


def test_missing_data_root_is_a_usage_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nonexistent"
    assert main(["train", "mlp", "--data-root", str(missing), "--detach"]) == 2
    err = capsys.readouterr().err
    assert f"--data-root {missing} does not exist; create it or leave the option out" in err
    assert not missing.exists()
    assert not list(paths.runs_dir().iterdir())  # no run was made


def test_data_functions_never_create_a_missing_explicit_root(tmp_path: Path) -> None:
    missing = tmp_path / "nonexistent"
    root, notice = data.resolve_fashion_mnist(str(missing))
    assert notice == data.SAMPLE_NOTICE and root != missing
    with pytest.raises(data.DataUnavailable, match="does not exist"):
        data.image_folder_root(str(missing))
    assert not missing.exists()


def test_environment_data_root_is_still_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "fresh-root"
    monkeypatch.setenv(paths.DATA_ENV, str(fresh))
    data.resolve_fashion_mnist()
    assert (fresh / "FashionMNIST" / "raw").is_dir()


# --- --resume ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--lr", "0.1"], "--lr cannot change when resuming; start a new run"),
        (["--batch-size", "8"], "--batch-size cannot"),
        (["--optimizer", "sgd"], "--optimizer cannot"),
        (["--seed", "1"], "--seed cannot"),
        (["--dataset", "mnist"], "--dataset cannot"),
        (["--seed", "1", "--lr", "0.5"], "--lr and --seed cannot change"),
    ],
)
def test_resume_refuses_options_it_cannot_apply(
    flags: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = fake_run("stopped")
    before = (run_dir / "config.json").read_text()
    assert main(["train", "--resume", run_dir.name, *flags, "--detach"]) == 2
    assert named in capsys.readouterr().err
    assert (run_dir / "config.json").read_text() == before


def test_resume_applies_device_and_epochs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = fake_run("stopped")
    config = runs.load_config(run_dir)
    config.device = "cuda"  # as if it had started on a GPU machine
    (run_dir / "config.json").write_text(config.to_json())
    started: list[tuple[Path, bool]] = []

    def start(run_dir: Path, resume: bool = False, echo_fd: int | None = None) -> int:
        started.append((run_dir, resume))
        return 42

    monkeypatch.setattr(runs, "start", start)
    # Unchanged values of the fixed options are fine.
    args = ["train", "--resume", run_dir.name, "--device", "cpu", "--epochs", "4", "--lr", "0.003"]
    assert main([*args, "--detach"]) == 0
    assert started == [(run_dir, True)]
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["device"] == "cpu" and saved["epochs"] == 4 and saved["lr"] == 0.003


def test_resume_as_another_model_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = fake_run("stopped")
    assert main(["train", "cnn", "--resume", run_dir.name]) == 2
    assert "cannot resume as cnn" in capsys.readouterr().err


# --- Ctrl+C while following ------------------------------------------------------------------------


def interrupt_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    def poll(self: runs.MetricsFollower) -> tuple[list[dict[str, Any]], bool]:
        raise KeyboardInterrupt

    monkeypatch.setattr(runs.MetricsFollower, "poll", poll)


def test_ctrl_c_after_the_run_finished_exits_0(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = fake_run("done")
    interrupt_polls(monkeypatch)
    assert train_cmd.follow(run_dir, as_json=False) == 0
    err = capsys.readouterr().err
    assert f"had already finished; see it with `pytorch-tutor runs show {run_dir.name}`" in err


def test_ctrl_c_stops_a_running_run_with_a_checkpoint_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = runs.create_run(tiny(epochs=50, step_delay=0.05))
    runs.start(run_dir)
    deadline = time.monotonic() + 120
    while not any(isinstance(e, ev.Step) for e in runs.read_events(run_dir)):
        assert time.monotonic() < deadline, "the run never took a step"
        time.sleep(0.05)
    interrupt_polls(monkeypatch)
    assert train_cmd.follow(run_dir, as_json=False) == 1
    err = capsys.readouterr().err
    assert "stopped with a checkpoint" in err and f"runs show {run_dir.name}" in err
    assert runs.run_state(run_dir)[0] == "stopped"
    assert runs.checkpoint_path(run_dir).is_file()
