"""Which availability questions an exercise's code asked (``torch.cuda.is_available()`` and kin).

On a machine without a GPU, ``device = torch.device("cpu")`` gives the same value as the right
answer, so the ``devices.pick`` exercise also checks that the code *asked*. ``watch_availability``
wraps the availability functions once per process; each wrapper still returns the true answer,
and notes the question in the ``AvailabilityLog`` stored as ``_asked`` in the globals of the
code that called it directly, so the learner's and the reference's
namespaces never share notes even when they live in one process.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

LOG_NAME = "_asked"
_MARK = "_tutor_watched"


class AvailabilityLog:
    """The questions asked (``"cuda"``, ``"mps"``) and the true answers, for ``expr`` checks."""

    def __init__(self, cuda_available: bool, mps_available: bool) -> None:
        self.asked: set[str] = set()
        self.cuda_available = cuda_available
        self.mps_available = mps_available

    def __contains__(self, question: object) -> bool:
        return question in self.asked

    def __repr__(self) -> str:
        return f"AvailabilityLog(asked={sorted(self.asked)})"

    @property
    def asked_in_order(self) -> bool:
        """True when the code asked about MPS, or never needed to because CUDA answered yes."""
        return "cuda" in self.asked and ("mps" in self.asked or self.cuda_available)


def _caller_log() -> AvailabilityLog | None:
    # Only the direct caller counts (frame 2: past this function and the wrapper): torch's own
    # internal calls made on the learner's behalf must not count as the learner asking.
    log = sys._getframe(2).f_globals.get(LOG_NAME)
    return log if isinstance(log, AvailabilityLog) else None


def _wrap(owner: Any, attr: str, questions: tuple[str, ...]) -> None:
    original = getattr(owner, attr, None)
    if original is None or getattr(original, _MARK, False):
        return

    @functools.wraps(original)
    def asked(*args: Any, **kwargs: Any) -> Any:
        log = _caller_log()
        if log is not None:
            log.asked.update(questions)
        return original(*args, **kwargs)

    setattr(asked, _MARK, True)
    setattr(owner, attr, asked)


def _unwrapped(func: Callable[[], Any]) -> Callable[[], Any]:
    return getattr(func, "__wrapped__", func) if getattr(func, _MARK, False) else func


def watch_availability(torch: Any) -> AvailabilityLog:
    """Wrap the availability questions (once) and return a fresh log to store as ``_asked``."""
    _wrap(torch.cuda, "is_available", ("cuda",))
    _wrap(torch.cuda, "device_count", ("cuda",))
    _wrap(torch.backends.mps, "is_available", ("mps",))
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None:
        # One question about "the" accelerator covers CUDA and MPS alike.
        _wrap(accelerator, "is_available", ("cuda", "mps"))
        _wrap(accelerator, "current_accelerator", ("cuda", "mps"))
    try:
        cuda = bool(_unwrapped(torch.cuda.is_available)())
    except Exception:
        cuda = False  # a broken CUDA counts as no CUDA, as everywhere in the tutor
    try:
        mps = bool(_unwrapped(torch.backends.mps.is_available)())
    except Exception:
        mps = False
    return AvailabilityLog(cuda, mps)
