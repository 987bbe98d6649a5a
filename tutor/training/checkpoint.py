"""Checkpoints of a run: what they hold, written atomically, read with ``torch.load(weights_only=True)``.

A checkpoint is a plain dict of tensors, numbers, strings, lists and dicts (no pickled classes), so
``weights_only=True`` loads it; RNG states are CPU byte tensors. It is always loaded onto the CPU
first (``map_location="cpu"``), so a checkpoint written on a GPU machine loads on a laptop.

``Position`` is where training stands (epoch, step, place in the epoch, the epoch's loss so far);
``snapshot`` and ``restore`` turn a model, its optimizer, the RNGs and a position into a checkpoint
and back, so a resumed run computes exactly what an uninterrupted one would have.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from tutor.training.storage import StorageProblem, classify

if TYPE_CHECKING:
    import torch
    from torch import nn

FORMAT = 1
REQUIRED_KEYS = ("format", "model", "optimizer", "epoch", "step_in_epoch", "step", "config")


class CheckpointError(Exception):
    """A checkpoint that cannot be written or used; the message names the file and the problem."""

    def __init__(self, message: str, problem: StorageProblem | None = None) -> None:
        super().__init__(message)
        # Set when writing failed: why (disk full, quota, read-only, I/O error).
        self.problem = problem


@dataclass
class Position:
    """Where training stands: the next batch to train is ``step_in_epoch`` of ``epoch``."""

    epoch: int = 1
    step_in_epoch: int = 0
    step: int = 0
    # The epoch's training losses so far, summed over logged steps (its mean is the epoch's loss).
    epoch_loss_sum: float = 0.0
    epoch_loss_count: int = 0

    def next_epoch(self) -> None:
        self.epoch, self.step_in_epoch = self.epoch + 1, 0
        self.epoch_loss_sum, self.epoch_loss_count = 0.0, 0


def snapshot(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    position: Position,
    shuffle_state: torch.Tensor,
    extra: dict[str, Any],
) -> dict[str, Any]:
    """A checkpoint of this moment; ``shuffle_state``: the shuffling generator at the epoch's start."""
    import torch

    state: dict[str, Any] = {
        "format": FORMAT,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "epoch": position.epoch,
        "step_in_epoch": position.step_in_epoch,
        "step": position.step,
        "epoch_loss_sum": position.epoch_loss_sum,
        "epoch_loss_count": position.epoch_loss_count,
        **extra,
        "shuffle_rng": shuffle_state,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": [],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda_rng"] = list(torch.cuda.get_rng_state_all())
    return state


def restore(
    state: dict[str, Any],
    path: Path,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    shuffle: torch.Generator,
) -> Position:
    """Load a checkpoint into the model, the optimizer and the RNGs; return its position."""
    import torch

    try:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(
            f"The checkpoint {path} does not fit this model ({str(exc).splitlines()[0][:160]})."
        ) from exc
    shuffle.set_state(state["shuffle_rng"])
    torch.set_rng_state(state["torch_rng"])
    if state.get("cuda_rng") and torch.cuda.is_available():
        # One state per GPU the writer saw: a machine with fewer GPUs restores the ones it has.
        for index, gpu_state in enumerate(state["cuda_rng"][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(gpu_state, index)
    return Position(
        epoch=state["epoch"],
        step_in_epoch=state["step_in_epoch"],
        step=state["step"],
        epoch_loss_sum=float(state.get("epoch_loss_sum", 0.0)),
        epoch_loss_count=int(state.get("epoch_loss_count", 0)),
    )


@dataclass
class SaveRecord:
    """What a run's checkpoints hold: the last epoch saved, the first failure, the latest try."""

    saved_epoch: int = 0
    problem: CheckpointError | None = None
    # False when the most recent checkpoint could not be written: the run's newest state is lost.
    latest_ok: bool = True


class Checkpointer:
    """Writes one run's checkpoints to ``path`` and keeps the record of what got written."""

    def __init__(self, path: Path, extra: dict[str, Any], record: SaveRecord) -> None:
        self.path = path
        self.extra = extra  # config, transfer base, class names: the same in every checkpoint
        self.record = record

    def save(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        position: Position,
        shuffle_state: torch.Tensor,
    ) -> CheckpointError | None:
        """Checkpoint this moment; the error (the previous file intact) when it cannot be written."""
        try:
            save_checkpoint(
                self.path, snapshot(model, optimizer, position, shuffle_state, self.extra)
            )
        except CheckpointError as exc:
            self.record.problem = self.record.problem or exc
            self.record.latest_ok = False
            return exc
        self.record.latest_ok = True
        if position.step_in_epoch == 0:
            self.record.saved_epoch = position.epoch - 1
        return None


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` via a temp file and ``os.replace``.

    A full disk or a crash mid-write leaves the previous checkpoint as it was; raises
    CheckpointError with the reason, classified (disk full, quota, read-only, I/O error).
    """
    import torch

    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:
        # torch.save wraps some write errors in RuntimeError; either way the old file is intact.
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        problem = classify(exc, path.parent)
        text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise CheckpointError(
            f"Could not write the checkpoint {path} ({text}): {problem.reason} (at "
            f"{problem.where()}); the previous one is intact.",
            problem,
        ) from exc


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint onto the CPU; CheckpointError names the file and what is wrong."""
    if not path.is_file():
        raise CheckpointError(f"There is no checkpoint at {path}.")
    return _load(path, path)


def checkpoint_from_bytes(blob: bytes, path: Path) -> dict[str, Any]:
    """A checkpoint read elsewhere (rank 0 of a run on several machines) from its bytes.

    ``path`` names it in errors: the file on the machine that read it.
    """
    import io

    return _load(io.BytesIO(blob), path)


def _load(source: Path | IO[bytes], path: Path) -> dict[str, Any]:
    import torch

    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
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
