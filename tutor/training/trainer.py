"""The training of one run, top to bottom: device, data, model, then epochs of train and evaluate.

``train`` reads like PyTorch's own MNIST example: ``prepare`` builds what the run trains with (the
device, the data, the model, its loss and optimizer: a ``Job``), a checkpoint is restored when
resuming, and ``fit`` runs the epochs, each one ``train_epoch`` and ``evaluate`` (``loop.py``)
followed by a checkpoint (``checkpoint.py``). What it adds is what a tutor needs: events for the
live chart, checkpoints that resume exactly, stopping on request, and one clear sentence when
something goes wrong. A checkpoint that cannot be written does not end the run: it goes on, says
so, and ``SaveRecord`` tells the run process what was not saved.

Speed comes from holding the whole dataset as one normalised tensor (on the device when it fits),
slicing batches from a seeded permutation, and reading the loss back to the host only when logging.
torch is imported inside functions: this module is imported by the run process only.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.training.checkpoint import (
    Checkpointer,
    CheckpointError,
    Position,
    SaveRecord,
    checkpoint_from_bytes,
    load_checkpoint,
    restore,
)
from tutor.training.config import TrainConfig
from tutor.training.events import Done, Epoch, EventSink, Notice, Resume, Start, Stopped
from tutor.training.loop import (
    LossLog,
    StopRequested,
    TrainingFailed,
    evaluate,
    train_epoch,
)
from tutor.training.models import MODELS
from tutor.training.setup import Device, PlacedData, choose_device, make_optimizer, place_data
from tutor.training.transfer import build_for_run, set_train_mode

if TYPE_CHECKING:
    import torch
    from torch import nn

    from tutor.distributed.runtime import RankContext
    from tutor.distributed.training import AgreedStop, Ranks
    from tutor.training.data import TensorData

__all__ = ["Job", "SaveRecord", "StopRequested", "TrainingFailed", "fit", "prepare", "train"]


@dataclass
class Job:
    """What a run trains with, built before the loop and kept apart from it."""

    config: TrainConfig
    device: Device
    data: TensorData
    placed: PlacedData
    model: nn.Module
    criterion: nn.Module
    optimizer: torch.optim.Optimizer
    shuffle: torch.Generator
    # For ``transfer``: which frozen base ("cnn", "torchvision:resnet18"); None for other models.
    base_kind: str | None
    # Several ranks under torchrun (the model is then wrapped in DDP); None for one process.
    ranks: Ranks | None = None

    @property
    def steps_per_epoch(self) -> int:
        size = len(self.placed.train_images)
        if self.ranks is not None:  # each rank trains its shard, in per-rank batches
            size = self.ranks.shard_size(size)
        return math.ceil(size / self.config.batch_size)


def train(
    config: TrainConfig,
    checkpoint_path: Path,
    sink: EventSink,
    stop: threading.Event | None = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
    saves: SaveRecord | None = None,
    context: RankContext | None = None,
) -> Done | Stopped:
    """Train as configured and return the final event (``Done`` or ``Stopped``).

    Raises TrainingFailed (and CheckpointError) with a sentence for the learner. ``stop`` set
    from another thread (a signal handler) makes the loop checkpoint its exact position and
    return. ``on_step(global_step)`` is called after every step (tests). ``saves`` receives what
    the checkpoints hold (the last epoch saved, the first write failure). ``context``: this
    process is one rank of several (torchrun); every rank calls ``train``, rank 0 alone writes.
    """
    stop = stop or threading.Event()
    saves = saves if saves is not None else SaveRecord()
    config.validate()
    began = time.perf_counter()

    state = _resume_state(checkpoint_path, context) if resume else None
    try:
        job = prepare(config, sink, stop, state.get("transfer_base") if state else None)
    except StopRequested as exc:
        return _stopped_early(str(exc), resume, checkpoint_path, began)

    # Where to start: from scratch, or exactly where the checkpoint left off.
    position = Position()
    if state is not None:
        position = restore(state, checkpoint_path, job.model, job.optimizer, job.shuffle)
        saves.saved_epoch = position.epoch - 1
    if context is not None and context.info.distributed:
        # Wrapped after the restore: DDP hands rank 0's weights to every rank as it wraps.
        from tutor.distributed.runtime import wrap_model
        from tutor.distributed.training import Ranks

        job.model = wrap_model(job.model, context)
        job.ranks = Ranks(context)
    if resume:
        # Whatever was logged after the checkpoint (or at all, without one) happens again now.
        sink.truncate_after(position.step, position.epoch)
        sink.emit(Resume(epoch=position.epoch, step=position.step))
    sink.emit(start_event(job, position))

    extra: dict[str, Any] = {
        "config": config.to_dict(),
        "transfer_base": job.base_kind,
        "classes": list(job.data.classes),
    }
    if job.ranks is not None:
        extra["world_size"] = job.ranks.world_size
    checkpointer = Checkpointer(checkpoint_path, extra, saves)
    return fit(job, position, checkpointer, sink, stop, began, on_step)


def _resume_state(path: Path, context: RankContext | None) -> dict[str, Any] | None:
    """The checkpoint a resume starts from (None: there is none, so it starts afresh).

    With several ranks rank 0 reads it and every rank gets its bytes: the other machines of a
    multi-machine run hold no checkpoint, and every rank must start from the same one.
    """
    if context is None or not context.info.distributed:
        return load_checkpoint(path) if path.is_file() else None
    from tutor.distributed.runtime import file_from_main

    blob = file_from_main(path, context)
    return checkpoint_from_bytes(blob, path) if blob is not None else None


def prepare(
    config: TrainConfig, sink: EventSink, stop: threading.Event, base_kind: str | None = None
) -> Job:
    """Build the device, the data, the model, its loss and its optimizer for ``config``.

    ``base_kind``: a resumed transfer run's base. Raises StopRequested when a stop comes while
    the data loads or a base pretrains, TrainingFailed when there is nothing to train on.
    """
    import torch
    from torch import nn

    from tutor.training.data import DataUnavailable, load_dataset

    device = choose_device(config)
    # The data, normalised once and held in memory: on the device when it fits in half its memory.
    try:
        data = load_dataset(config.dataset, config.data_root)
    except DataUnavailable as exc:
        raise TrainingFailed(str(exc)) from exc
    if data.notice:
        sink.emit(Notice(data.notice))
    if stop.is_set():  # loading a large dataset takes a while: a stop asked meanwhile ends here
        raise StopRequested("Stopped while loading the data")
    if len(data.train_images) == 0:
        raise TrainingFailed(f"The dataset at {data.source} has no training images.")
    placed = place_data(data, device.device)

    # The model, its loss and its optimizer: every model ends in LogSoftmax, so NLLLoss.
    torch.manual_seed(config.seed)
    model, base_kind = build_for_run(
        config, len(data.classes), device.device, sink, stop, base_kind
    )
    model.to(device.device)
    return Job(
        config=config,
        device=device,
        data=data,
        placed=placed,
        model=model,
        criterion=nn.NLLLoss(),
        optimizer=make_optimizer(config, model),
        shuffle=torch.Generator().manual_seed(config.seed),
        base_kind=base_kind,
    )


def start_event(job: Job, position: Position) -> Start:
    """The ``start`` event: the device by name, where model and data live, the sizes."""
    device, placed, config = job.device.device, job.placed, job.config
    data_where = (
        f"on {device}"
        if placed.train_on == device
        else f"in CPU memory, batches copied to {device}"
    )
    return Start(
        world_size=job.ranks.world_size if job.ranks is not None else None,
        device=job.device.name,
        threads=job.device.threads,
        model=config.model,
        model_summary=MODELS[config.model],
        model_on=str(device),
        data_on=str(placed.train_on),
        where=f"model on {device}, data {data_where}",
        trainable_parameters=sum(p.numel() for p in job.model.parameters() if p.requires_grad),
        dataset=config.dataset,
        data_source=job.data.source,
        classes=list(job.data.classes),
        n_train=len(placed.train_images),
        n_test=len(placed.test_images),
        steps_per_epoch=job.steps_per_epoch,
        epochs=config.epochs,
        batch_size=config.batch_size,
        start_epoch=position.epoch,
        start_step=position.step,
    )


def fit(
    job: Job,
    position: Position,
    checkpointer: Checkpointer,
    sink: EventSink,
    stop: threading.Event,
    began: float,
    on_step: Callable[[int], None] | None = None,
) -> Done | Stopped:
    """The epochs from ``position`` on: train, evaluate, report, checkpoint; stop on request."""
    import torch

    config, placed, model, ranks = job.config, job.placed, job.model, job.ranks
    steps_per_epoch = job.steps_per_epoch
    agreed: AgreedStop | None = None  # several ranks stop together
    if ranks is not None:
        from tutor.distributed.training import AgreedStop

        agreed = AgreedStop(stop, ranks.context)
    log = LossLog(
        config.log_every,
        job.device.device,
        position,
        steps_per_epoch,
        config.batch_size,
        config.lr,
        sink,
        began,
        reduce=ranks.mean_losses if ranks is not None else None,
    )
    after_step = _after_step(on_step, config.step_delay, position)
    last: Epoch | None = None
    while position.epoch <= config.epochs:
        epoch_began = time.perf_counter()
        epoch_start_state = job.shuffle.get_state()
        if ranks is None:
            order = torch.randperm(len(placed.train_images), generator=job.shuffle)
        else:  # this rank's shard, DistributedSampler's order for this epoch
            order = ranks.order(len(placed.train_images), position.epoch, config.seed)
        set_train_mode(model, job.base_kind)
        done = train_epoch(
            model,
            job.optimizer,
            job.criterion,
            placed.train_images,
            placed.train_labels,
            order.to(placed.train_on),
            config.batch_size,
            job.device.device,
            agreed if agreed is not None else stop,
            first_batch=position.step_in_epoch,
            log=log,
            after_step=after_step,
        )
        log.flush()
        if done < steps_per_epoch:  # stopped mid-epoch: save the exact place in it
            position.step_in_epoch = done
            problem = _save(checkpointer, job, position, epoch_start_state)
            return _stopped(position, checkpointer.path, began, problem)
        train_seconds = time.perf_counter() - epoch_began
        if ranks is None:
            val_loss, val_accuracy = evaluate(
                model, job.criterion, placed.test_images, placed.test_labels
            )
        else:
            val_loss, val_accuracy = ranks.evaluate(
                model, job.criterion, placed.test_images, placed.test_labels
            )
        last = Epoch(
            epoch=position.epoch,
            step=position.step,
            train_loss=position.epoch_loss_sum / max(1, position.epoch_loss_count),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
            seconds=time.perf_counter() - epoch_began,
            train_seconds=train_seconds,
        )
        sink.emit(last)
        position.next_epoch()
        # A failed write does not end the run: the previous checkpoint is intact, the next tries again.
        problem = _save(checkpointer, job, position, job.shuffle.get_state())
        if problem is not None:
            sink.emit(Notice(str(problem)))
        if agreed.agree() if agreed is not None else stop.is_set():
            return _stopped(position, checkpointer.path, began, None)

    return Done(
        epochs=config.epochs,
        step=position.step,
        train_loss=last.train_loss if last else None,
        val_loss=last.val_loss if last else None,
        val_accuracy=last.val_accuracy if last else None,
        seconds=time.perf_counter() - began,
        checkpoint=str(checkpointer.path),
        world_size=ranks.world_size if ranks is not None else None,
    )


def _save(
    checkpointer: Checkpointer, job: Job, position: Position, shuffle_state: torch.Tensor
) -> CheckpointError | None:
    """Checkpoint the run; with several ranks rank 0 writes the unwrapped model, the rest wait."""
    if job.ranks is None:
        return checkpointer.save(job.model, job.optimizer, position, shuffle_state)
    from tutor.distributed.runtime import unwrap

    problem = None
    if job.ranks.is_main:
        problem = checkpointer.save(unwrap(job.model), job.optimizer, position, shuffle_state)
    job.ranks.barrier()  # no rank runs ahead of the file
    return problem


def _after_step(
    on_step: Callable[[int], None] | None, delay: float, position: Position
) -> Callable[[], None] | None:
    """What runs after every step besides logging: a test's hook, a demonstration's slow motion."""
    if on_step is None and not delay:
        return None

    def after() -> None:
        if on_step is not None:
            on_step(position.step)
        if delay:
            time.sleep(delay)

    return after


def _stopped_early(what: str, resume: bool, checkpoint_path: Path, began: float) -> Stopped:
    """The final event of a run stopped before its first step: no new state, nothing to save."""
    if resume and checkpoint_path.is_file():
        then = "its last checkpoint is unchanged, and resume continues from there"
    else:
        then = "nothing was trained yet, so resume starts from the beginning"
    return Stopped(
        checkpoint=str(checkpoint_path) if checkpoint_path.is_file() else None,
        seconds=time.perf_counter() - began,
        message=f"{what}; {then}.",
    )


def _stopped(
    position: Position, path: Path, began: float, problem: CheckpointError | None
) -> Stopped:
    """The final event of a stop; ``problem`` when its checkpoint could not be written."""
    return Stopped(
        epoch=position.epoch,
        step=position.step,
        checkpoint=str(path),
        seconds=time.perf_counter() - began,
        message=str(problem) if problem is not None else None,
    )
