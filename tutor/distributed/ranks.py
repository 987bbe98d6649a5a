"""Run a learner's function on real ranks: separate processes in a gloo group on 127.0.0.1.

A world of one cannot tell a sum from a mean, nor show that rank 1 skipped a collective, so the
two-rank checks start the ranks themselves. The function travels as its code object (``marshal``,
the same interpreter runs the ranks) with what it needs from its globals: modules by name, the
learner's other functions the same way, and anything else that pickles. Each rank runs a task
from ``tutor.distributed.audits`` and writes its result as JSON; a rank that has not reported
``hang`` seconds after the first one did is stopped and reported as waiting, so nothing hangs.
"""

from __future__ import annotations

import json
import marshal
import os
import pickle
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tutor.atomic import atomic_write_bytes, atomic_write_text
from tutor.distributed.env import free_port

# Both limits together stay under the lesson steps' 60 s timeout, so the check, not the kernel's
# deadline, reports what happened.
START_LIMIT = 45.0  # seconds for every rank to import torch and report, on a loaded machine
HANG_LIMIT = 6.0  # seconds a rank may still run after the first rank has reported
PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent.parent)  # the folder holding ``tutor``


@dataclass
class RankResult:
    """What one rank did: ``ok`` with its values, ``error`` with its message, or ``waiting``."""

    rank: int
    status: str  # ok, error, waiting (stopped while still running), crashed (no report)
    values: dict[str, Any] = field(default_factory=dict)
    error: str = ""


def _names(code: types.CodeType) -> set[str]:
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= _names(const)
    return found


def pack_function(func: Any, _seen: set[int] | None = None) -> dict[str, Any]:
    """The function as plain data another process of this interpreter can rebuild."""
    seen = set() if _seen is None else _seen
    seen.add(id(func))
    modules: dict[str, str] = {}
    functions: dict[str, Any] = {}
    values: dict[str, bytes] = {}
    for name in _names(func.__code__):
        if name not in func.__globals__:
            continue
        value = func.__globals__[name]
        if isinstance(value, types.ModuleType):
            modules[name] = value.__name__
        elif isinstance(value, types.FunctionType) and value.__code__.co_filename.startswith("<"):
            if id(value) not in seen:  # the learner's own helper: send its code too
                functions[name] = pack_function(value, seen)
        else:
            try:
                values[name] = pickle.dumps(value)
            except Exception:
                continue  # unpicklable: the rank reports a NameError if it is really used
    return {
        "name": func.__name__,
        "code": marshal.dumps(func.__code__),
        "defaults": pickle.dumps(func.__defaults__),
        "modules": modules,
        "functions": functions,
        "values": values,
    }


def unpack_function(spec: dict[str, Any], scope: dict[str, Any] | None = None) -> Any:
    """Rebuild a function packed by ``pack_function`` (in the rank's process)."""
    import importlib

    scope = {"__builtins__": __builtins__, "__name__": "__main__"} if scope is None else scope
    for name, module in spec["modules"].items():
        scope[name] = importlib.import_module(module)
    for name, data in spec["values"].items():
        scope[name] = pickle.loads(data)
    for name, inner in spec["functions"].items():
        scope[name] = unpack_function(inner, scope)
    code = marshal.loads(spec["code"])
    return types.FunctionType(code, scope, spec["name"], pickle.loads(spec["defaults"]))


def _env(rank: int, world_size: int, port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_WORLD_SIZE=str(world_size),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        OMP_NUM_THREADS="1",  # one thread per rank: the ranks share the machine's cores
    )
    # The ranks import this package whatever the kernel's working folder is.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    return env


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.kill()
    for child in children:
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def run_ranks(
    task: str,
    func: Any,
    world_size: int = 2,
    start_limit: float = START_LIMIT,
    hang_limit: float = HANG_LIMIT,
) -> list[RankResult]:
    """Run ``audits.TASKS[task]`` with ``func`` on ``world_size`` ranks; one result per rank."""
    with tempfile.TemporaryDirectory(prefix="tutor-ranks-") as folder:
        work = Path(folder)
        spec = {"task": task, "function": pack_function(func), "folder": str(work)}
        atomic_write_bytes(work / "spec.pickle", pickle.dumps(spec))
        port = free_port()
        logs = [(work / f"stderr{rank}.txt").open("wb") for rank in range(world_size)]
        children = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tutor.distributed.worker_process",
                    str(work / "spec.pickle"),
                ],
                env=_env(rank, world_size, port),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=logs[rank],
            )
            for rank in range(world_size)
        ]
        for log in logs:
            log.close()  # each child holds its own copy
        reports = [work / f"rank{rank}.json" for rank in range(world_size)]
        try:
            deadline = time.monotonic() + start_limit
            first_report: float | None = None
            while time.monotonic() < deadline:
                done = [path.exists() for path in reports]
                if all(done):
                    break
                if any(done) and first_report is None:
                    first_report = time.monotonic()
                    deadline = min(deadline, first_report + hang_limit)
                if all(c.poll() is not None for c in children) and not any(
                    p.exists() for p in reports
                ):
                    break
                time.sleep(0.05)
            atomic_write_text(work / "done", "")
            exited = [child.poll() is not None for child in children]
        finally:
            _stop(children)
        return [_result(rank, reports[rank], exited[rank], work) for rank in range(world_size)]


def _result(rank: int, report: Path, exited: bool, work: Path) -> RankResult:
    if report.exists():
        data = json.loads(report.read_text(encoding="utf-8"))
        return RankResult(rank, data["status"], data.get("values", {}), data.get("error", ""))
    if not exited:
        return RankResult(rank, "waiting")
    stderr = (work / f"stderr{rank}.txt").read_text(encoding="utf-8", errors="replace")
    lines = [line for line in stderr.splitlines() if line.strip()]
    return RankResult(rank, "crashed", error=(lines or ["no output"])[-1][:300])
