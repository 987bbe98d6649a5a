"""Waiting for a condition: in a plain test (``wait_for``) or a Pilot test (``wait_until``).

Both poll and fail with what they waited for; the timeouts are generous because a loaded machine
may take a while to start torch or a child process. They bound a wait, they time nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_for(condition: Callable[[], object], what: str, timeout: float = 120.0) -> None:
    """Poll ``condition`` every 50 ms until it holds; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def wait_until(
    pilot: Any,
    condition: Callable[[], object],
    what: str = "the condition",
    timeout: float = 120.0,
    interval: float = 0.1,
) -> None:
    """Let the app run (``pilot.pause``) until ``condition`` holds; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(interval)
    raise AssertionError(f"timed out waiting for {what}")
