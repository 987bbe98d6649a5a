"""How many CPU threads a training run uses, and the words every screen uses to say so.

A run leaves one core for the UI (and any already busy with other work), so torch's own default
(every core) is not what training uses. The devices screen, ``doctor`` and the training screen all
describe the CPU with ``cpu_text``: threads and cores together, so that their numbers agree.
"""

from __future__ import annotations

import os
import re

_CPU_HEAD = re.compile(r"^cpu, \d+ threads?")


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS has no sched_getaffinity
        return os.cpu_count() or 1


def free_threads(cores: int | None = None) -> int:
    """Threads for torch: the cores not already busy, minus one left for the UI, at least one.

    On a small shared machine two threads competing with a busy neighbour are far slower than one.
    """
    cores = cores or usable_cores()
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(cores - 1, int(cores - busy)))


def most_threads(cores: int) -> int:
    """The threads a run takes on an idle machine: every core but the one left for the UI."""
    return max(1, cores - 1)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def cpu_text(threads: int, cores: int, chosen: bool = False, at_most: bool = False) -> str:
    """``cpu, 1 thread of 2 cores (1 left free for the UI)``.

    ``chosen``: the run's settings fixed the threads, so nothing was left free on purpose.
    ``at_most``: a prediction before the run (``up to``): a busy machine gets fewer.
    """
    head = f"cpu, {'up to ' if at_most else ''}{_plural(threads, 'thread')} of {_plural(cores, 'core')}"
    left = cores - threads
    if chosen or left <= 0:
        return head
    if left == 1:
        return f"{head} (1 left free for the UI)"
    return f"{head} ({left} left free: one for the UI, {left - 1} busy with other work)"


def with_cpu_text(
    description: str, threads: int, cores: int, chosen: bool = False, at_most: bool = False
) -> str:
    """``description`` (``cpu, 2 threads (auto: no CUDA)``) with its CPU part told by ``cpu_text``.

    Descriptions of other devices are returned as they are.
    """
    match = _CPU_HEAD.match(description)
    if match is None:
        return description
    head = cpu_text(threads, cores, chosen, at_most)
    rest = description[match.end() :].strip()
    if rest.startswith("(") and rest.endswith(")"):
        inner = rest[1:-1]
        return f"{head[:-1]}; {inner})" if head.endswith(")") else f"{head} ({inner})"
    return f"{head} {rest}".rstrip()
