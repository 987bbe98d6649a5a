"""The kernel child: ``python -m tutor.kernel.kernel_process``, a REPL namespace serving JSON-line requests.

It imports torch as soon as it starts (while the learner reads), limits torch to a thread or two,
and then answers requests from stdin on a private copy of its original stdout. Learner prints go
through captured streams; C-level writes to fd 1 land on stderr, which the parent drains.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import time
from typing import Any, BinaryIO

from tutor.kernel.protocol import decode, encode


class Child:
    """The child's state: the learner namespace, the last answer's calls, cached references."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self.namespace: dict[str, Any] = self.fresh()
        self.code = ""
        from tutor.execution.recorder import CallLog

        self.log = CallLog()
        self.references: dict[str, dict[str, Any]] = {}

    @staticmethod
    def fresh() -> dict[str, Any]:
        return {"__name__": "__main__", "__builtins__": __builtins__}

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(encode(message))
        self._out.flush()

    # Requests -----------------------------------------------------------------------------
    def op_ping(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"status": "ok"}

    def op_reset(self, request: dict[str, Any]) -> dict[str, Any]:
        """A fresh namespace with the step's setup run in it."""
        from tutor.execution.explain import remember_names
        from tutor.execution.recorder import CallLog
        from tutor.execution.runner import run_cell

        remember_names(self.namespace)
        self.namespace = self.fresh()
        self.code = ""
        self.log = CallLog()
        setup = request.get("setup", "")
        if not setup:
            return {"status": "ok", "error": "", "seconds": 0.0}
        return run_cell(setup, "<setup>", self.namespace, self._forward(request))

    def op_run(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run a cell in the namespace; an answer run also records its calls for the checks."""
        from tutor.execution.recorder import CallLog, Recorder
        from tutor.execution.runner import bound_names, describe, run_cell

        code = request.get("code", "")
        filename = request.get("filename", "<answer>")
        send = self._forward(request)
        if filename in ("<answer>", "<solution>"):  # a skip's reference run is the answer now
            self.code = code
            self.log = CallLog()
            with Recorder(self.log, direct_forwards=".forward(" in code):
                result = run_cell(code, filename, self.namespace, send)
        else:
            result = run_cell(code, filename, self.namespace, send)
        names = [*bound_names(code), *request.get("show", [])]
        summary = {}
        for name in dict.fromkeys(names):
            if name in self.namespace:
                try:
                    summary[name] = describe(self.namespace[name])
                except Exception:
                    summary[name] = {"kind": "value", "type": "?", "text": ""}
        result["summary"] = summary
        return result

    def reference_for(self, step: dict[str, Any]) -> dict[str, Any]:
        """The reference namespace of a step: setup then solution, fresh, cached per content."""
        from tutor.checks.context import CheckFailed
        from tutor.execution.runner import run_cell

        key = hashlib.sha256(
            (step.get("setup", "") + "\0" + step.get("solution", "")).encode(
                "utf-8", "surrogatepass"
            )
        ).hexdigest()
        if key not in self.references:
            namespace = self.fresh()
            quiet: Any = lambda _m: None  # noqa: E731 - the reference's prints are not the learner's
            for code, filename in (
                (step.get("setup", ""), "<setup>"),
                (step.get("solution", ""), "<solution>"),
            ):
                result = run_cell(code, filename, namespace, quiet)
                if result["status"] != "ok":
                    raise CheckFailed(
                        "The lesson's reference solution failed to run, so this step cannot be "
                        f"checked: report this lesson.\n{result['error']}"
                    )
            self.references[key] = namespace
        return self.references[key]

    def op_check(self, request: dict[str, Any]) -> dict[str, Any]:
        import random

        import torch

        from tutor.checks.context import CheckFailed, Context
        from tutor.checks.engine import run_checks

        step = request["step"]
        # Checks must not change what the learner's next run draws from the generators.
        torch_state, py_state = torch.get_rng_state(), random.getstate()
        ctx = Context(
            step=step,
            learner=self.namespace,
            reference_factory=lambda: self.reference_for(step),
            log=self.log,
            code=self.code,
            timeout=float(step.get("timeout", 5.0)),
        )
        try:
            verdict = run_checks(ctx)
        except CheckFailed as failed:
            verdict = {"passed": False, "messages": [failed.message]}
        finally:
            torch.set_rng_state(torch_state)
            random.setstate(py_state)
        return {"status": "ok", **verdict}

    def op_reference(self, request: dict[str, Any]) -> dict[str, Any]:
        """Run the step's solution in the learner's namespace (skip: later code finds its names)."""
        return self.op_run(
            {**request, "code": request["step"].get("solution", ""), "filename": "<solution>"}
        )

    def _forward(self, request: dict[str, Any]) -> Any:
        request_id = request.get("id")

        def send(message: dict[str, Any]) -> None:
            self.send({**message, "id": request_id})

        return send

    def serve(self, stdin: BinaryIO) -> None:
        while True:
            try:
                line = stdin.readline()
            except KeyboardInterrupt:  # an interrupt that arrived just after a run finished
                continue
            if not line:
                return
            try:
                request = decode(line)
            except ValueError:
                self.send({"type": "result", "id": None, "status": "error", "error": "bad request"})
                continue
            handler = getattr(self, f"op_{request.get('op')}", None)
            started = time.perf_counter()
            try:
                if handler is None:
                    raise ValueError(f"unknown op {request.get('op')!r}")
                result = handler(request)
            except KeyboardInterrupt:
                result = {"status": "interrupted", "error": "The code was interrupted."}
            except BaseException as exc:  # the child must outlive anything a request does
                result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
            result.setdefault("seconds", time.perf_counter() - started)
            self.send({"type": "result", "id": request.get("id"), **result})


def main() -> None:
    # The protocol gets the real stdout; fd 1 then points at stderr so C-level prints cannot
    # interleave with protocol lines.
    proto = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    # Requests arrive on a private copy of stdin; the learner's stdin is empty, so input() ends
    # with EOFError instead of eating protocol lines, and exit() closing sys.stdin changes nothing.
    requests = os.fdopen(os.dup(0), "rb")
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as the process
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault must not write a core file
    except (ImportError, ValueError, OSError):
        pass
    threads = int(os.environ.get("PYTORCH_TUTOR_KERNEL_THREADS", "1"))
    import torch

    torch.set_num_threads(max(threads, 1))
    # Ctrl-C from the terminal goes to the parent; SIGINT from the parent interrupts learner code.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    child = Child(proto)
    child.send({"type": "ready", "pid": os.getpid(), "torch": torch.__version__})
    child.serve(requests)


if __name__ == "__main__":
    main()
