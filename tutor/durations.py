"""Durations as text, one way everywhere: ``4:05`` under an hour, ``1:02:03`` from an hour on."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """``4:05`` or ``1:02:03`` (whole seconds; never minutes past 59)."""
    whole = max(int(seconds), 0)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"
