"""A stand-in for ``tutor.kernel.Kernel`` that answers at once, for tests of the exercise rules.

It judges code by simple text rules instead of running it: code that fails to compile gives a
SyntaxError result, the step's solution passes, ``raise`` gives a runtime error, anything else
runs and fails the checks. Every call is logged in ``calls``.
"""

from __future__ import annotations

from tutor.kernel import RunResult, Verdict
from tutor.kernel.client import OutputCallback
from tutor.lessons.model import ExerciseStep


class FakeKernel:
    """Answers like a kernel without a child process; see the module docstring for its rules."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.closed = False

    def _result(self, code: str, on_output: OutputCallback | None) -> RunResult:
        try:
            compile(code, "<answer>", "exec")
        except SyntaxError as exc:
            return RunResult("error", error=f"SyntaxError: {exc.msg}")
        if "raise" in code:
            return RunResult("error", error="Traceback (most recent call last):\nValueError: boom")
        if "print(" in code and on_output is not None:
            on_output("stdout", "printed\n")
        return RunResult("ok", summary={"y": {"kind": "other", "type": "int", "text": "1"}})

    def reset(self, step: ExerciseStep | None = None, setup: str | None = None) -> RunResult:
        self.calls.append("reset")
        return RunResult("ok")

    def run(
        self,
        code: str,
        timeout: float = 5.0,
        on_output: OutputCallback | None = None,
        *,
        filename: str = "<answer>",
        show: object = (),
    ) -> RunResult:
        self.calls.append(f"run {filename}")
        return self._result(code, on_output)

    def run_reference(self, step: ExerciseStep) -> RunResult:
        self.calls.append("reference")
        return RunResult("ok")

    def check(self, step: ExerciseStep) -> Verdict:
        self.calls.append("check")
        return Verdict(False, ["`y` is wrong."])

    def answer(
        self, step: ExerciseStep, code: str, on_output: OutputCallback | None = None
    ) -> tuple[RunResult, Verdict]:
        self.calls.append("answer")
        result = self._result(code, on_output)
        if not result.ok:
            return result, Verdict(False, [result.message])
        if code.strip() == step.solution.strip():
            return result, Verdict(True, ["All checks pass."])
        return result, Verdict(False, ["`y` is wrong.", "`y` should be about 0.16."])

    def close(self) -> None:
        self.closed = True
