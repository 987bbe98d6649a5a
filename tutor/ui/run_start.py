"""Starting a training run from a screen: one place that turns a failed start into one sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.screen import Screen
from textual.widget import Widget

from tutor.training import runs
from tutor.training.config import TrainConfig
from tutor.training.rank_files import RunLaunch, write_launch


def start_run(
    node: Screen[Any] | Widget,
    run_dir: Path | None = None,
    *,
    config: TrainConfig | None = None,
    launch: RunLaunch | None = None,
    resume: bool = False,
) -> Path | None:
    """Start ``run_dir`` (or a new run made from ``config``); None, with a notice, when it fails.

    With ``launch`` the new run trains on several ranks: its ``launch.json`` is written before the
    run starts, so ``runs.start`` starts the torchrun supervisor instead of one process.

    A run started elsewhere since the caller looked (``RunBusy``) or a disk that refuses the run
    folder (``OSError``) must never end the app.
    """
    try:
        if config is not None:
            run_dir = runs.create_run(config)
        assert run_dir is not None
        if launch is not None:
            write_launch(run_dir, launch)
        runs.start(run_dir, resume=resume)
    except runs.RunBusy as exc:
        node.notify(str(exc), severity="warning")
        return None
    except OSError as exc:
        node.notify(
            f"The run could not be started ({exc.strerror or exc}); check the disk and try again.",
            severity="error",
        )
        return None
    return run_dir
