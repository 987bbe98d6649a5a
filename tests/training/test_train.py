"""The trainer in-process on a tiny generated dataset: learning, exact resume, NaN, checkpoints, models."""

from __future__ import annotations

import errno
import threading
from pathlib import Path
from typing import Any

import pytest
import torch

from tutor import paths
from tutor.training import checkpoint, models
from tutor.training import events as ev
from tutor.training.config import ConfigError, TrainConfig
from tutor.training.events import ListSink
from tutor.training.trainer import TrainingFailed, train

# The tiny generated dataset in the data root, offline, no system copy (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("tiny_data")


def tiny(**overrides: Any) -> TrainConfig:
    settings: dict[str, Any] = {
        "model": "mlp",
        "epochs": 3,
        "batch_size": 16,
        "lr": 0.003,
        "device": "cpu",
        "threads": 1,
        "log_every": 4,
    }
    settings.update(overrides)
    return TrainConfig(**settings)


def epochs_of(sink: ListSink) -> list[ev.Epoch]:
    return sink.of(ev.Epoch)


def test_loss_falls_on_a_tiny_dataset(tmp_path: Path) -> None:
    sink = ListSink()
    final = train(tiny(), tmp_path / "last.pt", sink)
    epochs = epochs_of(sink)
    assert [e.epoch for e in epochs] == [1, 2, 3]
    assert epochs[-1].train_loss < epochs[0].train_loss / 2
    assert epochs[-1].val_accuracy >= 0.7  # chance is 0.1
    assert isinstance(final, ev.Done) and final.val_accuracy == epochs[-1].val_accuracy
    start = sink.of(ev.Start)[0]
    assert start.device.startswith("cpu, 1 thread")
    assert start.n_train == 200 and start.steps_per_epoch == 13
    steps = sink.of(ev.Step)
    assert sum(len(e.losses) for e in steps) == 3 * 13  # every step's loss is reported


def weights(path: Path) -> dict[str, torch.Tensor]:
    return checkpoint.load_checkpoint(path)["model"]


def assert_same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_stop_mid_epoch_then_resume_gives_the_same_weights(tmp_path: Path) -> None:
    config = tiny(model="mlp-dropout", epochs=2)  # dropout: the RNG state must resume too
    train(config, tmp_path / "whole.pt", ListSink())

    stop = threading.Event()

    def stop_at_step_seven(step: int) -> None:
        if step == 7:
            stop.set()

    sink = ListSink()
    first = train(config, tmp_path / "parts.pt", sink, stop, on_step=stop_at_step_seven)
    assert isinstance(first, ev.Stopped) and first.step == 7
    saved = checkpoint.load_checkpoint(tmp_path / "parts.pt")
    assert (saved["epoch"], saved["step_in_epoch"], saved["step"]) == (1, 7, 7)
    final = train(config, tmp_path / "parts.pt", sink, resume=True)
    assert isinstance(final, ev.Done) and final.step == 26
    assert_same_weights(weights(tmp_path / "whole.pt"), weights(tmp_path / "parts.pt"))
    # Events after the checkpoint were dropped on resume; each epoch is reported once.
    assert [e.epoch for e in epochs_of(sink)] == [1, 2]


def test_checkpoint_is_plain_data_for_weights_only(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    train(tiny(epochs=1), path, ListSink())
    state = torch.load(path, weights_only=True, map_location="cpu")
    for key in ("model", "optimizer", "epoch", "step", "torch_rng", "shuffle_rng", "config"):
        assert key in state
    assert state["config"]["model"] == "mlp" and state["epoch"] == 2
    rebuilt = models.build_model("mlp")
    rebuilt.load_state_dict(state["model"])


def test_nan_loss_stops_with_the_step(tmp_path: Path) -> None:
    with pytest.raises(TrainingFailed, match=r"at step \d+ \(epoch 1\); lower the learning rate"):
        train(tiny(lr=1e30, optimizer="sgd", log_every=1), tmp_path / "last.pt", ListSink())


def test_full_disk_keeps_the_previous_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "checkpoints" / "last.pt"
    checkpoint.save_checkpoint(path, {"format": 1, "marker": torch.tensor([1.0])})
    before = path.read_bytes()
    real_save = torch.save

    def disk_full(obj: object, handle: Any, *args: Any, **kwargs: Any) -> None:
        handle.write(b"half a checkpoint")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(checkpoint.CheckpointError, match=r"No space left.*previous one is intact"):
        checkpoint.save_checkpoint(path, {"format": 1, "marker": torch.tensor([2.0])})
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["last.pt"]  # no temp file left behind

    # A run goes on when an epoch's checkpoint cannot be written, and says so.
    sink = ListSink()
    final = train(tiny(epochs=1), tmp_path / "run.pt", sink)
    monkeypatch.setattr(torch, "save", real_save)
    assert isinstance(final, ev.Done)
    assert any("previous one is intact" in e.message for e in sink.of(ev.Notice))


def test_damaged_checkpoint_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(checkpoint.CheckpointError, match=str(path)):
        checkpoint.load_checkpoint(path)
    torch.save({"something": 1}, path)
    with pytest.raises(checkpoint.CheckpointError, match="not a training checkpoint"):
        checkpoint.load_checkpoint(path)


def test_a_checkpoint_read_from_bytes_is_checked_like_a_file(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    train(tiny(epochs=1), path, ListSink())
    state = checkpoint.checkpoint_from_bytes(path.read_bytes(), path)
    assert state["epoch"] == 2 and state.keys() == checkpoint.load_checkpoint(path).keys()
    with pytest.raises(checkpoint.CheckpointError, match=f"{path} cannot be read"):
        checkpoint.checkpoint_from_bytes(path.read_bytes()[:200], path)


def test_gpu_random_states_restore_onto_the_gpus_this_machine_has(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "last.pt"
    train(tiny(epochs=1), path, ListSink())
    state = checkpoint.load_checkpoint(path)
    written_on_four = [torch.full((16,), i, dtype=torch.uint8) for i in range(4)]
    state["cuda_rng"] = written_on_four
    restored: list[tuple[int, int]] = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, i: restored.append((i, int(s[0]))))
    model = models.build_model("mlp")
    optimizer = torch.optim.Adam(model.parameters())
    checkpoint.restore(state, path, model, optimizer, torch.Generator())
    assert restored == [(0, 0), (1, 1)]  # two GPUs here: theirs, not an IndexError


def test_checkpoint_of_another_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "last.pt"
    train(tiny(epochs=1), path, ListSink())
    with pytest.raises(checkpoint.CheckpointError, match="does not fit this model"):
        train(tiny(model="mnist-mlp", epochs=2), path, ListSink(), resume=True)


@pytest.mark.parametrize("name", ["mlp", "mlp-dropout", "mnist-mlp", "cnn"])
def test_models_give_log_probabilities(name: str) -> None:
    model = models.build_model(name)
    out = model(torch.randn(5, 1, 28, 28))
    assert tuple(out.shape) == (5, 10)
    assert torch.allclose(out.exp().sum(dim=1), torch.ones(5), atol=1e-5)


def test_model_layer_sizes_match_the_course() -> None:
    linear = [m for m in models.build_model("mlp").modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [
        (784, 256),
        (256, 128),
        (128, 64),
        (64, 10),
    ]
    dropout = [
        m for m in models.build_model("mlp-dropout").modules() if isinstance(m, torch.nn.Dropout)
    ]
    assert len(dropout) == 3 and all(m.p == 0.2 for m in dropout)
    linear = [
        m for m in models.build_model("mnist-mlp").modules() if isinstance(m, torch.nn.Linear)
    ]
    assert [m.out_features for m in linear] == [128, 64, 10]


def test_transfer_offline_pretrains_a_cnn_base_and_freezes_it(tmp_path: Path) -> None:
    sink = ListSink()
    final = train(
        tiny(model="transfer", epochs=1, dataset="fashion-mnist"), tmp_path / "t.pt", sink
    )
    assert isinstance(final, ev.Done)
    notices = " ".join(e.message for e in sink.of(ev.Notice))
    assert "pretrained here on Fashion-MNIST" in notices
    assert (paths.home_dir() / "pretrained" / "cnn-fashion-mnist.pt").is_file()
    start = sink.of(ev.Start)[0]
    head_size = 1568 * 128 + 128 + 128 * 10 + 10
    assert start.trainable_parameters == head_size
    state = checkpoint.load_checkpoint(tmp_path / "t.pt")
    assert state["transfer_base"] == "cnn"
    # The base did not move while the head trained.
    base = torch.load(paths.home_dir() / "pretrained" / "cnn-fashion-mnist.pt", weights_only=True)
    assert torch.equal(state["model"]["features.0.weight"], base["0.weight"])


def test_transfer_uses_torchvision_weights_when_present(tmp_path: Path) -> None:
    from torchvision import models as tv_models

    hub = Path(torch.hub.get_dir()) / "checkpoints"
    hub.mkdir(parents=True)
    torch.save(tv_models.resnet18(weights=None).state_dict(), hub / "resnet18-f37072fd.pth")
    sink = ListSink()
    final = train(tiny(model="transfer", epochs=1, batch_size=50), tmp_path / "t.pt", sink)
    assert isinstance(final, ev.Done)
    notices = " ".join(e.message for e in sink.of(ev.Notice))
    assert "torchvision's resnet18 with its pretrained weights" in notices
    start = sink.of(ev.Start)[0]
    assert start.trainable_parameters == 512 * 128 + 128 + 128 * 10 + 10


def test_config_rejects_bad_values_with_choices() -> None:
    with pytest.raises(ConfigError, match="mlp, mlp-dropout, mnist-mlp, cnn, transfer"):
        TrainConfig(model="resnet").validate()
    with pytest.raises(ConfigError, match="adam, sgd"):
        TrainConfig(optimizer="rmsprop").validate()
    with pytest.raises(ConfigError, match="--epochs"):
        TrainConfig(epochs=0).validate()


def test_device_line_says_why_cores_were_left_free(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tutor.training import setup

    monkeypatch.setattr(setup, "usable_cores", lambda: 2)
    monkeypatch.setattr(setup, "free_threads", lambda cores=None: 1)
    sink = ListSink()
    train(tiny(threads=None, epochs=1), tmp_path / "last.pt", sink)
    start = sink.of(ev.Start)[0]
    assert start.device == "cpu, 1 thread of 2 cores (1 left free for the UI)"
    assert start.threads == 1


# --- stopping before the first step; the pretrained base's file ----------------------------------


def test_stop_while_loading_the_data_ends_stopped_before_any_step(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()  # as if SIGTERM came while the dataset loaded
    sink = ListSink()
    final = train(tiny(epochs=1), tmp_path / "last.pt", sink, stop)
    assert isinstance(final, ev.Stopped)
    assert "loading the data" in final.message
    assert not [e for e in sink.events if isinstance(e, (ev.Step, ev.Start))]
    assert not (tmp_path / "last.pt").exists()


class StopAfterFirstPretrainingEpoch(ListSink):
    """Asks for a stop as soon as the base's first pretraining epoch is reported."""

    def __init__(self, stop: threading.Event) -> None:
        super().__init__()
        self.stop = stop

    def emit(self, event: ev.Event) -> None:
        super().emit(event)
        if isinstance(event, ev.Notice) and "Pretraining the base: epoch 1/" in event.message:
            self.stop.set()


def test_stop_between_pretraining_epochs_ends_stopped(tmp_path: Path) -> None:
    stop = threading.Event()
    sink = StopAfterFirstPretrainingEpoch(stop)
    final = train(tiny(model="transfer", epochs=1), tmp_path / "last.pt", sink, stop)
    assert isinstance(final, ev.Stopped)
    assert "pretraining the base (epoch 2)" in final.message
    notices = [e.message for e in sink.of(ev.Notice)]
    assert not any("epoch 2/" in text for text in notices)
    assert not (paths.home_dir() / "pretrained" / "cnn-fashion-mnist.pt").exists()
    assert not sink.of(ev.Step)


def test_pretrained_base_uses_a_temp_file_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    folder = paths.home_dir() / "pretrained"
    # Another run's temp file under the old fixed name is in the way (here a folder, to fail loudly).
    (folder / ".cnn-fashion-mnist.pt.tmp").mkdir(parents=True)
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    final = train(tiny(model="transfer", epochs=1), tmp_path / "last.pt", ListSink())
    assert isinstance(final, ev.Done)
    assert (folder / "cnn-fashion-mnist.pt").is_file()
    assert synced  # flushed to disk before the rename
    leftovers = sorted(p.name for p in folder.iterdir())
    assert leftovers == [".cnn-fashion-mnist.pt.tmp", "cnn-fashion-mnist.pt"]
