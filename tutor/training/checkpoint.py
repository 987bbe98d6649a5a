"""Checkpoints of a run: written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (no pickled classes), so
``weights_only=True`` loads it; RNG states are CPU byte tensors. It is always loaded onto the CPU
first (``map_location="cpu"``), so a checkpoint written on a GPU machine loads on a laptop.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

FORMAT = 1
REQUIRED_KEYS = ("format", "model", "optimizer", "epoch", "step_in_epoch", "step", "config")


class CheckpointError(Exception):
    """A checkpoint that cannot be written or used; the message names the file and the problem."""


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` via a temp file and ``os.replace``.

    A full disk or a crash mid-write leaves the previous checkpoint as it was; raises
    CheckpointError with the reason.
    """
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        # torch.save wraps some write errors in RuntimeError; either way the old file is intact.
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CheckpointError(
            f"Could not write the checkpoint {path} ({reason}); the previous one is intact."
        ) from exc


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint onto the CPU; CheckpointError names the file and what is wrong."""
    import torch

    if not path.is_file():
        raise CheckpointError(f"There is no checkpoint at {path}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, foreign pickle, wrong file: all mean "unusable"
        raise CheckpointError(
            f"The checkpoint {path} cannot be read ({str(exc).splitlines()[0][:160]})."
        ) from exc
    if not isinstance(state, dict) or any(key not in state for key in REQUIRED_KEYS):
        raise CheckpointError(f"The checkpoint {path} is not a training checkpoint of this tutor.")
    if state["format"] != FORMAT:
        raise CheckpointError(
            f"The checkpoint {path} has format {state['format']}; this tutor reads format {FORMAT}."
        )
    return state
