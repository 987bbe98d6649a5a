"""The run's model, and for ``transfer`` its frozen pretrained base.

With torchvision's weights on disk the base is torchvision's network; without them (no network) it
is the small CNN, pretrained here on Fashion-MNIST with the same ``train_epoch`` and ``evaluate`` as
every run, then kept in the user data directory for next time.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tutor import paths
from tutor.atomic import atomic_open
from tutor.training.config import TrainConfig
from tutor.training.events import EventSink, Notice
from tutor.training.loop import StopRequested, evaluate, train_epoch

if TYPE_CHECKING:
    import torch
    from torch import nn

PRETRAIN_EPOCHS = 2
PRETRAIN_BATCH = 128


def pretrained_cnn_features(
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
            sink.emit(Notice(f"Base: the CNN pretrained earlier ({path})."))
            return features
        except Exception:  # a damaged file is simply made again
            pass
    sink.emit(
        Notice(
            "No torchvision weights on this machine, so the base is a small CNN pretrained here "
            f"on Fashion-MNIST ({PRETRAIN_EPOCHS} epochs) before the new head trains."
        )
    )
    data = load_dataset("fashion-mnist", config.data_root)
    if stop.is_set():
        raise StopRequested("Stopped before pretraining the base began")
    torch.manual_seed(config.seed)
    model = models.cnn(10).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    criterion = nn.NLLLoss()
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    test_images, test_labels = data.test_images.to(device), data.test_labels.to(device)
    shuffle = torch.Generator().manual_seed(config.seed)
    for epoch in range(1, PRETRAIN_EPOCHS + 1):
        # Checked between epochs as well as between batches: an epoch can take minutes on a CPU.
        if stop.is_set():
            raise StopRequested(f"Stopped while pretraining the base (epoch {epoch})")
        order = torch.randperm(len(images), generator=shuffle).to(device)
        model.train()
        train_epoch(
            model, optimizer, criterion, images, labels, order, PRETRAIN_BATCH, device, stop
        )
        if stop.is_set():
            raise StopRequested(f"Stopped while pretraining the base (epoch {epoch})")
        val_loss, val_accuracy = evaluate(model, criterion, test_images, test_labels)
        sink.emit(
            Notice(
                f"Pretraining the base: epoch {epoch}/{PRETRAIN_EPOCHS}, "
                f"val loss {val_loss:.3f}, val accuracy {val_accuracy:.1%}."
            )
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
                Notice(
                    f"Base: torchvision's {arch} with its pretrained weights ({weights}), "
                    "frozen; a new head trains on top."
                )
            )
            return models.transfer_model(base, width, classes), f"torchvision:{arch}"
        except Exception as exc:  # a damaged or foreign weights file: fall back, and say why
            sink.emit(Notice(f"torchvision's {arch} weights could not be used ({exc})."))
    features = pretrained_cnn_features(device, config, sink, stop)
    return models.transfer_model(features, models.CNN_FEATURES, classes), "cnn"


def set_train_mode(model: nn.Module, base_kind: str | None) -> None:
    """Train mode, except a frozen base, which keeps its batch-norm statistics (eval mode)."""
    model.train()
    if base_kind is not None:
        model.get_submodule("features").eval()
