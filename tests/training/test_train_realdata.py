"""The real thing: 5 epochs of the Fashion-MNIST MLP on the full set (Debian's dataset-fashion-mnist)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tutor.training import data
from tutor.training import events as ev
from tutor.training.config import TrainConfig
from tutor.training.events import ListSink
from tutor.training.trainer import train

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.slow,
    pytest.mark.skipif(
        not (data.SYSTEM_FASHION_MNIST / "train-images-idx3-ubyte.gz").is_file(),
        reason="Debian's dataset-fashion-mnist is not installed",
    ),
]


def test_mlp_reaches_the_course_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(data.OFFLINE_ENV, "1")
    sink = ListSink()
    config = TrainConfig(model="mlp", epochs=5, batch_size=64, lr=0.003, device="cpu")
    final = train(config, tmp_path / "last.pt", sink)
    start = sink.of(ev.Start)[0]
    assert start.n_train == 60_000 and start.n_test == 10_000  # the full set, not the sample
    assert final.train_loss < 0.4
    assert final.val_accuracy >= 0.85
