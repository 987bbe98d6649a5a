"""Time for the quiz: an injectable clock that always yields timezone-aware UTC datetimes.

FSRS refuses naive or non-UTC datetimes, so every time that reaches the scheduler passes through
``as_utc``. Tests inject a fixed clock; the app and the CLI use ``system_clock``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current time in UTC."""
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    # FSRS compares tzinfo with timezone.utc by identity of value, so convert even +00:00 zones.
    return moment.astimezone(timezone.utc)


def iso(moment: datetime) -> str:
    """The stored form of a time: ISO 8601 in UTC to the second, so strings sort as times do."""
    return as_utc(moment).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime | None:
    """A stored time back as UTC, or None when the text is not a time."""
    try:
        return as_utc(datetime.fromisoformat(text))
    except (TypeError, ValueError):
        return None
