"""Training runs on disk: one folder per run, one process per run, found again after a restart.

A run folder (``paths.runs_dir()/<run-id>/``) holds ``config.json``, ``metrics.jsonl`` (one event per
line, appended by the run), ``heartbeat`` (rewritten every few seconds), ``pid``, ``log`` (the
process's stdout and stderr), ``summary.json`` (what a listing shows, see ``summary``),
``state.json`` (written when the run ends) and ``checkpoints/last.pt``. The process runs in its own
session with no terminal, so closing the app or losing an SSH connection leaves it going; in the
app it is forked from the warm template when that is up (``tutor.processes``). Nothing here
imports torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor import paths, warm
from tutor.atomic import atomic_write_text
from tutor.training import events as ev
from tutor.training.config import TrainConfig

STATES = ("running", "done", "failed", "stopped")
# A run whose heartbeat is older than this, and whose process is gone, is no longer running.
HEARTBEAT_STALE_S = 20.0
HEARTBEAT_EVERY_S = 2.0
# A just-started process may not have written its first heartbeat yet.
STARTUP_GRACE_S = 60.0
# The name (``/proc/PID/comm``) a run forked from the warm template gives itself.
RUN_PROCESS_NAME = "tutor-run"


class RunNotFound(LookupError):
    """No run matches what was asked for; the message says which runs exist."""


class RunBusy(RuntimeError):
    """The action needs a run that is not running (resume, delete) or one that is (stop)."""


# The run process: one process, or the supervisor of a run on several ranks (torchrun).
RUN_MODULES = ("tutor.training.run_process", "tutor.training.supervise_process")
# A run's pid may also be a rank's that took the run over from a supervisor that died.
_ALIVE_MODULES = (*RUN_MODULES, "tutor.training.rank_process")


@dataclass
class RunInfo:
    """What the runs list shows of one run."""

    id: str
    path: Path
    config: TrainConfig
    state: str
    message: str = ""
    created: float = 0.0
    epoch: int = 0
    val_accuracy: float | None = None
    train_loss: float | None = None
    device: str = ""
    world_size: int = 1  # processes training together (torchrun)
    extra: dict[str, Any] = field(default_factory=dict)
    # What the run could not write (its final model, its metrics) and why; None when all was saved.
    unsaved: ev.Unsaved | None = None

    @property
    def checkpoint(self) -> Path:
        return checkpoint_path(self.path)

    @property
    def progress(self) -> str:
        """``3/5`` epochs done."""
        return f"{self.epoch}/{self.config.epochs}"


_CPU_THREADS = re.compile(r"cpu, (\d+) threads?")


def short_device(device: str) -> str:
    """A run's device in a table cell: ``cpu ×1``, ``cuda:0``, ``mps``; ``-`` when not known yet."""
    if not device:
        return "-"
    match = _CPU_THREADS.match(device)
    if match:
        return f"cpu ×{match.group(1)}"
    return device.split(" ", 1)[0].rstrip(",")


def device_cell(run: RunInfo) -> str:
    """A run's device in a table cell, with its world size when several ranks trained it."""
    return device_with_ranks(run.device, run.world_size)


def device_with_ranks(device: str, world_size: int) -> str:
    """``cuda:0, 4 ranks``: a device in short, and how many ranks when more than one."""
    short = short_device(device)
    return f"{short}, {world_size} ranks" if world_size > 1 else short


def checkpoint_path(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / "last.pt"


def new_run_id(model: str) -> str:
    """``20260112-142301-mlp-3fa2``: sortable by time, readable, unique."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{model}-{secrets.token_hex(2)}"


def create_run(config: TrainConfig) -> Path:
    """A new run folder holding the config; the process is started by ``start``."""
    config.validate()
    folder = paths.runs_dir() / new_run_id(config.model)
    folder.mkdir(parents=True)
    (folder / "checkpoints").mkdir()
    atomic_write_text(folder / "config.json", config.to_json())
    return folder


def load_config(run_dir: Path) -> TrainConfig:
    return TrainConfig.from_dict(json.loads((run_dir / "config.json").read_text()))


def start(run_dir: Path, resume: bool = False, echo_fd: int | None = None) -> int:
    """Start the run's process, detached from this terminal and this process; return its pid.

    ``echo_fd``: the writing end of a pipe the run copies its events to (``train`` follows it).
    """
    if resume and run_state(run_dir)[0] == "running":
        raise RunBusy(f"The run {run_dir.name} is already running.")
    with contextlib.suppress(FileNotFoundError):
        (run_dir / "state.json").unlink()
    several = (run_dir / "launch.json").is_file()  # several ranks: torchrun under a supervisor
    # Forked from the warm template when it is up (torch already imported), else a fresh process.
    # The echo pipe of ``train`` cannot cross into a forked run (and the CLI has no template).
    forkable = echo_fd is None and not several
    pid = warm.launch_run(run_dir, resume) if forkable else None
    if pid is not None:
        _mark_started(run_dir, pid)
        return pid
    command = [sys.executable, "-m", RUN_MODULES[several], str(run_dir)]
    if resume:
        command.append("--resume")
    if echo_fd is not None:
        command += ["--echo-fd", str(echo_fd)]
    env = dict(os.environ)
    # The child must import this very tutor, wherever it was started from.
    package_parent = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    # Unbuffered output, so the log shows the last words of a crash.
    env["PYTHONUNBUFFERED"] = "1"
    with (run_dir / "log").open("ab") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=env,
            close_fds=True,
            pass_fds=() if echo_fd is None else (echo_fd,),
        )
    _mark_started(run_dir, process.pid)
    return process.pid


def _mark_started(run_dir: Path, pid: int) -> None:
    # Written here too, so the run counts as running from the first moment (the process is
    # started already: a full disk here must not make it look as if it had not).
    with contextlib.suppress(OSError):
        atomic_write_text(run_dir / "pid", str(pid))
        atomic_write_text(run_dir / "heartbeat", f"{time.time():.3f}")


def _read_float(path: Path) -> float | None:
    try:
        return float(path.read_text().strip())
    except (OSError, ValueError):
        return None


def pid_alive(pid: int, run_id: str | None = None) -> bool:
    """True when ``pid`` is a live (not zombie) run process; of the run ``run_id`` when given
    (its command line names the run, as a rank's does: only checked where ``/proc`` is)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if proc.is_dir():
        try:
            stat = (proc / "stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)  # our own child: reap it
                return False
            # A recycled pid belongs to some other program. A run forked from the template has
            # the template's command line and names itself instead.
            cmdline = (proc / "cmdline").read_bytes()
            if run_id is not None and run_id.encode() not in cmdline:
                return False
            if any(m.encode() in cmdline for m in _ALIVE_MODULES):
                return True
            return (proc / "comm").read_text().strip() == RUN_PROCESS_NAME
        except (OSError, IndexError):
            return False
    return True


def run_state(run_dir: Path) -> tuple[str, str]:
    """(state, message): running, done, failed or stopped."""
    final = run_dir / "state.json"
    if final.is_file():
        try:
            data = json.loads(final.read_text())
            return str(data.get("state", "failed")), str(data.get("message", ""))
        except (OSError, ValueError):
            return "failed", "Its state file is damaged."
    pid = _read_float(run_dir / "pid")
    beat = _read_float(run_dir / "heartbeat")
    if pid is not None and pid_alive(int(pid)):
        # Without /proc a recycled pid cannot be told apart: a stale heartbeat then means gone.
        fresh = beat is not None and time.time() - beat < HEARTBEAT_STALE_S
        if Path("/proc/self").is_dir() or fresh:
            return "running", ""
    from tutor.training.rank_files import ranks_running

    if ranks_running(run_dir):  # its supervisor died: its ranks save and end the run themselves
        return "running", ""
    if pid is None:
        return "failed", "It never started."
    return (
        "failed",
        "Its process ended without finishing (killed, or the machine restarted); resume it to "
        "continue from its last checkpoint.",
    )


def read_events(run_dir: Path) -> list[ev.Event]:
    """Every event in the run's metrics.jsonl (a half-written or unknown line is skipped)."""
    events: list[ev.Event] = []
    try:
        text = (run_dir / "metrics.jsonl").read_text()
    except OSError:
        return events
    for line in text.splitlines():
        with contextlib.suppress(ValueError):
            event = ev.parse(json.loads(line))
            if event is not None:
                events.append(event)
    return events


def read_unsaved(run_dir: Path) -> ev.Unsaved | None:
    """What an ended run could not write, from its state.json (None: all saved, or not ended)."""
    try:
        return ev.Unsaved.from_json(json.loads((run_dir / "state.json").read_text()).get("unsaved"))
    except (OSError, ValueError, AttributeError):
        return None


def info(run_dir: Path) -> RunInfo:
    """A run's summary, from its files."""
    state, message = run_state(run_dir)
    try:
        config = load_config(run_dir)
    except (OSError, ValueError, TypeError):
        config = TrainConfig()
        state, message = "failed", "Its config.json is missing or damaged."
    run = RunInfo(
        id=run_dir.name,
        path=run_dir,
        config=config,
        state=state,
        message=message,
        created=(run_dir / "config.json").stat().st_mtime
        if (run_dir / "config.json").exists()
        else 0.0,
    )
    # The run's small summary, not its whole metrics file: listing many runs stays quick.
    from tutor.training import summary

    brief = summary.for_listing(run_dir, state == "running", lambda: read_events(run_dir))
    run.device = brief.device
    run.world_size = brief.world_size
    run.epoch = brief.epoch
    run.val_accuracy = brief.val_accuracy
    run.train_loss = brief.train_loss
    if not run.message:
        run.message = brief.message
    run.unsaved = read_unsaved(run_dir) if state != "running" else None
    return run


def list_runs() -> list[RunInfo]:
    """All runs, newest first."""
    folders = [p for p in paths.runs_dir().iterdir() if p.is_dir() and (p / "config.json").exists()]
    return [info(p) for p in sorted(folders, key=lambda p: p.name, reverse=True)]


def find_run(ref: str) -> Path:
    """A run folder by id, unique id prefix, or ``last`` (the newest)."""
    folders = sorted(
        (p for p in paths.runs_dir().iterdir() if p.is_dir() and (p / "config.json").exists()),
        key=lambda p: p.name,
    )
    if not folders:
        raise RunNotFound("There are no training runs yet; start one with: pytorch-tutor train mlp")
    if ref == "last":
        return folders[-1]
    exact = [p for p in folders if p.name == ref]
    matches = exact or [p for p in folders if p.name.startswith(ref)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RunNotFound(
            f"No run is called {ref!r}; known runs, nearest first: "
            f"{_listing(nearest_runs(ref, [p.name for p in folders]))} (or last, the newest)."
        )
    raise RunNotFound(
        f"{ref!r} matches {len(matches)} runs; give more of the id: "
        f"{_listing(nearest_runs(ref, [p.name for p in matches]))}."
    )


def nearest_runs(ref: str, ids: list[str]) -> list[str]:
    """Run ids, the most like ``ref`` first (ties: the newest first)."""
    import difflib

    def likeness(run_id: str) -> float:
        # The id as typed may be a fragment (model name, date): score its best-matching stretch too.
        whole = difflib.SequenceMatcher(None, ref, run_id).ratio()
        part = max(
            (
                difflib.SequenceMatcher(None, ref, run_id[i : i + len(ref)]).ratio()
                for i in range(max(1, len(run_id) - len(ref) + 1))
            ),
            default=0.0,
        )
        return max(whole, part)

    newest_first = sorted(ids, reverse=True)
    return sorted(newest_first, key=likeness, reverse=True)


def _listing(ids: list[str], shown: int = 5) -> str:
    """At most ``shown`` ids, then how many more there are."""
    text = ", ".join(ids[:shown])
    if len(ids) > shown:
        text += f" and {len(ids) - shown} more (see: pytorch-tutor runs)"
    return text


def stop(run_dir: Path, wait_s: float = 0.0) -> bool:
    """Ask a running run to checkpoint and stop (SIGTERM); wait up to ``wait_s`` for it to end.

    Returns True when the run is no longer running at the end.
    """
    pid = _read_float(run_dir / "pid")
    state = run_state(run_dir)[0]
    if state != "running" or pid is None:
        raise RunBusy(not_running_text(run_dir.name, state))
    with contextlib.suppress(ProcessLookupError):
        os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if run_state(run_dir)[0] != "running":
            return True
        time.sleep(0.1)
    return run_state(run_dir)[0] != "running"


def not_running_text(run_id: str, state: str) -> str:
    """Why a run cannot be stopped, and what can be done with it instead."""
    if state == "done":
        then = f"see its results with: pytorch-tutor runs show {run_id}"
    else:
        then = (
            f"continue it with: pytorch-tutor train --resume {run_id}, or remove it with: "
            f"pytorch-tutor runs delete {run_id}"
        )
    return f"The run {run_id} is not running (it is {state}), so there is nothing to stop; {then}."


def delete(run_dir: Path) -> None:
    """Remove a run folder (not while it runs)."""
    if run_state(run_dir)[0] == "running":
        raise RunBusy(f"The run {run_dir.name} is running; stop it first.")
    shutil.rmtree(run_dir)
