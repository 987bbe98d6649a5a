"""A run on several ranks outlives what can go wrong around it: its supervisor killed with -9, and
a multi-machine run stopped and resumed where only node 0 holds the checkpoint.

Real torchrun and DDP on the CPU with gloo, one thread per rank, on the tiny dataset.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from helpers.tiny_data import write_tiny_fashion_mnist
from helpers.waiting import wait_for

from tutor import paths
from tutor.cli import main
from tutor.distributed.env import free_port
from tutor.distributed.launch import LaunchOptions
from tutor.training import checkpoint, data, runs
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.rank_files import RunLaunch, write_launch

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def tiny(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    return write_tiny_fashion_mnist(paths.data_root())


def slow_config() -> TrainConfig:
    # 200 images, 2 ranks, batches of 2: 50 steps per epoch, slowed so a test can act mid-epoch.
    return TrainConfig(
        model="mlp", epochs=2, batch_size=2, device="cpu", log_every=2, step_delay=0.05
    )


def of_kind(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [ev.to_json(e) for e in runs.read_events(run_dir) if e.kind == kind]


def epochs(run_dir: Path) -> list[tuple[int, float, float]]:
    return [(e["epoch"], e["val_loss"], e["val_accuracy"]) for e in of_kind(run_dir, "epoch")]


def processes_of(run_dir: Path) -> list[int]:
    """The pids whose command line names the run folder: torchrun and its ranks."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if str(run_dir).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def ended(run_dir: Path) -> bool:
    return (run_dir / "state.json").is_file()


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="lists processes through /proc")
def test_a_killed_supervisor_leaves_no_rank_behind_and_the_run_resumes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run_dir = runs.create_run(slow_config())
    write_launch(run_dir, RunLaunch(LaunchOptions(nproc_per_node=2), "cpu"))
    supervisor = runs.start(run_dir)
    wait_for(lambda: len(of_kind(run_dir, "step")) >= 2, "the first steps")
    below = [pid for pid in processes_of(run_dir) if pid != supervisor]
    assert len(below) == 3, below  # torchrun and two ranks

    os.kill(supervisor, signal.SIGKILL)
    seen = set()

    def watched_until_ended() -> bool:
        seen.add(runs.run_state(run_dir)[0])
        return ended(run_dir)

    wait_for(watched_until_ended, "the ranks to end the run themselves")
    assert seen == {"running", "stopped"}  # never "failed" while the ranks were saving
    state, message = runs.run_state(run_dir)
    assert state == "stopped", (run_dir / "log").read_text()[-2000:]
    assert message.startswith(f"The run lost its supervisor (pid {supervisor})"), message
    wait_for(lambda: not any(alive(pid) for pid in below), "torchrun and the ranks to exit")
    saved = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))
    assert saved["epoch"] == 1 and 0 < saved["step_in_epoch"] < 50
    assert json.loads((run_dir / "state.json").read_text())["state"] == "stopped"

    assert main(["train", "--resume", run_dir.name, "--json"]) == 0
    assert runs.run_state(run_dir)[0] == "done"
    assert [e[0] for e in epochs(run_dir)] == [1, 2]


def test_a_two_node_run_stops_together_and_resumes_from_node_0s_checkpoint(
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint = f"127.0.0.1:{free_port()}"
    nodes = []
    for node_rank in (0, 1):
        run_dir = runs.create_run(slow_config())
        options = LaunchOptions(
            nproc_per_node=1, nnodes=2, node_rank=node_rank, rdzv_endpoint=endpoint
        )
        write_launch(run_dir, RunLaunch(options, "cpu", rdzv_timeout=120))
        runs.start(run_dir)
        nodes.append(run_dir)
    node0, node1 = nodes
    wait_for(lambda: len(of_kind(node0, "step")) >= 2, "the first steps")

    assert runs.stop(node0, wait_s=60.0)  # a stop on node 0 stops every rank, node 1's too
    wait_for(lambda: ended(node1), "node 1 to stop with node 0")
    assert runs.run_state(node0)[0] == "stopped", (node0 / "log").read_text()[-2000:]
    state, message = runs.run_state(node1)
    assert state == "stopped", (node1 / "log").read_text()[-2000:]
    assert "node 0 holds the checkpoint" in message and node1.name in message, message
    assert runs.checkpoint_path(node0).is_file()
    assert not runs.checkpoint_path(node1).exists()  # nothing on the other machine

    for run_dir in nodes:
        assert main(["train", "--resume", run_dir.name, "--detach"]) == 0
    for run_dir in nodes:
        wait_for(lambda d=run_dir: runs.run_state(d)[0] != "running", f"{run_dir.name} to end")
    assert runs.run_state(node0)[0] == "done", (node0 / "log").read_text()[-2000:]
    assert runs.run_state(node1)[0] == "done", (node1 / "log").read_text()[-2000:]
    resumed = epochs(node0)

    # The same run without the interruption, on one machine: exactly the same numbers.
    whole = runs.create_run(slow_config())
    write_launch(whole, RunLaunch(LaunchOptions(nproc_per_node=2), "cpu"))
    runs.start(whole)
    wait_for(lambda: runs.run_state(whole)[0] != "running", "the uninterrupted run")
    assert epochs(whole) == resumed and len(resumed) == 2
