"""The run process of a run on several ranks: ``python -m tutor.training.supervise_process RUN_DIR [--resume]``.

``runs.start`` starts it in place of the single-process run. It keeps the run's pid and heartbeat
(so ``runs`` and the app see one running run), starts torchrun with the line ``launch.json`` gives
(torchrun starts the ranks, sets their variables and stops them all when one fails), passes a stop
(SIGTERM, SIGINT) on to torchrun, which passes it to every rank, and waits. Then it ends the run:
with the final event rank 0 left, or, when a rank failed, with one naming the rank and its error.
The run counts as running until then, so a resume cannot start beside ranks still shutting down.
A node other than 0 writes only its state. Should this process die, torchrun and the ranks stop
with a checkpoint and end the run themselves (``supervisor_watch``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tutor.atomic import atomic_write_text
from tutor.distributed.launch import torchrun_command
from tutor.training.rank_files import (
    clear_rank_errors,
    failure_sentence,
    node_ending,
    read_final,
    read_launch,
)
from tutor.training.supervisor_watch import SUPERVISOR_ENV, die_with_parent

RANK_MODULE = "tutor.training.rank_process"


def main(argv: list[str]) -> int:
    from tutor.training import runs
    from tutor.training.events import Done, Failed, Stopped
    from tutor.training.run_process import _finish, _heartbeat
    from tutor.training.streams import FileSink

    run_dir = Path(argv[0])
    resume = "--resume" in argv[1:]
    began = time.time()
    with contextlib.suppress(OSError):
        atomic_write_text(run_dir / "pid", str(os.getpid()))
    launch = read_launch(run_dir)
    if launch is None:
        sink = FileSink(run_dir / "metrics.jsonl")
        _finish(run_dir, "failed", sink, Failed(message=f"{run_dir / 'launch.json'} is missing."))
        return 1
    clear_rank_errors(run_dir)
    args = [str(run_dir), *(["--resume"] if resume else [])]
    command = torchrun_command(launch.options, RANK_MODULE, args, rdzv_timeout=launch.rdzv_timeout)
    env = dict(os.environ)
    env[SUPERVISOR_ENV] = str(os.getpid())  # the ranks watch it: see supervisor_watch
    if launch.device_type == "cpu":
        # One thread per rank unless asked otherwise: ranks share the machine's cores.
        env.setdefault("OMP_NUM_THREADS", "1")
    # torchrun gets SIGTERM should this process die (started before any thread: a fork with
    # threads running is only safe without a preexec_fn).
    child = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, env=env, preexec_fn=die_with_parent()
    )
    beating = threading.Event()
    threading.Thread(target=_heartbeat, args=(run_dir, beating), daemon=True).start()

    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stopping.set()
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)  # torchrun stops every rank; each checkpoints

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        status = child.wait()
    finally:
        beating.set()
    sink = FileSink(run_dir / "metrics.jsonl")
    ended = read_final(run_dir)
    if ended is not None:  # this machine's first rank said how it ended
        state, final = ended
        _finish(run_dir, state, sink, final)
        sink.close()
        return 0 if state in ("done", "stopped") else 1
    try:
        if status == 0 and launch.options.node_rank != 0:
            # The ranks of this node finished but left no word (a full disk): node 0 holds it all.
            state, final = node_ending(
                launch.options, run_dir.name, Done(0, 0, None, None, None, 0.0, "")
            )
            _finish(run_dir, state, sink, final)
            return 0
        if stopping.is_set() and not any((run_dir / "ranks").glob("*.error")):
            # Stopped before the ranks trained (at the rendezvous, say): nothing new to save.
            checkpoint = runs.checkpoint_path(run_dir)
            then = (
                "resume continues from its last checkpoint"
                if checkpoint.is_file()
                else ("nothing was trained yet")
            )
            stopped = Stopped(
                checkpoint=str(checkpoint) if checkpoint.is_file() else None,
                seconds=time.time() - began,
                message=f"Stopped before training began; {then}.",
            )
            _finish(run_dir, "stopped", sink, stopped)
            return 0
        _finish(run_dir, "failed", sink, Failed(message=failure_sentence(run_dir, status, launch)))
        return 1
    finally:
        sink.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
