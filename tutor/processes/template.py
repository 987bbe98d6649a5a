"""One warm template process holding torch, from which kernels and training runs are forked.

The template is Python's own ``multiprocessing`` forkserver with a preload list
(``tutor.processes.preload``): started once, it imports torch and torchvision, and every later
child is a ``fork`` of it that shares those pages copy-on-write and starts in milliseconds instead
of importing torch for seconds. Nothing in it initialises CUDA; a child does that itself.

States: ``off`` (never started here: the command line, tests, or ``PYTORCH_TUTOR_TEMPLATE=0``),
``starting`` (the server is importing torch), ``ready``, ``failed``. Callers fall back to starting a
fresh interpreter whenever the template is not ready (``launch_run`` and ``popen_kernel`` return
None). The server lives as long as the process that started it (it ends when that process's end
of its "alive" pipe closes); runs forked from it detach and outlive both.

The app asks for it before ``App.run`` (``request``) and starts it on its Ready event, once its
first frame is on screen (``start_if_requested``), so torch's import does not compete with drawing the first screen.
Textual replaces ``sys.stderr`` with an object without a file descriptor, which breaks starting
multiprocessing's resource tracker: ``request`` starts the tracker while stderr is still real.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import multiprocessing.connection
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from tutor import warm
from tutor.processes import forked

DISABLE_ENV = "PYTORCH_TUTOR_TEMPLATE"
PRELOAD = ["tutor.processes.preload"]
# A template that takes longer than this to import torch is given up on (callers fall back).
START_TIMEOUT_S = 180.0
LAUNCH_TIMEOUT_S = 30.0

_lock = threading.Lock()
_state = "off"
_ready = threading.Event()
_settled = threading.Event()  # ready or failed
_kernels: list[ForkedKernel] = []
_requested = False


def enabled() -> bool:
    """Whether a template may be used here: Linux-like fork, and not turned off."""
    if os.environ.get(DISABLE_ENV, "1") == "0":
        return False
    return sys.platform != "win32" and "forkserver" in multiprocessing.get_all_start_methods()


def _context() -> Any:
    return multiprocessing.get_context("forkserver")


def state() -> str:
    """off, starting, ready or failed (a ready template whose server died is ``failed``).

    A template asked for (``request``) but not started yet is ``starting`` already: a kernel
    launched before the app's first frame then waits for it instead of importing torch itself.
    """
    if _state == "ready" and not _server_alive():
        return "failed"
    if _state == "off" and _requested and enabled():
        return "starting"
    return _state


def _server_alive() -> bool:
    from multiprocessing import forkserver

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if pid is None:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True


def request() -> None:
    """Ask for a template, to be started by ``start_if_requested`` (the app: after its first frame).

    Call it before ``App.run``: it also starts multiprocessing's resource tracker, which cannot be
    started once Textual has replaced ``sys.stderr``.
    """
    global _requested
    _requested = True
    import multiprocessing.resource_tracker

    multiprocessing.resource_tracker.ensure_running()


def start_if_requested() -> None:
    """Start the template if ``request`` asked for one (tests and the CLI never do)."""
    if _requested:
        start()


def start() -> None:
    """Start the template in the background (idempotent); returns at once.

    The server process is spawned here and imports torch on its own; a warm-up child started
    from a thread tells when it is ready.
    """
    global _state
    with _lock:
        if _state in ("starting", "ready") or not enabled():
            return
        _state = "starting"
        _ready.clear()
        _settled.clear()
    ctx = _context()
    ctx.set_forkserver_preload(PRELOAD)
    try:
        # Spawns the server (and the resource tracker) now, while stderr is still a real file.
        from multiprocessing import forkserver

        forkserver.ensure_running()
    except (OSError, ValueError):
        _settle("failed")
        return
    threading.Thread(target=_warm_up, name="template-warm-up", daemon=True).start()


def _settle(new_state: str) -> None:
    global _state
    _state = new_state
    if new_state == "ready":
        _ready.set()
    _settled.set()


def _warm_up() -> None:
    try:
        probe = _context().Process(target=forked.ping, name="tutor-template-probe", daemon=True)
        probe.start()
        probe.join(START_TIMEOUT_S)
        _settle("ready" if probe.exitcode == 0 else "failed")
    except Exception:
        _settle("failed")


def wait(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for a starting (or asked for) template; True when ready."""
    if state() == "starting":
        _settled.wait(timeout)
    return state() == "ready"


def launch_run(run_dir: Path, resume: bool) -> int | None:
    """Fork a detached training run from the template; its pid, or None when not ready."""
    if state() != "ready":
        return None
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    try:
        process = ctx.Process(
            target=forked.launch_run,
            args=(str(run_dir), resume, dict(os.environ), os.getcwd(), send),
            name="tutor-run-launcher",
        )
        process.start()
    except (OSError, ValueError):
        receive.close()
        send.close()
        return None
    send.close()
    try:
        pid = int(receive.recv()) if receive.poll(LAUNCH_TIMEOUT_S) else None
    except (EOFError, OSError, ValueError):
        pid = None
    finally:
        receive.close()
    process.join(LAUNCH_TIMEOUT_S)  # the launcher ends as soon as it has reported
    return pid


class ForkedKernel:
    """A kernel child forked from the template, with the part of ``Popen``'s interface the kernel
    client uses (``pid``, ``stdin``/``stdout``/``stderr``, ``poll``, ``wait``, ``kill``...)."""

    def __init__(
        self, process: Any, stdin: IO[bytes], stdout: IO[bytes], stderr: IO[bytes]
    ) -> None:
        self.process = process
        self.pid: int = process.pid
        self.stdin: IO[bytes] | None = stdin
        self.stdout: IO[bytes] | None = stdout
        self.stderr: IO[bytes] | None = stderr

    @property
    def returncode(self) -> int | None:
        return self.process.exitcode  # type: ignore[no-any-return]

    def poll(self) -> int | None:
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self.process.join(timeout)
        if self.process.exitcode is None:
            raise subprocess.TimeoutExpired("tutor-kernel", timeout or 0.0)
        return int(self.process.exitcode)

    def send_signal(self, signum: int) -> None:
        if self.process.exitcode is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def popen_kernel(threads: int) -> ForkedKernel | None:
    """A kernel child forked from the template, talking on pipes; None when not ready."""
    if state() != "ready":
        return None
    ctx = _context()
    pipes = [os.pipe() for _ in range(3)]
    # The child's ends travel as Connections, which multiprocessing knows how to hand over.
    child_ends = (
        multiprocessing.connection.Connection(pipes[0][0], writable=False),
        multiprocessing.connection.Connection(pipes[1][1], readable=False),
        multiprocessing.connection.Connection(pipes[2][1], readable=False),
    )
    ours = (pipes[0][1], pipes[1][0], pipes[2][0])
    try:
        process = ctx.Process(
            target=forked.serve_kernel,
            args=(child_ends, threads, dict(os.environ), os.getcwd()),
            name="tutor-kernel",
        )
        process.start()
    except (OSError, ValueError):
        for fd in ours:
            os.close(fd)
        return None
    finally:
        for end in child_ends:
            end.close()
    kernel = ForkedKernel(
        process,
        os.fdopen(ours[0], "wb"),
        os.fdopen(ours[1], "rb"),
        os.fdopen(ours[2], "rb"),
    )
    _kernels[:] = [k for k in _kernels if k.poll() is None]
    _kernels.append(kernel)
    return kernel


@atexit.register
def _kill_kernels() -> None:
    """Kernels die with the process that started them (multiprocessing would wait for them)."""
    for kernel in _kernels:
        with contextlib.suppress(OSError):
            kernel.kill()
        with contextlib.suppress(Exception):
            kernel.process.join(2)
    _kernels.clear()


def stop() -> None:
    """Stop using the template: later kernels and runs start fresh processes (its server, idle,
    ends with this process)."""
    global _state, _requested
    with _lock:
        _state = "off"
        _requested = False
        _ready.clear()
        _settled.set()


# The kernel and the run launcher sit below this package: they reach the template through the hook.
warm.install(sys.modules[__name__])  # type: ignore[arg-type]
