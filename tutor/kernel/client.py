"""The parent's side of the kernel: start the child, run code, check answers, survive anything.

Usable from a UI thread worker and from the CLI; every public method is serialised by a lock and
blocks only the calling thread. Safety rules:

* Timeout: SIGINT first; if the child does not answer within a grace second, it is killed.
* Crash (os._exit, segfault, SystemExit at a bad moment) or memory over the limit (the parent
  watches the child's resident memory): the child is killed and a new one started.
* After any of these the namespace is restored to its state before that run by replaying the
  step's setup and every cell that completed since (``history``), quietly. Replay is exact for
  deterministic code (lessons seed their generators in setup); it re-runs the learner's earlier
  cells, so their cost is paid again.
* A timeout, crash or memory stop is always a failed run, never a pass.

With ``spare=True`` a second child imports torch in the background, so a restart costs only the
replay instead of a torch import. A kernel forked from the warm template (``tutor.processes``)
needs no spare: a fresh fork starts in milliseconds, so none is kept while the template is up.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tutor import warm
from tutor.kernel.process import EOF as _EOF
from tutor.kernel.process import READY_TIMEOUT, crash_reason
from tutor.kernel.process import ChildProcess as _Process
from tutor.kernel.protocol import step_to_dict
from tutor.lessons.model import ExerciseStep

OutputCallback = Callable[[str, str], None]  # (stream, text)

GRACE_SECONDS = 1.0
POLL_SECONDS = 0.05
OUTPUT_KEEP = 256 * 1024

COMPLETED = ("ok", "error", "exit")  # statuses whose cells are replayed after a restart


@dataclass
class RunResult:
    """What became of one run: ``status`` is ok, error, exit, timeout, crashed or memory."""

    status: str
    error: str = ""
    output: str = ""
    summary: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0
    notice: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def message(self) -> str:
        """The sentence(s) a learner sees for a failed run; empty for a clean one."""
        return "\n".join(part for part in (self.error, self.notice) if part)


@dataclass
class Verdict:
    """The checks' answer: passed or not, and the messages (the first failure first)."""

    passed: bool
    messages: list[str]


class KernelError(Exception):
    """The kernel could not be started at all (a broken installation)."""


class Kernel:
    """A learner's REPL in a child process. ``Kernel.start()`` returns at once; torch loads meanwhile."""

    def __init__(self, *, threads: int = 1, memory_mb: int = 3072, spare: bool = False) -> None:
        self.threads = threads
        self.memory_limit = memory_mb * 1024 * 1024
        self.use_spare = spare
        self.restarts = 0
        self._lock = threading.RLock()
        self._proc: _Process | None = None
        self._spare: _Process | None = None
        self._next_id = 0
        self._setup = ""
        self._setup_timeout = 30.0
        self.history: list[tuple[str, str, float]] = []  # (code, filename, timeout) since reset

    # Life cycle ------------------------------------------------------------------------------
    @classmethod
    def start(cls, **kwargs: Any) -> Kernel:
        kernel = cls(**kwargs)
        with kernel._lock:
            kernel._proc = _Process(kernel.threads)
            if kernel._wants_spare():
                kernel._spare = _Process(kernel.threads)
        return kernel

    def _ensure(self) -> _Process:
        """The live child, started if need be, with torch imported."""
        if self._proc is None or not self._proc.alive():
            if self._proc is not None:
                self._proc.kill()
            self._proc = self._take_spare() or _Process(self.threads)
        if not self._proc.ready.wait(READY_TIMEOUT) or not self._proc.alive():
            tail = "".join(self._proc.stderr_tail).strip().splitlines()[-1:]
            raise KernelError(
                "The Python kernel could not start"
                + (f" ({tail[0]})" if tail else "")
                + "; run `pytorch-tutor doctor` to check the installation."
            )
        return self._proc

    def _take_spare(self) -> _Process | None:
        spare, self._spare = self._spare, None
        if self._wants_spare():
            self._spare = _Process(self.threads)
        if spare is not None and spare.alive():
            return spare
        if spare is not None:
            spare.kill()
        return None

    def _wants_spare(self) -> bool:
        return self.use_spare and warm.state() not in ("starting", "ready")

    def close(self) -> None:
        with self._lock:
            for proc in (self._proc, self._spare):
                if proc is not None:
                    proc.close()
            self._proc = self._spare = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    # Requests --------------------------------------------------------------------------------
    def _request(
        self, message: dict[str, Any], timeout: float, on_output: OutputCallback | None = None
    ) -> dict[str, Any]:
        """Send one request and wait for its result; timeouts, crashes and memory are handled."""
        proc = self._ensure()
        self._next_id += 1
        request_id = self._next_id
        output: list[str] = []
        kept = 0
        started = time.monotonic()
        deadline = started + timeout
        interrupted = False
        if not proc.send({**message, "id": request_id}):
            return {"status": "crashed", "error": "", "reason": crash_reason(proc.proc.poll())}
        while True:
            try:
                reply = proc.messages.get(timeout=POLL_SECONDS)
            except queue.Empty:
                reply = None
            now = time.monotonic()
            if reply is _EOF:
                proc.proc.wait()
                return {
                    "status": "crashed",
                    "reason": crash_reason(proc.proc.returncode),
                    "output": "".join(output),
                }
            if reply is not None and reply.get("id") == request_id:
                if reply.get("type") == "out":
                    text = str(reply.get("text", ""))
                    if kept < OUTPUT_KEEP:
                        output.append(text[: OUTPUT_KEEP - kept])
                        kept += len(text)
                    if on_output is not None:
                        on_output(str(reply.get("stream", "stdout")), text)
                    continue
                if reply.get("type") == "result":
                    reply["output"] = "".join(output)
                    if interrupted:
                        reply["status"] = "timeout"
                    return reply
            if self.memory_limit and proc.rss_bytes() > self.memory_limit:
                proc.kill()
                return {"status": "memory", "output": "".join(output)}
            if now >= deadline:
                if not interrupted:
                    interrupted = True
                    proc.interrupt()
                    deadline = now + GRACE_SECONDS
                else:
                    proc.kill()
                    return {"status": "timeout", "killed": True, "output": "".join(output)}

    def _restore(self, restarted: bool) -> str:
        """Bring back the namespace from before the failed run; returns the sentence to show."""
        if restarted:
            self.restarts += 1
            try:
                self._ensure()
            except KernelError as exc:
                return str(exc)
        how = "The kernel was restarted and your" if restarted else "Your"
        reply = self._request({"op": "reset", "setup": self._setup}, self._setup_timeout)
        if reply.get("status") not in COMPLETED:
            self.history.clear()
            return (
                f"{how} variables could not be restored: the step's setup failed; reset the step."
            )
        for code, filename, timeout in list(self.history):
            reply = self._request({"op": "run", "code": code, "filename": filename}, timeout * 2)
            if reply.get("status") not in COMPLETED:
                self.history.clear()
                self._request({"op": "reset", "setup": self._setup}, self._setup_timeout)
                return f"{how} variables were reset to the step's start (replaying your earlier code failed)."
        return f"{how} variables are as they were before this run."

    def _result(self, reply: dict[str, Any], timeout: float) -> RunResult:
        status = str(reply.get("status", "error"))
        result = RunResult(
            status=status,
            error=str(reply.get("error", "")),
            output=str(reply.get("output", "")),
            summary=dict(reply.get("summary") or {}),
            seconds=float(reply.get("seconds", 0.0)),
        )
        if status == "timeout":
            result.error = (
                f"Your code ran longer than {timeout:g} s and was stopped "
                "(an endless loop, or too much work for one step)."
            )
            result.notice = self._restore(restarted=bool(reply.get("killed")))
        elif status == "crashed":
            result.error = f"The Python process running your code crashed: {reply.get('reason')}."
            result.notice = self._restore(restarted=True)
        elif status == "memory":
            limit = self.memory_limit // (1024 * 1024)
            result.error = f"Your code used more than {limit} MB of memory and was stopped."
            result.notice = self._restore(restarted=True)
        elif status == "interrupted":
            result.notice = self._restore(restarted=False)
        return result

    def reset(self, step: ExerciseStep | None = None, setup: str | None = None) -> RunResult:
        """A fresh namespace with the step's setup run in it (the post-setup state)."""
        with self._lock:
            self._setup = setup if setup is not None else (step.setup if step else "")
            self.history.clear()
            if step is not None:
                self._setup_timeout = max(step.timeout * 6, 30.0)
            reply = self._request({"op": "reset", "setup": self._setup}, self._setup_timeout)
            if reply.get("status") in ("timeout", "crashed", "memory"):
                self._setup = ""
            return self._result(reply, self._setup_timeout)

    def run(
        self,
        code: str,
        timeout: float = 5.0,
        on_output: OutputCallback | None = None,
        *,
        filename: str = "<answer>",
        show: Iterable[str] = (),
    ) -> RunResult:
        """Run a cell in the namespace; ``<answer>`` cells are the ones the checks look at."""
        with self._lock:
            message = {"op": "run", "code": code, "filename": filename, "show": list(show)}
            reply = self._request(message, timeout, on_output)
            if reply.get("status") in COMPLETED:
                self.history.append((code, filename, timeout))
            return self._result(reply, timeout)

    def run_reference(self, step: ExerciseStep) -> RunResult:
        """Run the step's solution in the learner's namespace (skip)."""
        with self._lock:
            timeout = max(step.timeout * 2, 10.0)
            reply = self._request(
                {
                    "op": "run",
                    "code": step.solution,
                    "filename": "<solution>",
                    "show": list(step.defines),
                },
                timeout,
            )
            if reply.get("status") in COMPLETED:
                self.history.append((step.solution, "<solution>", timeout))
            return self._result(reply, timeout)

    def check(self, step: ExerciseStep) -> Verdict:
        """Run the step's checks against the namespace as the last answer left it."""
        with self._lock:
            timeout = step.timeout * 4 + 30.0
            reply = self._request({"op": "check", "step": step_to_dict(step)}, timeout)
            status = reply.get("status")
            if status == "ok":
                return Verdict(
                    bool(reply.get("passed")), [str(m) for m in reply.get("messages", [])]
                )
            result = self._result(reply, step.timeout)
            text = result.message or f"The checks could not run: {result.error or status}."
            return Verdict(False, [text])

    def answer(
        self, step: ExerciseStep, code: str, on_output: OutputCallback | None = None
    ) -> tuple[RunResult, Verdict]:
        """Run ``code`` as the step's answer in the current namespace, then check it.

        A run that fails (error, timeout, crash) is a failed verdict with the run's message.
        """
        result = self.run(code, step.timeout, on_output, show=step.defines)
        if not result.ok:
            return result, Verdict(False, [result.message or "Your code did not finish."])
        return result, self.check(step)
