"""What keeps a run on several ranks whole when its supervisor dies (``kill -9``, the OOM killer).

The supervisor owns the run folder: its pid and heartbeat say the run is running, and it writes
the run's end once torchrun is gone. Two things make sure nothing runs on without it:

- ``die_with_parent`` (Linux): torchrun is started so that the kernel sends it SIGTERM when the
  supervisor dies; torchrun passes that on to every rank, as it does for ``runs stop``.
- ``SupervisorWatch``, in every rank: it notices the supervisor's pid is gone (on any system),
  and asks the rank to checkpoint and stop with the others. The first rank of each machine then
  takes the run folder over: its pid and heartbeat keep the run "running" while the ranks save,
  so no resume starts beside them, and it writes the run's end itself.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tutor.atomic import atomic_write_text

# The supervisor's pid, passed through torchrun to every rank.
SUPERVISOR_ENV = "TUTOR_SUPERVISOR_PID"
POLL_S = 0.5
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the child sent SIGTERM when its parent dies (Linux only).

    libc is looked up here, in the parent: between fork and exec the child only calls it.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before the line above took effect
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _alive(pid: int) -> bool:
    from tutor.training.runs import pid_alive

    return pid_alive(pid)


class SupervisorWatch:
    """Watches the supervisor from a rank; when it is gone, stops the rank and, on the node's first
    rank (``adopt``), takes over the run folder's pid and heartbeat."""

    def __init__(
        self,
        run_dir: Path,
        stop: threading.Event,
        adopt: bool,
        supervisor: int | None = None,
        alive: Callable[[int], bool] = _alive,
    ) -> None:
        self.run_dir = run_dir
        self.stop = stop
        self.adopt = adopt
        self.alive = alive
        if supervisor is None:
            text = os.environ.get(SUPERVISOR_ENV, "")
            supervisor = int(text) if text.isdigit() else None
        self.supervisor = supervisor
        self.gone = threading.Event()
        self._ended = threading.Event()
        self._lock = threading.Lock()  # the watch thread and ``orphaned`` may both see it go

    def start(self) -> SupervisorWatch:
        if self.supervisor is not None:
            threading.Thread(target=self._watch, name="supervisor-watch", daemon=True).start()
        return self

    def orphaned(self) -> bool:
        """Whether the supervisor is gone (asked afresh: a fast stop may beat the next poll)."""
        if (
            self.supervisor is not None
            and not self.gone.is_set()
            and not self.alive(self.supervisor)
        ):
            self._take_over()
        return self.gone.is_set()

    def close(self) -> None:
        self._ended.set()

    def _watch(self) -> None:
        assert self.supervisor is not None
        while not self._ended.wait(POLL_S):
            if not self.alive(self.supervisor):
                self._take_over()
                return

    def _take_over(self) -> None:
        with self._lock:
            if self.gone.is_set():
                return
            self.gone.set()
        if self.adopt:  # first the run folder, so the run never looks ended while ranks save
            from tutor.training.run_process import _heartbeat

            with contextlib.suppress(OSError):
                atomic_write_text(self.run_dir / "pid", str(os.getpid()))
                atomic_write_text(self.run_dir / "heartbeat", f"{time.time():.3f}")
            threading.Thread(
                target=_heartbeat, args=(self.run_dir, self._ended), name="heartbeat", daemon=True
            ).start()
        self.stop.set()  # then checkpoint and stop, agreed with every other rank
