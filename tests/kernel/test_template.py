"""The warm template: runs forked from it detach and outlive the app; kernels forked from it keep
the kernel's promises (timeouts, crashes, memory); without it everything takes today's path."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.waiting import wait_for

from tutor.kernel.client import Kernel
from tutor.processes import template
from tutor.training import events as ev
from tutor.training import runs

REPO = Path(__file__).resolve().parents[2]

# The "app" of the hang-up test: it starts the template, forks a run from it, then waits to be
# hung up on like a process whose terminal or SSH connection went away.
APP_SCRIPT = """
import json, signal, sys, time
import multiprocessing.resource_tracker

def main():
    # As an app started from a shell: a hang-up ends it (an ignored SIGHUP would be inherited).
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    multiprocessing.resource_tracker.ensure_running()
    from tutor.processes import template
    from tutor.training import runs
    from tutor.training.config import TrainConfig

    template.start()
    ready = template.wait(300)
    config = TrainConfig(model="mlp", epochs=2, batch_size=10, device="cpu", log_every=5,
                         step_delay=0.02, threads=1)
    run_dir = runs.create_run(config)
    pid = runs.start(run_dir)
    print(json.dumps({"ready": ready, "run_dir": str(run_dir), "pid": pid}), flush=True)
    while True:
        time.sleep(1)

if __name__ == "__main__":
    main()
"""


def write_idx(path: Path, dims: tuple[int, ...], body: bytes) -> None:
    header = bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    path.write_bytes(header + body)


@pytest.fixture
def small_fashion_mnist(tutor_env: Path) -> Path:
    """A small Fashion-MNIST in the dataset root: 400 training and 100 test images."""
    raw = Path(os.environ["PYTORCH_TUTOR_DATA"]) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix, count in (("train", 400), ("t10k", 100)):
        pixels = bytes((i * 37 + j) % 256 for i in range(count) for j in range(0, 784 * 3, 3))
        write_idx(raw / f"{prefix}-images-idx3-ubyte", (count, 28, 28), pixels)
        write_idx(
            raw / f"{prefix}-labels-idx1-ubyte", (count,), bytes(i % 10 for i in range(count))
        )
    return raw


@pytest.fixture
def warm_template() -> Iterator[None]:
    """The template started in this process, and put out of use again afterwards."""
    template.start()
    assert template.wait(300), "the template did not start"
    yield
    template.stop()


def steps(run_dir: Path) -> list[ev.Step]:
    return [e for e in runs.read_events(run_dir) if isinstance(e, ev.Step)]


def test_a_run_forked_from_the_template_survives_the_app_being_hung_up(
    small_fashion_mnist: Path, tmp_path: Path
) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # A session of its own stands for the app's terminal: the hang-up goes to its whole group.
    app = subprocess.Popen(
        [sys.executable, str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
        text=True,
    )
    try:
        assert app.stdout is not None
        line = app.stdout.readline()
        assert line, app.stderr.read() if app.stderr else ""
        started = json.loads(line)
        assert started["ready"], "the template did not come up in the app"
        run_dir, pid = Path(started["run_dir"]), int(started["pid"])
        # Forked from the template (named, not a fresh interpreter), in a session of its own.
        assert Path(f"/proc/{pid}/comm").read_text().strip() == runs.RUN_PROCESS_NAME
        assert os.getsid(pid) == pid != os.getsid(app.pid)
        wait_for(lambda: bool(steps(run_dir)), "the run's first step")

        os.killpg(app.pid, signal.SIGHUP)
        app.wait(timeout=30)
        assert app.returncode == -signal.SIGHUP
        # The app (and the template, which ends with it) are gone; the run goes on.
        assert runs.run_state(run_dir)[0] == "running"
        wait_for(lambda: runs.run_state(run_dir)[0] != "running", "the run to finish", 300)
        assert runs.run_state(run_dir) == ("done", "")
        events = runs.read_events(run_dir)
        assert [e.epoch for e in events if isinstance(e, ev.Epoch)] == [1, 2]
        assert isinstance(events[-1], ev.Done)
    finally:
        if app.poll() is None:
            os.killpg(app.pid, signal.SIGKILL)
            app.wait()


def test_a_run_started_before_the_template_is_ready_takes_todays_path(
    small_fashion_mnist: Path,
) -> None:
    assert template.state() == "off"
    from tutor.training.config import TrainConfig

    run_dir = runs.create_run(TrainConfig(model="mlp", epochs=1, batch_size=50, device="cpu"))
    pid = runs.start(run_dir)
    # A fresh interpreter (it is still importing torch): today's command line, not a fork.
    assert b"tutor.training.run_process" in Path(f"/proc/{pid}/cmdline").read_bytes()
    wait_for(lambda: runs.run_state(run_dir)[0] != "running", "the run to finish", 300)
    assert runs.run_state(run_dir) == ("done", "")


def test_kernels_forked_from_the_template_keep_the_kernels_promises(warm_template: None) -> None:
    kernel = Kernel.start(spare=True, memory_mb=1024)
    try:
        result = kernel.run("import torch\nx = torch.arange(4.0)\nprint(x.sum().item())")
        assert result.ok and result.output.strip() == "6.0"
        assert kernel.pid is not None
        assert Path(f"/proc/{kernel.pid}/comm").read_text().strip() == "tutor-kernel"
        assert kernel._spare is None  # a forked kernel needs no spare
        # CUDA is the child's to initialise, never the template's.
        assert kernel.run("print(torch.cuda.is_initialized())").output.strip() == "False"

        # A timeout the code swallows: SIGINT, then killed, then restarted with x restored.
        stubborn = (
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"
        )
        first = kernel.pid
        result = kernel.run(stubborn, timeout=0.5)
        assert result.status == "timeout" and not result.ok
        assert kernel.pid != first
        assert kernel.run("print(x.tolist())").output.strip() == "[0.0, 1.0, 2.0, 3.0]"

        # A crash is a fail, and the namespace comes back.
        result = kernel.run("import os; os._exit(3)")
        assert result.status == "crashed" and "exited with code 3" in result.error
        assert kernel.run("print(int(x.sum()))").output.strip() == "6"

        # The memory cap holds for a forked child as for a fresh one.
        result = kernel.run("big = bytearray(1500 * 1024 * 1024)\nimport time; time.sleep(5)", 20)
        assert result.status == "memory"
    finally:
        kernel.close()


def test_runs_forked_from_the_template_stop_survive_kill_9_and_resume_bit_for_bit(
    warm_template: None, small_fashion_mnist: Path, tmp_path: Path
) -> None:
    import torch

    from tutor.training import checkpoint
    from tutor.training.config import TrainConfig
    from tutor.training.events import ListSink
    from tutor.training.trainer import train

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

    def forked(pid: int) -> bool:
        return Path(f"/proc/{pid}/comm").read_text().strip() == runs.RUN_PROCESS_NAME

    run_dir = runs.create_run(config)
    assert forked(runs.start(run_dir))
    wait_for(lambda: len(steps(run_dir)) >= 2, "the first steps")
    assert runs.stop(run_dir, wait_s=60)
    assert runs.run_state(run_dir)[0] == "stopped"
    stopped_at = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))
    assert stopped_at["epoch"] == 1 and 0 < stopped_at["step_in_epoch"] < 25

    pid = runs.start(run_dir, resume=True)
    assert forked(pid)
    wait_for(lambda: any(e.epoch == 2 for e in steps(run_dir)), "a step of epoch 2")
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: runs.run_state(run_dir)[0] == "failed", "the killed run to count as failed")
    assert "resume" in runs.run_state(run_dir)[1]

    assert forked(runs.start(run_dir, resume=True))
    wait_for(lambda: runs.run_state(run_dir)[0] != "running", "the run to finish", 300)
    assert runs.run_state(run_dir) == ("done", "")
    ours = checkpoint.load_checkpoint(runs.checkpoint_path(run_dir))["model"]
    theirs = checkpoint.load_checkpoint(tmp_path / "reference.pt")["model"]
    for key in theirs:
        assert torch.equal(ours[key], theirs[key]), key
    listed = runs.info(run_dir)
    assert (listed.epoch, listed.state) == (3, "done")


def test_a_template_turned_off_is_never_started(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(template.DISABLE_ENV, "0")
    monkeypatch.setattr(template, "_requested", False)  # put back afterwards: later apps start none
    template.request()
    template.start_if_requested()
    assert template.state() == "off"
    assert not template.wait(0.1)
    assert template.launch_run(Path("/nonexistent"), resume=False) is None
    assert template.popen_kernel(1) is None
