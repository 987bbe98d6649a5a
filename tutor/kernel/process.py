"""One kernel child process as the client sees it: launched, read, written, watched, killed.

The child is forked from the warm template when there is one (``tutor.processes``), else started
as ``python -m tutor.kernel.kernel_process``; either way a reader thread turns its stdout into protocol
messages and a drain keeps the tail of its stderr.
"""

from __future__ import annotations

import collections
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from tutor import warm
from tutor.kernel.protocol import decode, encode

READY_TIMEOUT = 90.0
EOF = {"type": "eof"}  # put on the message queue when the child's stdout closes


class ChildProcess:
    """One child process with a reader thread for protocol lines and a drain for its stderr.

    The child is forked from the warm template when there is one (milliseconds, torch already
    imported), else a fresh interpreter as ``python -m tutor.kernel.kernel_process``. While the template is
    still importing torch the launch waits for it in a thread: a second torch import next to it
    would only compete for the same cores and double the memory.
    """

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.proc: Any = None  # a subprocess.Popen, or a template.ForkedKernel, once launched
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.stderr_tail: collections.deque[str] = collections.deque(maxlen=40)
        self.ready = threading.Event()
        self.launched = threading.Event()
        self._closing = False
        self._guard = threading.Lock()
        if warm.state() == "starting":
            threading.Thread(target=self._launch, name="kernel-launch", daemon=True).start()
        else:
            self._launch()

    def _popen(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        env["PYTORCH_TUTOR_KERNEL_THREADS"] = str(self.threads)
        env["PYTHONUNBUFFERED"] = "1"
        env.setdefault("OMP_NUM_THREADS", str(self.threads))
        # The child must import this very package, wherever the parent found it.
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        return subprocess.Popen(
            [sys.executable, "-m", "tutor.kernel.kernel_process"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            # Its own session: a Ctrl-C in the terminal reaches the parent only.
            start_new_session=True,
        )

    def _launch(self) -> None:
        proc: Any = None
        try:
            if warm.wait(READY_TIMEOUT):
                proc = warm.popen_kernel(self.threads)
            if proc is None:
                proc = self._popen()
        except OSError as exc:
            self.stderr_tail.append(f"{exc}\n")
        with self._guard:
            self.proc = proc
            closing = self._closing
        if proc is None:
            self.messages.put(EOF)
            self.launched.set()
            self.ready.set()
            return
        assert proc.stdout is not None and proc.stderr is not None
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(proc.stderr,), daemon=True).start()
        self.launched.set()
        if closing:
            self.kill()

    @property
    def pid(self) -> int | None:
        return int(self.proc.pid) if self.proc is not None else None

    def _read(self, stream: IO[bytes]) -> None:
        for line in stream:
            try:
                message = decode(line)
            except ValueError:
                continue
            if message.get("type") == "ready":
                self.ready.set()
            else:
                self.messages.put(message)
        self.messages.put(EOF)
        self.ready.set()  # wake a waiter: the child is gone

    def _drain(self, stream: IO[bytes]) -> None:
        for line in stream:
            self.stderr_tail.append(line.decode("utf-8", "replace"))

    def alive(self) -> bool:
        if not self.launched.is_set():
            return not self._closing
        return self.proc is not None and self.proc.poll() is None

    def send(self, message: dict[str, Any]) -> bool:
        if self.proc is None:
            return False
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(encode(message))
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def rss_bytes(self) -> int:
        """Resident memory of the child (Linux /proc); 0 where that cannot be read."""
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as statm:
                return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return 0

    def interrupt(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.send_signal(signal.SIGINT)
        except OSError:
            pass

    def kill(self) -> None:
        with self._guard:
            self._closing = True
            if self.proc is None:  # still launching: the launch thread kills it
                return
        try:
            self.proc.kill()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def close(self) -> None:
        """Ask the child to leave (closing stdin ends its loop), then make sure."""
        if not self.ready.is_set() or self.proc is None:  # still importing torch: nothing to finish
            self.kill()
            return
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def crash_reason(returncode: int | None) -> str:
    if returncode is None:
        return "it stopped answering"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        if name == "SIGSEGV":
            return "a segmentation fault"
        if name == "SIGKILL":
            return "it was killed, perhaps for using too much memory"
        return f"it received {name}"
    return f"it exited with code {returncode}"
