"""A run's configuration: model, dataset and hyperparameters, stored as the run's config.json."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from tutor.training.data import DATASETS
from tutor.training.models import MODELS

OPTIMIZERS = ("adam", "sgd")


class ConfigError(ValueError):
    """A configuration value that is not allowed; the message lists the choices."""


@dataclass
class TrainConfig:
    """Everything that decides what a run computes. Same config and seed: same weights."""

    model: str = "mlp"
    dataset: str = "fashion-mnist"
    epochs: int = 5
    batch_size: int = 64
    lr: float = 0.003
    optimizer: str = "adam"
    device: str = "auto"
    seed: int = 7
    data_root: str | None = None
    # None: chosen from the cores actually free when the run starts.
    threads: int | None = None
    # The training loss is logged (and checked for NaN) every this many steps.
    log_every: int = 20
    # Pause after each step, in seconds: slow motion for demonstrations and tests of stopping.
    step_delay: float = 0.0
    # The lesson step that started the run, if any.
    step_id: str | None = None

    def validate(self) -> None:
        """Raise ConfigError for an unknown name or an impossible number."""
        if self.model not in MODELS:
            raise ConfigError(f"Unknown model {self.model!r}; choose one of: {', '.join(MODELS)}.")
        if self.dataset not in DATASETS:
            raise ConfigError(
                f"Unknown dataset {self.dataset!r}; choose one of: {', '.join(DATASETS)}."
            )
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"Unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}."
            )
        if self.epochs < 1:
            raise ConfigError(f"--epochs must be 1 or more, not {self.epochs}.")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be 1 or more, not {self.batch_size}.")
        if not self.lr > 0:
            raise ConfigError(f"--lr must be a positive number, not {self.lr}.")
        if self.threads is not None and self.threads < 1:
            raise ConfigError(f"threads must be 1 or more, not {self.threads}.")
        if self.log_every < 1:
            raise ConfigError(f"log_every must be 1 or more, not {self.log_every}.")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> TrainConfig:
        """Build from a dict, ignoring keys this version does not know."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in raw.items() if key in known})

    def hyperparameters(self) -> str:
        """One line for screens: ``Adam, lr 0.003, batch 64, 5 epochs, seed 7``."""
        name = {"adam": "Adam", "sgd": "SGD"}.get(self.optimizer, self.optimizer)
        return (
            f"{name}, lr {self.lr:g}, batch {self.batch_size}, {self.epochs} "
            f"epoch{'s' if self.epochs != 1 else ''}, seed {self.seed}"
        )
