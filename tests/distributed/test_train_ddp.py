"""``train --nproc-per-node N``: real torchrun and DDP runs on the CPU with gloo, one thread per rank.

Two ranks against one process with the same global batch, the same seed twice, two "nodes" on
127.0.0.1, stop and resume, a crashing rank, bad launch options. Each run starts torchrun and its
ranks, so these take seconds each; the datasets are tiny (or the bundled sample) and 1-2 epochs.
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.tiny_data import write_tiny_fashion_mnist
from helpers.waiting import wait_for

from tutor import paths
from tutor.cli import main
from tutor.distributed.env import free_port, port_in_use
from tutor.distributed.launch import LaunchOptions
from tutor.training import checkpoint, data, runs
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.events import ListSink
from tutor.training.rank_files import RunLaunch, read_launch, write_launch
from tutor.training.trainer import train

pytestmark = pytest.mark.slow

RANK_FAULT = Path(__file__).parent.parent / "helpers" / "rank_fault"


@pytest.fixture(autouse=True)
def no_system_data(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(data, "SYSTEM_FASHION_MNIST", tmp_path / "no-system-copy")
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


@pytest.fixture
def tiny() -> Path:
    return write_tiny_fashion_mnist(paths.data_root())


@pytest.fixture
def bundled_sample() -> Path:
    """The bundled 5,000-image sample in the data root, so the ranks (processes of their own,
    which the monkeypatch above does not reach) find it before a system copy."""
    raw = paths.data_root() / "FashionMNIST" / "raw"
    data._decompress_into(data.SAMPLE_DIR, raw)
    return raw


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def of_kind(run_dir: Path, kind: str) -> list[dict[str, Any]]:
    return [ev.to_json(e) for e in runs.read_events(run_dir) if e.kind == kind]


def test_two_ranks_match_one_process_with_the_same_global_batch(
    bundled_sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The bundled 5,000-image sample: enough test images for accuracy points to mean something.
    single = train(
        TrainConfig(model="mlp", epochs=2, batch_size=64, device="cpu", threads=1),
        tmp_path / "single.pt",
        ListSink(),
    )
    args = ["train", "mlp", "--epochs", "2", "--batch-size", "32", "--device", "cpu"]
    assert main([*args, "--nproc-per-node", "2", "--json"]) == 0
    lines = json_lines(capsys.readouterr().out)
    start = next(e for e in lines if e["event"] == "start")
    assert start["world_size"] == 2 and start["batch_size"] == 32
    # Each rank trains half the data: half the steps of one process at the same global batch.
    assert start["steps_per_epoch"] == 79  # ceil(ceil(5000 / 2) / 32)
    done = lines[-1]
    assert done["event"] == "done" and done["world_size"] == 2
    assert single.val_accuracy is not None
    assert abs(done["val_accuracy"] - single.val_accuracy) <= 0.02, (done, single)

    # The checkpoint holds the plain model (no "module." prefix), loadable without DDP.
    run_dir = runs.find_run("last")
    state = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))
    assert state["world_size"] == 2
    assert not any(key.startswith("module.") for key in state["model"])

    # The same seed twice: the same numbers.
    assert main([*args, "--nproc-per-node", "2", "--json"]) == 0
    again = json_lines(capsys.readouterr().out)
    first = [(e["val_loss"], e["val_accuracy"]) for e in lines if e["event"] == "epoch"]
    second = [(e["val_loss"], e["val_accuracy"]) for e in again if e["event"] == "epoch"]
    assert first == second and len(first) == 2

    # runs lists it with its world size.
    assert main(["runs"]) == 0
    assert "2 ranks" in capsys.readouterr().out
    assert main(["runs", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["runs"]
    assert listed[0]["world_size"] == 2
    # runs show: the speed of all ranks together and of one.
    assert main(["runs", "show", "last"]) == 0
    shown = capsys.readouterr().out
    assert "device cpu" in shown and ", 2 ranks" in shown
    speed = next(line for line in shown.splitlines() if line.startswith("  speed "))
    assert re.fullmatch(r"  speed [\d,]+ samples/s \(2 ranks × [\d,]+\) at step [\d,]+", speed)


def test_two_nodes_on_one_machine_train_together(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"127.0.0.1:{free_port()}"
    common = ["train", "mlp", "--epochs", "2", "--batch-size", "5", "--device", "cpu"]
    nodes = ["--nnodes", "2", "--nproc-per-node", "1", "--rdzv-endpoint", endpoint]
    assert main([*common, *nodes, "--node-rank", "0", "--detach"]) == 0
    node0 = runs.find_run(capsys.readouterr().out.strip())
    # Node 1 in the foreground: it says where the progress is, and waits for the end.
    assert main([*common, *nodes, "--node-rank", "1"]) == 0
    assert "This machine is node 1 of 2" in capsys.readouterr().err
    node1 = next(run.path for run in runs.list_runs() if run.path != node0)
    wait_for(lambda: runs.run_state(node0)[0] != "running", "node 0 to end")
    assert runs.run_state(node0)[0] == "done", (node0 / "log").read_text()[-2000:]
    state, message = runs.run_state(node1)
    assert state == "done" and "node 0" in message
    start = of_kind(node0, "start")[0]
    assert start["world_size"] == 2
    assert start["steps_per_epoch"] == 20  # 200 images, 100 per rank, batches of 5
    assert of_kind(node1, "epoch") == []  # rank 0 alone writes the metrics
    two_nodes = [(e["val_loss"], e["val_accuracy"]) for e in of_kind(node0, "epoch")]
    assert two_nodes[1][0] < two_nodes[0][0]  # it learns

    # Two ranks on one node compute exactly what two nodes of one rank each computed.
    assert main([*common, "--nproc-per-node", "2", "--json"]) == 0
    one_node = [
        (e["val_loss"], e["val_accuracy"])
        for e in json_lines(capsys.readouterr().out)
        if e["event"] == "epoch"
    ]
    assert one_node == two_nodes


def test_stop_ends_every_rank_with_a_checkpoint_and_resume_keeps_the_world_size(
    tiny: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = TrainConfig(
        model="mlp", epochs=2, batch_size=2, device="cpu", log_every=2, step_delay=0.05
    )
    run_dir = runs.create_run(config)
    write_launch(run_dir, RunLaunch(LaunchOptions(nproc_per_node=2), "cpu"))
    runs.start(run_dir)  # its launch.json makes it a torchrun run
    wait_for(lambda: len(of_kind(run_dir, "step")) >= 2, "the first steps")
    assert main(["runs", "stop", run_dir.name]) == 0
    wait_for(lambda: runs.run_state(run_dir)[0] != "running", "the ranks to stop")
    assert runs.run_state(run_dir)[0] == "stopped", (run_dir / "log").read_text()[-2000:]
    saved = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))
    assert saved["epoch"] == 1 and 0 < saved["step_in_epoch"] < 50

    capsys.readouterr()
    assert main(["train", "--resume", run_dir.name, "--nproc-per-node", "3"]) == 2
    err = capsys.readouterr().err
    assert "trained with 2 processes" in err and "Traceback" not in err

    assert main(["train", "--resume", run_dir.name, "--json"]) == 0  # keeps its 2 ranks
    lines = json_lines(capsys.readouterr().out)
    resumed = next(e for e in lines if e["event"] == "resume")
    assert resumed["epoch"] == 1 and resumed["step"] == saved["step"]
    assert lines[-1]["event"] == "done" and lines[-1]["world_size"] == 2
    assert [e["epoch"] for e in of_kind(run_dir, "epoch")] == [1, 2]
    launch = read_launch(run_dir)
    assert launch is not None and launch.world_size == 2


def test_a_crashing_rank_ends_the_run_naming_the_rank_and_its_error(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Rank 1 raises after step 3 (see helpers/rank_fault/sitecustomize.py).
    path = [str(RANK_FAULT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(path))
    monkeypatch.setenv("RANK_FAULT", "1:3")
    args = ["train", "mlp", "--epochs", "2", "--batch-size", "10", "--device", "cpu"]
    began = time.monotonic()
    assert main([*args, "--nproc-per-node", "2", "--json"]) == 1
    assert time.monotonic() - began < 100  # ended, not left hanging until a group timeout
    run_dir = runs.find_run("last")
    state, message = runs.run_state(run_dir)
    assert state == "failed"
    assert message.startswith("Rank 1 failed: a fault injected at step 3"), message
    assert json_lines(capsys.readouterr().out)[-1]["event"] == "failed"


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--nproc-per-node", "0"], "--nproc-per-node must be at least 1"),
        (["--nnodes", "2"], "needs --rdzv-endpoint"),
        (["--nproc-per-node", "2", "--device", "cuda:1"], "each process takes its own GPU"),
        (["--nnodes", "2", "--node-rank", "2", "--rdzv-endpoint", "h:1"], "--node-rank must be"),
        (["--nproc-per-node", "2", "--rdzv-endpoint", "nowhere"], "HOST:PORT"),
    ],
)
def test_bad_launch_options_get_one_sentence_and_no_run(
    options: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "mlp", *options]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    # The usage line, then one sentence.
    assert [line for line in err.splitlines() if not line.startswith("usage:")] == [
        next(line for line in err.splitlines() if words in line)
    ]
    assert not paths.runs_dir().exists() or not any(paths.runs_dir().iterdir())


def test_an_endpoint_nobody_answers_fails_after_the_rendezvous_timeout_naming_it(
    tiny: Path,
) -> None:
    run_dir = runs.create_run(TrainConfig(model="mlp", epochs=1, device="cpu"))
    endpoint = f"127.0.0.1:{free_port()}"
    options = LaunchOptions(nproc_per_node=1, nnodes=2, node_rank=1, rdzv_endpoint=endpoint)
    write_launch(run_dir, RunLaunch(options, "cpu", rdzv_timeout=3))
    runs.start(run_dir)  # its launch.json makes it a torchrun run
    wait_for(lambda: runs.run_state(run_dir)[0] != "running", "the rendezvous to give up")
    state, message = runs.run_state(run_dir)
    assert state == "failed"
    assert message.startswith(f"Node 1 could not join node 0 at {endpoint} within 3 s"), message


def test_a_stop_while_waiting_for_the_other_machines_ends_the_run_stopped(tiny: Path) -> None:
    run_dir = runs.create_run(TrainConfig(model="mlp", epochs=1, device="cpu"))
    port = free_port()
    options = LaunchOptions(
        nproc_per_node=1, nnodes=2, node_rank=0, rdzv_endpoint=f"127.0.0.1:{port}"
    )
    write_launch(run_dir, RunLaunch(options, "cpu", rdzv_timeout=120))
    runs.start(run_dir)  # its launch.json makes it a torchrun run
    wait_for(lambda: port_in_use(port), "node 0 to listen at the endpoint")
    assert runs.stop(run_dir, wait_s=60.0)
    state, message = runs.run_state(run_dir)
    assert (state, message) == (
        "stopped",
        "Stopped before training began; nothing was trained yet.",
    )


def test_a_rendezvous_port_in_use_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        args = ["train", "mlp", "--device", "cpu", "--nproc-per-node", "2"]
        assert main([*args, "--rdzv-endpoint", f"127.0.0.1:{port}"]) == 2
    err = capsys.readouterr().err
    assert f"Port {port} on 127.0.0.1 is already in use" in err and "Traceback" not in err
    assert not paths.runs_dir().exists() or not any(paths.runs_dir().iterdir())
