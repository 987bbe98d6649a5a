"""What a check sees inside the kernel child: both namespaces, the call log, and safe evaluation.

Every evaluation of learner-side code (an ``expr``, the learner's function in a property check)
runs under the call recorder, under a deadline, and after seeding the random generators the same
way as for the reference, so a dropout layer or ``torch.rand`` gives both sides the same numbers.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tutor.execution.recorder import CallLog, Recorder

CHECK_SEED = 1234


def with_article(word: str) -> str:
    """``word`` after "a" or "an" as English wants it: "an int", "a float", "an nn.Module"."""
    # The sound decides, but a leading vowel letter is right for every Python type name in use.
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def kind_of(value: Any) -> str:
    """What a value is, for "but it is ...": "an int", "a list", or "None"."""
    return "None" if value is None else with_article(type(value).__name__)


class CheckTimeout(BaseException):
    """Learner code ran past its deadline during a check (a BaseException so bare excepts miss it)."""


class CheckFailed(Exception):
    """A check's verdict: fail, with the sentence the learner sees."""

    def __init__(self, message: str, *, value_failure: bool = False) -> None:
        super().__init__(message)
        self.message = message
        # True for a wrong value, which a matching misconception's message replaces.
        self.value_failure = value_failure
        # Expected and actual values drawn side by side, for a small tensor ("" otherwise).
        self.picture = ""


class RefView:
    """The reference namespace as ``ref.name`` or ``ref["name"]`` inside ``expr`` checks."""

    def __init__(self, namespace: dict[str, Any]) -> None:
        self._ns = namespace

    def __getattr__(self, name: str) -> Any:
        try:
            return self._ns[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._ns[name]

    def __contains__(self, name: object) -> bool:
        return name in self._ns

    def get(self, name: str, default: Any = None) -> Any:
        return self._ns.get(name, default)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ``CheckTimeout`` in this thread after ``seconds`` (Python code only; C code finishes)."""

    def expire(_signum: int, _frame: Any) -> None:
        raise CheckTimeout()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def seed_all() -> None:
    """The same random state before each side's evaluation."""
    import torch

    torch.manual_seed(CHECK_SEED)
    random.seed(CHECK_SEED)


def helpers() -> dict[str, Any]:
    """Names every check expression may use, whatever the learner imported."""
    import torch

    return {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}


@dataclass
class Context:
    """One check pass: the step, the learner's namespace, the reference (made on demand), calls."""

    step: dict[str, Any]
    learner: dict[str, Any]
    reference_factory: Callable[[], dict[str, Any]]
    log: CallLog
    code: str
    timeout: float = 5.0
    _reference: dict[str, Any] | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> dict[str, Any]:
        if self._reference is None:
            self._reference = self.reference_factory()
        return self._reference

    def learner_value(self, name: str) -> Any:
        if name not in self.learner:
            raise CheckFailed(f"`{name}` is not defined: your code must create `{name}`.")
        return self.learner[name]

    def reference_value(self, name: str) -> Any:
        if name not in self.reference:
            raise CheckFailed(
                f"The lesson's reference solution does not define `{name}`: report this lesson."
            )
        return self.reference[name]

    def eval_learner(self, expr: str, extra: dict[str, Any] | None = None) -> Any:
        """Evaluate ``expr`` with the learner's names (plus ``ref``), recording calls, under a deadline."""
        scope = {**helpers(), **self.learner, "ref": RefView(self.reference), **(extra or {})}
        return self.call_learner(lambda: eval(compile(expr, "<check>", "eval"), scope))

    def eval_reference(self, expr: str, extra: dict[str, Any] | None = None) -> Any:
        scope = {**helpers(), **self.reference, **(extra or {})}
        seed_all()
        with deadline(self.timeout * 2):
            return eval(compile(expr, "<check>", "eval"), scope)

    def call_learner(self, thunk: Callable[[], Any]) -> Any:
        """Run learner-side code: seeded, recorded, under the step's deadline."""
        seed_all()
        with Recorder(self.log, direct_forwards=".forward(" in self.code), deadline(self.timeout):
            return thunk()
