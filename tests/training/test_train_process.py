"""Runs as real processes through the CLI: JSON events, stop, kill -9 and resume, usage errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from helpers.tiny_data import write_tiny_fashion_mnist

from tutor import paths
from tutor.cli import main
from tutor.training import checkpoint, data, runs
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.events import ListSink
from tutor.training.trainer import train


@pytest.fixture(autouse=True)
def tiny_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    return write_tiny_fashion_mnist(paths.data_root())


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll until ``condition`` holds; a loaded CI machine may take a while to start torch."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


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
