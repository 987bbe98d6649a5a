"""The training of one run, top to bottom: device, data, model, then epochs of train and evaluate.

It reads like PyTorch's own MNIST example (``train_epoch`` and ``evaluate`` live in ``loop.py``).
What it adds is what a tutor needs: events for the live chart, checkpoints after every epoch and on
a stop that resume exactly (``checkpoint.py``), stopping on request, and one clear sentence when
something goes wrong. A checkpoint that cannot be written does not end the run: it goes on, says
so, and the final event tells what was not saved (``saved_epoch``, ``save_problem``).

Speed comes from holding the whole dataset as one normalised tensor (on the device when it fits),
slicing batches from a seeded permutation, and reading the loss back to the host only when logging.
torch is imported inside ``train``: this module is imported by the run process only.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tutor.training import checkpoint as ckpt
from tutor.training.config import TrainConfig
from tutor.training.events import Done, Epoch, EventSink, Notice, Resume, Start, Stopped
from tutor.training.loop import LossLog, StopRequested, TrainingFailed, evaluate, train_epoch
from tutor.training.models import MODELS
from tutor.training.setup import choose_device, make_optimizer, place_data
from tutor.training.transfer import build_for_run, set_train_mode

if TYPE_CHECKING:
    import torch

__all__ = ["SaveRecord", "StopRequested", "TrainingFailed", "train"]


@dataclass
class SaveRecord:
    """What the run's checkpoints hold: the last epoch saved, the first failure, the latest try."""

    saved_epoch: int = 0
    problem: ckpt.CheckpointError | None = None
    # False when the most recent checkpoint could not be written: the run's newest state is lost.
    latest_ok: bool = True


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


def train(
    config: TrainConfig,
    checkpoint_path: Path,
    sink: EventSink,
    stop: threading.Event | None = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
    saves: SaveRecord | None = None,
) -> Done | Stopped:
    """Train as configured and return the final event (``Done`` or ``Stopped``).

    Raises TrainingFailed (and DataUnavailable, CheckpointError) with a sentence for the learner.
    ``stop`` set from another thread (a signal handler) makes the loop checkpoint its exact
    position and return. ``on_step(global_step)`` is called after every step (tests). ``saves``
    receives what the checkpoints hold (the last epoch saved, the first write failure).
    """
    import torch
    from torch import nn

    from tutor.training.data import DataUnavailable, load_dataset

    stop = stop or threading.Event()
    saves = saves if saves is not None else SaveRecord()
    config.validate()
    began = time.perf_counter()
    where = choose_device(config)
    device = where.device

    # The data, normalised once and held in memory: on the device when it fits in half its free memory.
    try:
        data = load_dataset(config.dataset, config.data_root)
    except DataUnavailable as exc:
        raise TrainingFailed(str(exc)) from exc
    if data.notice:
        sink.emit(Notice(data.notice))
    if stop.is_set():
        # Loading a large dataset takes a while: a stop asked meanwhile ends the run here.
        return _stopped_early("Stopped while loading the data", resume, checkpoint_path, began)
    if len(data.train_images) == 0:
        raise TrainingFailed(f"The dataset at {data.source} has no training images.")
    placed = place_data(data, device)

    # The model, its loss and its optimizer: every model ends in LogSoftmax, so NLLLoss.
    state = ckpt.load_checkpoint(checkpoint_path) if resume and checkpoint_path.is_file() else None
    torch.manual_seed(config.seed)
    base_kind = state.get("transfer_base") if state else None
    try:
        model, base_kind = build_for_run(config, len(data.classes), device, sink, stop, base_kind)
    except StopRequested as exc:
        return _stopped_early(str(exc), resume, checkpoint_path, began)
    model.to(device)
    criterion = nn.NLLLoss()
    optimizer = make_optimizer(config, model)
    shuffle = torch.Generator().manual_seed(config.seed)

    # Where to start: from scratch, or exactly where the checkpoint left off.
    position = ckpt.Position()
    if state is not None:
        position = ckpt.restore(state, checkpoint_path, model, optimizer, shuffle)
        saves.saved_epoch = position.epoch - 1
    if resume:
        # Whatever was logged after the checkpoint (or at all, without one) happens again now.
        sink.truncate_after(position.step, position.epoch)
        sink.emit(Resume(epoch=position.epoch, step=position.step))

    n_train = len(placed.train_images)
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    data_where = (
        f"on {device}"
        if placed.train_on == device
        else f"in CPU memory, batches copied to {device}"
    )
    sink.emit(
        Start(
            device=where.name,
            threads=where.threads,
            model=config.model,
            model_summary=MODELS[config.model],
            model_on=str(device),
            data_on=str(placed.train_on),
            where=f"model on {device}, data {data_where}",
            trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
            dataset=config.dataset,
            data_source=data.source,
            classes=list(data.classes),
            n_train=n_train,
            n_test=len(placed.test_images),
            steps_per_epoch=steps_per_epoch,
            epochs=config.epochs,
            batch_size=config.batch_size,
            start_epoch=position.epoch,
            start_step=position.step,
        )
    )

    extra = {"config": config.to_dict(), "transfer_base": base_kind, "classes": list(data.classes)}

    def save(shuffle_state: torch.Tensor) -> ckpt.CheckpointError | None:
        """Checkpoint the current position; the error when it cannot be written."""
        try:
            ckpt.save_checkpoint(
                checkpoint_path, ckpt.snapshot(model, optimizer, position, shuffle_state, extra)
            )
        except ckpt.CheckpointError as exc:
            saves.problem, saves.latest_ok = saves.problem or exc, False
            return exc
        saves.latest_ok = True
        return None

    log = LossLog(
        config.log_every,
        device,
        position,
        steps_per_epoch,
        config.batch_size,
        config.lr,
        sink,
        began,
    )
    after_step = _after_step(on_step, config.step_delay, position)
    last: Epoch | None = None
    while position.epoch <= config.epochs:
        epoch_began = time.perf_counter()
        epoch_start_state = shuffle.get_state()
        order = torch.randperm(n_train, generator=shuffle).to(placed.train_on)
        set_train_mode(model, base_kind)
        done = train_epoch(
            model,
            optimizer,
            criterion,
            placed.train_images,
            placed.train_labels,
            order,
            config.batch_size,
            device,
            stop,
            first_batch=position.step_in_epoch,
            log=log,
            after_step=after_step,
        )
        log.flush()
        if done < steps_per_epoch:  # stopped mid-epoch: save the exact place in it
            position.step_in_epoch = done
            return _stopped(position, checkpoint_path, began, save(epoch_start_state))
        train_seconds = time.perf_counter() - epoch_began
        val_loss, val_accuracy = evaluate(model, criterion, placed.test_images, placed.test_labels)
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
        problem = save(shuffle.get_state())
        if problem is None:
            saves.saved_epoch = last.epoch
        else:
            sink.emit(Notice(str(problem)))
        if stop.is_set():
            return _stopped(position, checkpoint_path, began, None)

    return Done(
        epochs=config.epochs,
        step=position.step,
        train_loss=last.train_loss if last else None,
        val_loss=last.val_loss if last else None,
        val_accuracy=last.val_accuracy if last else None,
        seconds=time.perf_counter() - began,
        checkpoint=str(checkpoint_path),
    )


def _after_step(
    on_step: Callable[[int], None] | None, delay: float, position: ckpt.Position
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


def _stopped(
    position: ckpt.Position, path: Path, began: float, problem: ckpt.CheckpointError | None
) -> Stopped:
    """The final event of a stop; ``problem`` when its checkpoint could not be written."""
    return Stopped(
        epoch=position.epoch,
        step=position.step,
        checkpoint=str(path),
        seconds=time.perf_counter() - began,
        message=str(problem) if problem is not None else None,
    )
