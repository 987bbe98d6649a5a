"""What a run reports, as typed events: built by the trainer, read by the CLI, the app and ``runs``.

Every event is a dataclass with a ``kind`` (the ``"event"`` field of its JSON). ``to_json`` and
``parse`` are the only places that know the JSON shape: one object per line in metrics.jsonl, and
the lines ``pytorch-tutor train --json`` prints (``cli_json``: the same without the per-step list of
losses). Field order is the JSON key order, so the lines stay byte-for-byte what they were.

``Unsaved`` says what a run could not write (metrics, checkpoints) and why; the final event and
``state.json`` carry it. Nothing here imports torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

# Fields that are left out of the JSON while they are None (others are written as null).
_OPTIONAL = {"optional": True}


@dataclass
class Unsaved:
    """What a run could not write to its folder, and why (a disk full, a quota, ...)."""

    # "checkpoint", "metrics" or both.
    what: list[str]
    # For tables: "finished, but nothing after epoch 1 was saved: the disk is full".
    summary: str
    # The kind of problem in a few words: "the disk is full", "the disk quota is exceeded", ...
    reason: str
    # The errno's name (ENOSPC, EDQUOT, EROFS, EACCES, EIO), or "" when not an OS error.
    errno: str
    # The last epoch whose end was checkpointed (0: none); resume continues after it.
    saved_epoch: int
    # One sentence for people: what was not saved, why, and what to do.
    message: str
    path: str = ""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, raw: Any) -> Unsaved | None:
        if not isinstance(raw, dict):
            return None
        try:
            return cls(
                what=[str(item) for item in raw.get("what", [])],
                summary=str(raw["summary"]),
                reason=str(raw.get("reason", "")),
                errno=str(raw.get("errno", "")),
                saved_epoch=int(raw.get("saved_epoch", 0)),
                message=str(raw.get("message", "")),
                path=str(raw.get("path", "")),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class Notice:
    """Something the learner should know (which data, which base, a checkpoint not written)."""

    kind: ClassVar[str] = "notice"
    message: str
    at: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass
class Start:
    """Training begins: the device, where model and data live, the sizes."""

    kind: ClassVar[str] = "start"
    device: str
    threads: int
    model: str
    model_summary: str
    model_on: str
    data_on: str
    where: str
    trainable_parameters: int
    dataset: str
    data_source: str
    classes: list[str]
    n_train: int
    n_test: int
    steps_per_epoch: int
    epochs: int
    batch_size: int
    start_epoch: int
    start_step: int
    # Several ranks (torchrun): how many; left out of a single process's line.
    world_size: int | None = field(default=None, metadata=_OPTIONAL)
    at: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass
class Resume:
    """A resumed run continues from its checkpoint at this epoch and step."""

    kind: ClassVar[str] = "resume"
    epoch: int
    step: int
    at: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass
class Step:
    """The losses of the last ``log_every`` steps, read back from the device at once."""

    kind: ClassVar[str] = "step"
    epoch: int
    step: int
    epoch_step: int
    steps_per_epoch: int
    train_loss: float
    losses: list[float]
    samples_per_s: float  # on one rank: with several ranks, rank 0's
    time: float
    at: float | None = field(default=None, metadata=_OPTIONAL)

    def rate(self, world_size: int | None = None) -> str:
        """``1,234 samples/s``; with several ranks ``2,468 samples/s (2 ranks × 1,234)``."""
        return rate_text(self.samples_per_s, world_size)


def rate_text(samples_per_s: float, world_size: int | None = None) -> str:
    """A speed measured on one rank, as all ranks together and one: ``2,468 samples/s (2 ranks
    × 1,234)``; one process: ``1,234 samples/s``."""
    if not world_size or world_size < 2:
        return f"{samples_per_s:,.0f} samples/s"
    total = samples_per_s * world_size
    return f"{total:,.0f} samples/s ({world_size} ranks × {samples_per_s:,.0f})"


@dataclass
class Epoch:
    """An epoch ended: its mean training loss and the validation loss and accuracy."""

    kind: ClassVar[str] = "epoch"
    epoch: int
    step: int
    train_loss: float
    val_loss: float
    val_accuracy: float
    seconds: float
    train_seconds: float
    at: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass
class Done:
    """The last epoch ended (final event); ``unsaved`` when some of it could not be written."""

    kind: ClassVar[str] = "done"
    epochs: int
    step: int
    train_loss: float | None
    val_loss: float | None
    val_accuracy: float | None
    seconds: float
    checkpoint: str
    message: str | None = field(default=None, metadata=_OPTIONAL)
    unsaved: Unsaved | None = field(default=None, metadata=_OPTIONAL)
    world_size: int | None = field(default=None, metadata=_OPTIONAL)
    at: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass
class Stopped:
    """The run stopped on request (final event); epoch and step are None before the first step."""

    kind: ClassVar[str] = "stopped"
    epoch: int | None = field(default=None, metadata=_OPTIONAL)
    step: int | None = field(default=None, metadata=_OPTIONAL)
    checkpoint: str | None = None
    seconds: float = 0.0
    message: str | None = field(default=None, metadata=_OPTIONAL)
    unsaved: Unsaved | None = field(default=None, metadata=_OPTIONAL)
    at: float | None = field(default=None, metadata=_OPTIONAL)


@dataclass
class Failed:
    """The run could not go on, or finished without saving its final model (final event)."""

    kind: ClassVar[str] = "failed"
    message: str = ""
    # Set when training finished but the final model was not saved: what was reached.
    epochs: int | None = field(default=None, metadata=_OPTIONAL)
    step: int | None = field(default=None, metadata=_OPTIONAL)
    train_loss: float | None = field(default=None, metadata=_OPTIONAL)
    val_loss: float | None = field(default=None, metadata=_OPTIONAL)
    val_accuracy: float | None = field(default=None, metadata=_OPTIONAL)
    checkpoint: str | None = field(default=None, metadata=_OPTIONAL)
    unsaved: Unsaved | None = field(default=None, metadata=_OPTIONAL)
    at: float | None = field(default=None, metadata=_OPTIONAL)


Event = Notice | Start | Resume | Step | Epoch | Done | Stopped | Failed
Final = Done | Stopped | Failed
KINDS: dict[str, type[Event]] = {
    cls.kind: cls for cls in (Notice, Start, Resume, Step, Epoch, Done, Stopped, Failed)
}


def is_final(event: Event) -> bool:
    """True for the event a run ends with: done, stopped or failed."""
    return isinstance(event, (Done, Stopped, Failed))


def to_json(event: Event) -> dict[str, Any]:
    """The event as its JSON object: ``{"event": kind, ...fields in order}``."""
    out: dict[str, Any] = {"event": event.kind}
    for item in dataclasses.fields(event):
        value = getattr(event, item.name)
        if value is None and item.metadata.get("optional"):
            continue
        out[item.name] = value.to_json() if isinstance(value, Unsaved) else value
    return out


def cli_json(event: Event) -> dict[str, Any]:
    """The object ``train --json`` prints: the event without its per-step list of losses."""
    out = to_json(event)
    out.pop("losses", None)
    return out


def parse(raw: Any) -> Event | None:
    """The event a JSON object describes, or None (unknown kind, missing or mistyped fields)."""
    if not isinstance(raw, dict):
        return None
    cls = KINDS.get(str(raw.get("event")))
    if cls is None:
        return None
    values: dict[str, Any] = {}
    for item in dataclasses.fields(cls):
        if item.name not in raw:
            continue
        value = raw[item.name]
        if item.name == "unsaved":
            value = Unsaved.from_json(value)
        values[item.name] = value
    try:
        return cls(**values)
    except TypeError:  # a required field is missing
        return None


def keep_on_resume(event: Event, step: int, next_epoch: int) -> bool:
    """Whether an event logged before a resume is still true of the checkpoint resumed from."""
    if isinstance(event, Step):
        return event.step <= step
    if isinstance(event, Epoch):
        return event.epoch < next_epoch
    return isinstance(event, (Start, Notice))


class EventSink(Protocol):
    """Where the trainer's events go: the run's metrics.jsonl, or a list in tests."""

    def emit(self, event: Event) -> None: ...

    def truncate_after(self, step: int, next_epoch: int) -> None: ...


class ListSink:
    """An EventSink that keeps events in memory (tests, benchmarks)."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def truncate_after(self, step: int, next_epoch: int) -> None:
        self.events = [e for e in self.events if keep_on_resume(e, step, next_epoch)]

    def of(self, cls: type[Any]) -> list[Any]:
        """The events of one kind, e.g. ``sink.of(Epoch)``."""
        return [e for e in self.events if isinstance(e, cls)]
