"""The kernel's wire format: one JSON object per line, in both directions.

The parent writes requests (``{"op": ..., "id": n, ...}``) to the child's stdin; the child answers
on a private copy of its original stdout, so learner prints (which go through captured streams)
and C-level writes (redirected to stderr) can never corrupt the protocol.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from tutor.lessons.model import ExerciseStep

# Requests the child understands.
OPS = ("run", "reset", "check", "reference", "ping")


def encode(message: dict[str, Any]) -> bytes:
    """One message as a UTF-8 JSON line; lone surrogates in learner text are escaped, not fatal."""
    return (json.dumps(message, ensure_ascii=True) + "\n").encode("ascii")


def decode(line: bytes | str) -> dict[str, Any]:
    """Parse one line; raises ValueError on anything but a JSON object."""
    obj = json.loads(line)
    if not isinstance(obj, dict):
        raise ValueError("a protocol message must be a JSON object")
    return obj


def step_to_dict(step: ExerciseStep) -> dict[str, Any]:
    """The parts of an exercise step the child needs to run its checks, as plain JSON data."""
    data = dataclasses.asdict(step)
    return {
        key: data[key]
        for key in ("id", "lesson_id", "setup", "solution", "defines", "checks", "timeout")
    }
