"""The training loop: a plain PyTorch loop that trains one lesson model and reports as it goes.

It reads like PyTorch's own MNIST example: pick the device, load the data, build the model and the
optimizer, then per epoch train on shuffled batches and evaluate on the held-out split. What it adds
is what a tutor needs: events for the live chart, checkpoints that resume exactly, stopping on request,
and one clear sentence when something goes wrong.

Speed comes from holding the whole dataset as one normalised tensor (on the device when it fits),
slicing batches from a seeded permutation, and reading the loss back to the host only when logging.
torch is imported inside ``train``: this module is imported by the run process only.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from tutor import paths
from tutor.atomic import atomic_open
from tutor.devices.threads import free_threads, usable_cores, with_cpu_text
from tutor.training.checkpoint import FORMAT, CheckpointError, load_checkpoint, save_checkpoint
from tutor.training.config import TrainConfig
from tutor.training.models import MODELS

if TYPE_CHECKING:
    import torch
    from torch import nn

EVAL_BATCH = 1000
PRETRAIN_EPOCHS = 2


class TrainingFailed(Exception):
    """The run cannot go on (NaN loss, no data, bad checkpoint); the message is one sentence."""


class StopRequested(Exception):
    """A stop came before training began (loading data, pretraining a base); nothing to save."""


class EventSink(Protocol):
    """Where the trainer's events go: the run's metrics.jsonl, or a list in tests."""

    def emit(self, event: dict[str, Any]) -> None: ...

    def truncate_after(self, step: int, next_epoch: int) -> None: ...


class ListSink:
    """An EventSink that keeps events in memory (tests, benchmarks)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def emit(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    def truncate_after(self, step: int, next_epoch: int) -> None:
        self.events = [e for e in self.events if keep_on_resume(e, step, next_epoch)]


def keep_on_resume(event: dict[str, Any], step: int, next_epoch: int) -> bool:
    """Whether an event logged before a resume is still true of the checkpoint resumed from."""
    kind = event.get("event")
    if kind == "step":
        return int(event.get("step", 0)) <= step
    if kind == "epoch":
        return int(event.get("epoch", 0)) < next_epoch
    return kind in ("start", "notice")


def cpu_device_text(device_name: str, threads: int, cores: int, chosen: bool) -> str:
    """The device sentence with threads and cores, and why the run leaves cores free.

    ``pytorch-tutor doctor`` and the devices screen describe the CPU with the same words
    (``tutor.devices.threads``), so "1 thread of 2 cores" reads the same everywhere.
    ``chosen``: the run's settings fixed the threads, so nothing was left free on purpose.
    """
    return with_cpu_text(device_name, threads, cores, chosen)


def evaluate(
    model: nn.Module, criterion: nn.Module, images: torch.Tensor, labels: torch.Tensor
) -> tuple[float, float]:
    """Mean loss and accuracy over a split, in eval mode without gradients; one host sync."""
    import torch

    model.eval()
    loss_sum = torch.zeros((), device=images.device)
    correct = torch.zeros((), device=images.device, dtype=torch.int64)
    with torch.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            x = images[start : start + EVAL_BATCH]
            y = labels[start : start + EVAL_BATCH]
            log_ps = model(x)
            loss_sum += criterion(log_ps, y) * len(x)
            correct += (log_ps.argmax(dim=1) == y).sum()
    model.train()
    n = max(1, len(images))
    return loss_sum.item() / n, correct.item() / n


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    import torch

    trainable = [p for p in model.parameters() if p.requires_grad]
    # The fused kernels update every parameter in one call: about 20% faster per step for the MLP
    # on one CPU thread. Older torch versions or other devices may lack them.
    try:
        if config.optimizer == "sgd":
            return torch.optim.SGD(trainable, lr=config.lr, momentum=0.9, fused=True)
        return torch.optim.Adam(trainable, lr=config.lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        if config.optimizer == "sgd":
            return torch.optim.SGD(trainable, lr=config.lr, momentum=0.9)
        return torch.optim.Adam(trainable, lr=config.lr)


def _pretrained_cnn_features(
    device: torch.device, config: TrainConfig, sink: EventSink, stop: threading.Event
) -> nn.Module:
    """The small CNN's convolutions trained on Fashion-MNIST: made once, kept in the user data dir."""
    import torch
    from torch import nn

    from tutor.training import models
    from tutor.training.data import load_dataset

    path = paths.home_dir() / "pretrained" / "cnn-fashion-mnist.pt"
    features = models.cnn_features()
    if path.is_file():
        try:
            features.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            sink.emit({"event": "notice", "message": f"Base: the CNN pretrained earlier ({path})."})
            return features
        except Exception:  # a damaged file is simply made again
            pass
    sink.emit(
        {
            "event": "notice",
            "message": "No torchvision weights on this machine, so the base is a small CNN "
            f"pretrained here on Fashion-MNIST ({PRETRAIN_EPOCHS} epochs) before the new head trains.",
        }
    )
    data = load_dataset("fashion-mnist", config.data_root)
    if stop.is_set():
        raise StopRequested("Stopped before pretraining the base began")
    torch.manual_seed(config.seed)
    model = models.cnn(10).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = nn.NLLLoss()
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    generator = torch.Generator().manual_seed(config.seed)
    for epoch in range(1, PRETRAIN_EPOCHS + 1):
        # Checked between epochs as well as between batches: an epoch can take minutes on a CPU.
        if stop.is_set():
            raise StopRequested(f"Stopped while pretraining the base (epoch {epoch})")
        order = torch.randperm(len(images), generator=generator).to(device)
        for start in range(0, len(images), 128):
            if stop.is_set():
                raise StopRequested(f"Stopped while pretraining the base (epoch {epoch})")
            batch = order[start : start + 128]
            optimizer.zero_grad()
            loss = criterion(model(images[batch]), labels[batch])
            loss.backward()
            optimizer.step()
        val_loss, val_accuracy = evaluate(
            model, criterion, data.test_images.to(device), data.test_labels.to(device)
        )
        sink.emit(
            {
                "event": "notice",
                "message": f"Pretraining the base: epoch {epoch}/{PRETRAIN_EPOCHS}, "
                f"val loss {val_loss:.3f}, val accuracy {val_accuracy:.1%}.",
            }
        )
    trained = model.get_submodule("features")
    # A temp file of its own, flushed to disk, then renamed: two runs pretraining at once each
    # write whole files, and a crash never leaves half a file under the cached name.
    with atomic_open(path, "wb") as handle:
        torch.save(trained.state_dict(), handle)
    return trained.cpu()


def build_for_run(
    config: TrainConfig,
    classes: int,
    device: torch.device,
    sink: EventSink,
    stop: threading.Event,
    base_kind: str | None = None,
) -> tuple[nn.Module, str | None]:
    """The run's model and, for ``transfer``, which base it uses (``base_kind`` on resume)."""
    from tutor.training import models

    if config.model != "transfer":
        return models.build_model(config.model, classes), None
    found = models.torchvision_weights_available() if base_kind in (None, "torchvision") else None
    if base_kind and base_kind.startswith("torchvision:"):
        # Resuming: the checkpoint holds every weight, so build the architecture without loading.
        arch = base_kind.split(":", 1)[1]
        width = dict((a, w) for a, _, w in models.TORCHVISION_BASES)[arch]
        return models.transfer_model(models.torchvision_base(arch, None), width, classes), base_kind
    if base_kind == "cnn":
        return models.transfer_model(models.cnn_features(), models.CNN_FEATURES, classes), "cnn"
    if found is not None:
        arch, weights, width = found
        try:
            base = models.torchvision_base(arch, weights)
            sink.emit(
                {
                    "event": "notice",
                    "message": f"Base: torchvision's {arch} with its pretrained weights "
                    f"({weights}), frozen; a new head trains on top.",
                }
            )
            return models.transfer_model(base, width, classes), f"torchvision:{arch}"
        except Exception as exc:  # a damaged or foreign weights file: fall back, and say why
            sink.emit(
                {
                    "event": "notice",
                    "message": f"torchvision's {arch} weights could not be used ({exc}).",
                }
            )
    features = _pretrained_cnn_features(device, config, sink, stop)
    return models.transfer_model(features, models.CNN_FEATURES, classes), "cnn"


def _rng_states(generator_at_epoch_start: torch.Tensor) -> dict[str, Any]:
    import torch

    states: dict[str, Any] = {
        "shuffle_rng": generator_at_epoch_start,
        "torch_rng": torch.get_rng_state(),
        "cuda_rng": [],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda_rng"] = list(torch.cuda.get_rng_state_all())
    return states


def _stopped_early(what: str, resume: bool, checkpoint_path: Path, began: float) -> dict[str, Any]:
    """The final event of a run stopped before its first step: no new state, nothing to save."""
    if resume and checkpoint_path.is_file():
        then = "its last checkpoint is unchanged, and resume continues from there"
    else:
        then = "nothing was trained yet, so resume starts from the beginning"
    return {
        "event": "stopped",
        "checkpoint": str(checkpoint_path) if checkpoint_path.is_file() else None,
        "seconds": time.perf_counter() - began,
        "message": f"{what}; {then}.",
    }


def train(
    config: TrainConfig,
    checkpoint_path: Path,
    sink: EventSink,
    stop: threading.Event | None = None,
    resume: bool = False,
    on_step: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train as configured and return the final event (``done`` or ``stopped``).

    Raises TrainingFailed (and DeviceError, DataUnavailable, CheckpointError) with a sentence for
    the learner. ``stop`` set from another thread (a signal handler) makes the loop checkpoint its
    exact position and return. ``on_step(global_step)`` is called after every step (tests).
    """
    import torch
    from torch import nn

    from tutor.devices.errors import DeviceError
    from tutor.devices.select import resolve_device
    from tutor.training.data import DataUnavailable, load_dataset

    stop = stop or threading.Event()
    config.validate()
    began = time.perf_counter()

    # The device and the threads: torch's own choice of threads oversubscribes shared machines.
    cores = usable_cores()
    threads = config.threads or free_threads(cores)
    torch.set_num_threads(threads)
    try:
        device, device_name = resolve_device(config.device)
    except DeviceError as exc:
        raise TrainingFailed(str(exc)) from exc
    if device.type == "cpu":
        device_name = cpu_device_text(device_name, threads, cores, bool(config.threads))

    # The data, normalised once and held in memory: on the device when it fits in half its free memory.
    try:
        data = load_dataset(config.dataset, config.data_root)
    except DataUnavailable as exc:
        raise TrainingFailed(str(exc)) from exc
    if data.notice:
        sink.emit({"event": "notice", "message": data.notice})
    if stop.is_set():
        # Loading a large dataset takes a while: a stop asked meanwhile ends the run here.
        return _stopped_early("Stopped while loading the data", resume, checkpoint_path, began)
    if len(data.train_images) == 0:
        raise TrainingFailed(f"The dataset at {data.source} has no training images.")
    data_device = device
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        needed = sum(t.numel() * t.element_size() for t in (data.train_images, data.test_images))
        if needed > free // 2:
            data_device = torch.device("cpu")
    train_images = data.train_images.to(data_device)
    train_labels = data.train_labels.to(data_device)
    test_images = data.test_images.to(device)
    test_labels = data.test_labels.to(device)

    # The model, its loss and its optimizer: every model ends in LogSoftmax, so NLLLoss.
    checkpoint: dict[str, Any] | None = None
    if resume and checkpoint_path.is_file():
        checkpoint = load_checkpoint(checkpoint_path)
    torch.manual_seed(config.seed)
    base_kind = checkpoint.get("transfer_base") if checkpoint else None
    try:
        model, base_kind = build_for_run(config, len(data.classes), device, sink, stop, base_kind)
    except StopRequested as exc:
        return _stopped_early(str(exc), resume, checkpoint_path, began)
    model.to(device)
    criterion = nn.NLLLoss()
    optimizer = make_optimizer(config, model)
    shuffle = torch.Generator().manual_seed(config.seed)

    # Where to start: from scratch, or exactly where the checkpoint left off.
    epoch, step_in_epoch, step = 1, 0, 0
    epoch_loss_sum, epoch_loss_count = 0.0, 0
    if checkpoint is not None:
        try:
            model.load_state_dict(checkpoint["model"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        except (RuntimeError, ValueError, KeyError) as exc:
            raise CheckpointError(
                f"The checkpoint {checkpoint_path} does not fit this model "
                f"({str(exc).splitlines()[0][:160]})."
            ) from exc
        epoch, step_in_epoch, step = (
            checkpoint["epoch"],
            checkpoint["step_in_epoch"],
            checkpoint["step"],
        )
        epoch_loss_sum = float(checkpoint.get("epoch_loss_sum", 0.0))
        epoch_loss_count = int(checkpoint.get("epoch_loss_count", 0))
        shuffle.set_state(checkpoint["shuffle_rng"])
        torch.set_rng_state(checkpoint["torch_rng"])
        if checkpoint.get("cuda_rng") and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["cuda_rng"])
    if resume:
        # Whatever was logged after the checkpoint (or at all, without one) happens again now.
        sink.truncate_after(step, epoch)
        sink.emit({"event": "resume", "epoch": epoch, "step": step})

    n_train = len(train_images)
    steps_per_epoch = math.ceil(n_train / config.batch_size)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    data_where = (
        f"on {device}" if data_device == device else f"in CPU memory, batches copied to {device}"
    )
    sink.emit(
        {
            "event": "start",
            "device": device_name,
            "threads": threads,
            "model": config.model,
            "model_summary": MODELS[config.model],
            "model_on": str(device),
            "data_on": str(data_device),
            "where": f"model on {device}, data {data_where}",
            "trainable_parameters": trainable,
            "dataset": config.dataset,
            "data_source": data.source,
            "classes": list(data.classes),
            "n_train": n_train,
            "n_test": len(test_images),
            "steps_per_epoch": steps_per_epoch,
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "start_epoch": epoch,
            "start_step": step,
        }
    )

    def save(next_epoch: int, next_step_in_epoch: int, generator_state: torch.Tensor) -> None:
        state: dict[str, Any] = {
            "format": FORMAT,
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": next_epoch,
            "step_in_epoch": next_step_in_epoch,
            "step": step,
            "epoch_loss_sum": epoch_loss_sum,
            "epoch_loss_count": epoch_loss_count,
            "config": config.to_dict(),
            "transfer_base": base_kind,
            "classes": list(data.classes),
            **_rng_states(generator_state),
        }
        save_checkpoint(checkpoint_path, state)

    # Per-step losses stay on the device in a small window; one host read per log interval.
    window = torch.zeros(config.log_every, device=device)
    window_fill = 0
    window_clock = time.perf_counter()
    last: dict[str, Any] = {}

    def flush(epoch: int) -> None:
        nonlocal window_fill, window_clock, epoch_loss_sum, epoch_loss_count
        if window_fill == 0:
            return
        losses = window[:window_fill].tolist()
        for offset, value in enumerate(losses):
            if not math.isfinite(value):
                at = step - window_fill + offset + 1
                raise TrainingFailed(
                    f"The loss became {value} at step {at} (epoch {epoch}); lower the learning "
                    f"rate (it is {config.lr:g}) and start again."
                )
        now = time.perf_counter()
        epoch_loss_sum += sum(losses)
        epoch_loss_count += len(losses)
        sink.emit(
            {
                "event": "step",
                "epoch": epoch,
                "step": step,
                "epoch_step": step - (epoch - 1) * steps_per_epoch,
                "steps_per_epoch": steps_per_epoch,
                "train_loss": sum(losses) / len(losses),
                "losses": [round(v, 5) for v in losses],
                "samples_per_s": window_fill * config.batch_size / max(now - window_clock, 1e-9),
                "time": now - began,
            }
        )
        window_fill, window_clock = 0, now

    while epoch <= config.epochs:
        epoch_began = time.perf_counter()
        generator_state = shuffle.get_state()
        order = torch.randperm(n_train, generator=shuffle).to(data_device)
        model.train()
        if base_kind is not None:
            model.get_submodule("features").eval()  # a frozen base keeps its batch-norm statistics
        for index in range(step_in_epoch, steps_per_epoch):
            batch = order[index * config.batch_size : (index + 1) * config.batch_size]
            images = train_images[batch].to(device, non_blocking=True)
            labels = train_labels[batch].to(device, non_blocking=True)

            optimizer.zero_grad()
            log_ps = model(images)
            loss = criterion(log_ps, labels)
            loss.backward()
            optimizer.step()

            window[window_fill] = loss.detach()
            window_fill += 1
            step += 1
            if window_fill == config.log_every:
                flush(epoch)
            if on_step is not None:
                on_step(step)
            if config.step_delay:
                time.sleep(config.step_delay)
            if stop.is_set():
                flush(epoch)
                stopped: dict[str, Any] = {
                    "event": "stopped",
                    "epoch": epoch,
                    "step": step,
                    "checkpoint": str(checkpoint_path),
                    "seconds": time.perf_counter() - began,
                }
                try:
                    save(epoch, index + 1, generator_state)
                except CheckpointError as exc:
                    stopped["message"] = str(exc)
                return stopped
        flush(epoch)
        train_seconds = time.perf_counter() - epoch_began
        train_loss = epoch_loss_sum / max(1, epoch_loss_count)
        val_loss, val_accuracy = evaluate(model, criterion, test_images, test_labels)
        last = {
            "event": "epoch",
            "epoch": epoch,
            "step": step,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_accuracy": val_accuracy,
            "seconds": time.perf_counter() - epoch_began,
            "train_seconds": train_seconds,
        }
        sink.emit(last)
        epoch, step_in_epoch = epoch + 1, 0
        epoch_loss_sum, epoch_loss_count = 0.0, 0
        try:
            save(epoch, 0, shuffle.get_state())
        except CheckpointError as exc:
            # Training goes on: the previous checkpoint is intact, and the next epoch tries again.
            sink.emit({"event": "notice", "message": str(exc)})
        if stop.is_set():
            return {
                "event": "stopped",
                "epoch": epoch,
                "step": step,
                "checkpoint": str(checkpoint_path),
                "seconds": time.perf_counter() - began,
            }

    if not last and checkpoint is not None:
        last = {"train_loss": None, "val_loss": None, "val_accuracy": None}
    return {
        "event": "done",
        "epochs": config.epochs,
        "step": step,
        "train_loss": last.get("train_loss"),
        "val_loss": last.get("val_loss"),
        "val_accuracy": last.get("val_accuracy"),
        "seconds": time.perf_counter() - began,
        "checkpoint": str(checkpoint_path),
    }
