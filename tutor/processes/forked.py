"""What runs inside a process forked from the template: a detached training run, or a kernel.

Both take the starting process's environment and working folder (the template's were fixed when it
started), name themselves in ``/proc/self/comm`` so a pid can be told apart from a recycled one,
and point their standard streams where today's ``subprocess`` children have them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import traceback
from multiprocessing.connection import Connection

RUN_NAME = "tutor-run"  # runs.RUN_PROCESS_NAME: how runs.pid_alive knows it
KERNEL_NAME = "tutor-kernel"


def _adopt(env: dict[str, str], cwd: str) -> None:
    os.environ.clear()
    os.environ.update(env)
    with contextlib.suppress(OSError):
        os.chdir(cwd)


def _name(title: str) -> None:
    """The process's short name (``ps``, ``/proc/PID/comm``); its command line is the template's."""
    with contextlib.suppress(OSError), open("/proc/self/comm", "w") as comm:
        comm.write(title)


def _rebind_std_streams() -> None:
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own


def ping() -> None:
    """The template's warm-up: a child that does nothing proves the preload is done."""


def launch_run(
    run_dir: str, resume: bool, env: dict[str, str], cwd: str, report: Connection
) -> None:
    """Fork the run off, report its pid and return: the run is nobody's child and in no terminal.

    The second fork is the classic detach: this process ends at once (so nothing waits for it),
    and the run, orphaned, belongs to init; ``setsid`` leaves the starter's session, so a hang-up
    of the app's terminal or SSH connection never reaches it.
    """
    _adopt(env, cwd)
    pid = os.fork()
    if pid:
        report.send(pid)
        report.close()
        return
    code = 1
    try:
        report.close()
        os.setsid()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        log = os.open(os.path.join(run_dir, "log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        _rebind_std_streams()
        _name(RUN_NAME)
        from tutor.training import run_process

        code = run_process.main([run_dir, *(["--resume"] if resume else [])])
    except BaseException:
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve_kernel(
    streams: tuple[Connection, Connection, Connection],
    threads: int,
    env: dict[str, str],
    cwd: str,
) -> None:
    """The exercise kernel on the three pipes it was handed (as stdin, stdout and stderr)."""
    _adopt(env, cwd)
    os.environ["PYTORCH_TUTOR_KERNEL_THREADS"] = str(threads)
    # Its own session, as today's kernel: a Ctrl-C in the terminal reaches the app only.
    with contextlib.suppress(OSError):
        os.setsid()
    for target, stream in enumerate(streams):
        os.dup2(stream.fileno(), target)
        stream.close()
    _rebind_std_streams()
    _name(KERNEL_NAME)
    from tutor.kernel import kernel_process

    kernel_process.main()
