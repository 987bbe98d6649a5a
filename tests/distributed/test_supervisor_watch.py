"""The pieces that keep a run on several ranks whole when its supervisor dies, one at a time.

The whole story (a supervisor killed with -9, ranks that checkpoint and end the run) is in
``test_ddp_resilience.py``; here: the kernel's parent-death signal, the rank's watch, the endings.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from helpers.waiting import wait_for

from tutor.distributed.launch import LaunchOptions
from tutor.training.events import Done, Stopped
from tutor.training.rank_files import node_ending, orphan_ending
from tutor.training.supervisor_watch import SupervisorWatch, die_with_parent

ROOT = Path(__file__).resolve().parents[2]


def test_the_watch_stops_the_rank_and_takes_the_run_folder_over(tmp_path: Path) -> None:
    supervisor_alive = threading.Event()
    supervisor_alive.set()
    stop = threading.Event()
    watch = SupervisorWatch(
        tmp_path, stop, adopt=True, supervisor=4242, alive=lambda pid: supervisor_alive.is_set()
    ).start()
    try:
        time.sleep(1.2)  # a few polls while the supervisor lives: nothing happens
        assert not stop.is_set() and not watch.orphaned()
        assert not (tmp_path / "pid").exists()
        supervisor_alive.clear()
        wait_for(stop.is_set, "the watch to stop the rank", timeout=10.0)
        assert watch.orphaned()
        assert (tmp_path / "pid").read_text() == str(os.getpid())
        assert (tmp_path / "heartbeat").is_file()
    finally:
        watch.close()


def test_only_the_first_rank_of_a_machine_takes_the_folder_over(tmp_path: Path) -> None:
    stop = threading.Event()
    watch = SupervisorWatch(tmp_path, stop, adopt=False, supervisor=4242, alive=lambda pid: False)
    assert watch.orphaned() and stop.is_set()  # asked directly, before any poll
    assert not (tmp_path / "pid").exists()


def test_without_a_supervisor_there_is_nothing_to_watch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TUTOR_SUPERVISOR_PID", raising=False)
    watch = SupervisorWatch(tmp_path, threading.Event(), adopt=True, alive=lambda pid: False)
    assert watch.start().supervisor is None and not watch.orphaned()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_child_started_with_die_with_parent_gets_sigterm_when_its_parent_dies() -> None:
    assert die_with_parent() is not None
    parent_code = (
        "import subprocess, sys, time\n"
        "from tutor.training.supervisor_watch import die_with_parent\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'],"
        " preexec_fn=die_with_parent())\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait()

        def child_gone() -> bool:
            try:
                stat = Path(f"/proc/{child}/stat").read_text()
            except OSError:
                return True
            return stat.rsplit(")", 1)[1].split()[0] == "Z"

        wait_for(child_gone, "the child to get SIGTERM", timeout=10.0)
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_a_machine_other_than_node_0_says_where_the_run_is() -> None:
    options = LaunchOptions(nproc_per_node=2, nnodes=3, node_rank=2, rdzv_endpoint="h:1")
    state, final = node_ending(options, "RUN", Done(2, 40, 0.3, 0.4, 0.8, 9.0, "/x/model.pt"))
    assert state == "done" and final.checkpoint == ""
    assert (
        final.message == "Node 2 of 3 finished its part; the metrics and the model are on node 0."
    )
    state, final = node_ending(options, "RUN", Stopped(epoch=1, step=17, checkpoint="/x"))
    assert state == "stopped" and final.checkpoint is None
    assert final.message == (
        "Node 2 of 3 stopped with the others at step 17; node 0 holds the checkpoint: resume "
        "every node (here `pytorch-tutor train --resume RUN`)."
    )


def test_an_ending_without_the_supervisor_says_so() -> None:
    final = orphan_ending(Stopped(epoch=1, step=5, message="Stopped at step 5."), 99)
    assert final.message == (
        "The run lost its supervisor (pid 99), so every rank saved its place and stopped. "
        "Stopped at step 5."
    )
