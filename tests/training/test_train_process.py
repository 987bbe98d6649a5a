"""Runs as real processes through the CLI: JSON events, stop, kill -9 and resume, usage errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.runs import fake_run
from helpers.waiting import wait_for

from tutor.cli import main, train_cmd
from tutor.training import checkpoint, runs
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.events import ListSink
from tutor.training.trainer import train

# The tiny generated dataset in the data root, offline, no system copy (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("tiny_data")


def events(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [ev.to_json(e) for e in runs.read_events(run_dir) if e.kind == kind]


def test_json_events_and_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "mlp", "--epochs", "2", "--batch-size", "20", "--device", "cpu", "--json"]
    assert main(args) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    epochs = [e for e in lines if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    for event in epochs:
        assert {"epoch", "train_loss", "val_loss", "val_accuracy", "seconds"} <= event.keys()
    assert lines[-1]["event"] == "done"
    assert lines[-1]["val_accuracy"] == epochs[-1]["val_accuracy"]
    start = next(e for e in lines if e["event"] == "start")
    assert start["device"].startswith("cpu, ")
    run_dir = runs.find_run("last")
    assert runs.run_state(run_dir) == ("done", "")
    for name in ("config.json", "metrics.jsonl", "heartbeat", "pid", "log", "state.json"):
        assert (run_dir / name).is_file(), name
    assert torch.load(runs.checkpoint_path(run_dir), weights_only=True)["epoch"] == 3


def test_plain_output_has_epochs_and_a_chart(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "mnist-mlp", "--epochs", "1", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "epoch 1/1  train loss" in out
    assert "train loss" in out and "smoothed" in out  # the chart's legend
    assert "\x1b[" not in out  # no colour codes when not a terminal
    assert "Done: train loss" in out


def test_stop_then_kill_9_then_resume_match_an_uninterrupted_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = TrainConfig(
        model="mlp-dropout",
        epochs=3,
        batch_size=16,
        device="cpu",
        threads=1,
        log_every=2,
        step_delay=0.05,
    )
    reference = TrainConfig.from_dict({**config.to_dict(), "step_delay": 0.0})
    train(reference, tmp_path / "reference.pt", ListSink())

    run_dir = runs.create_run(config)
    runs.start(run_dir)
    wait_for(lambda: len(events(run_dir, "step")) >= 2, "the first steps")
    assert main(["runs", "stop", run_dir.name]) == 0
    assert runs.run_state(run_dir)[0] == "stopped"
    stopped_at = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))
    assert stopped_at["epoch"] == 1 and 0 < stopped_at["step_in_epoch"] < 13

    assert main(["train", "--resume", run_dir.name, "--detach"]) == 0
    wait_for(lambda: any(e["epoch"] == 2 for e in events(run_dir, "step")), "a step of epoch 2")
    pid = int((run_dir / "pid").read_text())
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: runs.run_state(run_dir)[0] == "failed", "the killed run to count as failed")
    assert "resume" in runs.run_state(run_dir)[1]

    capsys.readouterr()
    assert main(["train", "--resume", "last", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0] == {**lines[0], "event": "resume", "epoch": 2, "step": 13}
    assert lines[-1]["event"] == "done"
    assert [e["epoch"] for e in events(run_dir, "epoch")] == [1, 2, 3]

    ours = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))["model"]
    theirs = checkpoint.load_checkpoint(tmp_path / "reference.pt")["model"]
    for key in theirs:
        assert torch.equal(ours[key], theirs[key]), key


def test_usage_errors_list_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "resnet"]) == 2
    assert "mlp, mlp-dropout, mnist-mlp, cnn, transfer" in capsys.readouterr().err
    assert main(["train", "mlp", "--dataset", "cifar"]) == 2
    assert "fashion-mnist, mnist, image-folder" in capsys.readouterr().err
    assert main(["train", "mlp", "--device", "tpu"]) == 2
    assert "auto, cpu, cuda" in capsys.readouterr().err
    assert main(["train"]) == 2
    assert "name a model" in capsys.readouterr().err
    assert main(["train", "--resume", "nothing-like-this"]) == 2
    assert runs.list_runs() == []  # none of these started a run


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "mlp", "--device", "cuda"]) == 2
    err = capsys.readouterr().err
    assert "CUDA is not available" in err and "Traceback" not in err


def test_list_names_models_and_datasets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--list", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert list(listing["models"]) == ["mlp", "mlp-dropout", "mnist-mlp", "cnn", "transfer"]
    assert list(listing["datasets"]) == ["fashion-mnist", "mnist", "image-folder"]
    assert main(["train", "--list"]) == 0
    assert "784-256-128-64-10" in capsys.readouterr().out


def test_train_does_not_import_torch_in_its_own_process(tmp_path: Path) -> None:
    code = (
        "import sys; from tutor.cli import main; "
        "status = main(['train', 'mnist-mlp', '--epochs', '1', '--device', 'cpu', '--json']); "
        "print('TORCH', 'torch' in sys.modules, status)"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "TORCH False 0"
    assert json.loads(lines[-2])["event"] == "done"  # the run trained, in its own process


# --- --resume; Ctrl+C while following ------------------------------------------------------------


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


def interrupt_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    from tutor.training.metrics_follower import MetricsFollower

    def poll(self: MetricsFollower) -> tuple[list[dict[str, Any]], bool]:
        raise KeyboardInterrupt

    monkeypatch.setattr(MetricsFollower, "poll", poll)


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
    run_dir = runs.create_run(
        TrainConfig(
            model="mlp",
            epochs=50,
            batch_size=16,
            device="cpu",
            threads=1,
            log_every=4,
            step_delay=0.05,
        )
    )
    runs.start(run_dir)
    wait_for(
        lambda: any(isinstance(e, ev.Step) for e in runs.read_events(run_dir)),
        "the run's first step",
    )
    interrupt_polls(monkeypatch)
    assert train_cmd.follow(run_dir, as_json=False) == 1
    err = capsys.readouterr().err
    assert "stopped with a checkpoint" in err and f"runs show {run_dir.name}" in err
    assert runs.run_state(run_dir)[0] == "stopped"
    assert runs.checkpoint_path(run_dir).is_file()
