"""The FSRS rating an answer earns; learners never rate themselves.

Wrong: Again. Right after a hint: Hard. Right: Good. Right and fast: Easy. "Fast" is under about
eight seconds for a choice, with time added per character for a typed answer.
"""

from __future__ import annotations

from fsrs import Rating

CHOICE_FAST_SECONDS = 8.0
CODE_FAST_SECONDS = 10.0
# Typing takes time: a typed answer is fast under a base plus this much per character typed.
TYPED_BASE_SECONDS = 6.0
TYPED_SECONDS_PER_CHAR = 0.4


def fast_limit(mode: str, typed: str = "") -> float:
    """The time under which a right answer counts as fast."""
    if typed:
        return TYPED_BASE_SECONDS + TYPED_SECONDS_PER_CHAR * len(typed.strip())
    return CODE_FAST_SECONDS if mode == "code" else CHOICE_FAST_SECONDS


def rate(correct: bool, hinted: bool, seconds: float, mode: str, typed: str = "") -> Rating:
    """The rating for one answer; ``typed`` is the text typed (empty for a picked choice)."""
    if not correct:
        return Rating.Again
    if hinted:
        return Rating.Hard
    if 0 <= seconds < fast_limit(mode, typed):
        return Rating.Easy
    return Rating.Good
