"""``pytorch-tutor train MODEL ...``: train a lesson model in a run process and follow it.

The run always lives in its own process and folder (so ``--detach`` and the app's runs view work
the same way); without ``--detach`` this command follows it, printing a progress bar and a final
chart, or JSON lines with ``--json``. Ctrl+C asks the run to checkpoint and stop, then says
whether it stopped (exit 1) or had already finished (exit 0).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from tutor.cli import UsageError
from tutor.cli.common import fail, print_json

# The longest a followed run may take between its final event and its state.json.
SETTLE_S = 10.0
POLL_S = 0.2


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "train",
        help="train a lesson model (mlp, mlp-dropout, mnist-mlp, cnn, transfer)",
        description="Train a lesson model in a background run and follow it. "
        "Runs survive a closed terminal; see them with `pytorch-tutor runs`.",
    )
    parser.add_argument("model", nargs="?", help="the model to train (see --list)")
    parser.add_argument("--list", action="store_true", help="list the models and datasets")
    parser.add_argument("--dataset", help="fashion-mnist (default), mnist or image-folder")
    parser.add_argument("--epochs", type=int, help="passes over the training set (default 5)")
    parser.add_argument("--batch-size", type=int, help="images per step (default 64)")
    parser.add_argument("--lr", type=float, help="learning rate (default 0.003)")
    parser.add_argument("--optimizer", help="adam (default) or sgd")
    parser.add_argument("--device", help="auto (default), cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, help="random seed (default 7)")
    parser.add_argument("--data-root", help="an existing folder holding the datasets")
    parser.add_argument(
        "--resume",
        metavar="RUN",
        help="continue a run (its id, or last); only --epochs and --device may change",
    )
    parser.add_argument("--detach", action="store_true", help="start the run and return at once")
    parser.add_argument("--json", action="store_true", help="one JSON object per line per event")


def _list(as_json: bool) -> int:
    from tutor.training.data import DATASETS
    from tutor.training.models import MODELS

    datasets = {
        "fashion-mnist": "Fashion-MNIST, 10 kinds of clothing (the default)",
        "mnist": "MNIST handwritten digits (Fashion-MNIST stands in when MNIST is not available)",
        "image-folder": "a two-class ImageFolder tree (sneaker vs ankle boot, or your Cat_Dog_data)",
    }
    if as_json:
        print_json({"models": MODELS, "datasets": {name: datasets[name] for name in DATASETS}})
        return 0
    print("Models:")
    for name, summary in MODELS.items():
        print(f"  {name:<12} {summary}")
    print("Datasets:")
    for name in DATASETS:
        print(f"  {name:<14} {datasets[name]}")
    return 0


def _check_device(spec: str) -> str | None:
    """None when the device choice can be used here, else the sentence saying why not."""
    from tutor.devices.errors import DeviceError
    from tutor.devices.select import parse_spec

    try:
        kind, _ = parse_spec(spec)
    except DeviceError as exc:
        raise UsageError(str(exc)) from exc
    if kind in ("cuda", "mps"):
        from tutor.devices.select import resolve_device

        try:
            resolve_device(spec)  # imports torch: only for choices that need the hardware
        except DeviceError as exc:
            return str(exc)
    return None


def _check_data_root(value: str | None) -> None:
    """An explicit --data-root must exist: a typo must not create folders (as root, anywhere)."""
    if value is not None and not Path(value).expanduser().is_dir():
        raise UsageError(f"--data-root {value} does not exist; create it or leave the option out.")


# Options that decide what a run computes: a resumed run keeps the ones it started with, or its
# checkpoint would no longer match (model, data) or its result would be no run's (lr, seed).
_FIXED_ON_RESUME = (
    ("dataset", "--dataset"),
    ("batch_size", "--batch-size"),
    ("lr", "--lr"),
    ("optimizer", "--optimizer"),
    ("seed", "--seed"),
    ("data_root", "--data-root"),
)


def _resume_config(args: argparse.Namespace, config: Any) -> bool:
    """Apply --epochs and --device to a resumed run's config; True when it changed.

    Raises UsageError for any option a resume cannot change (an equal value is accepted).
    """
    if args.model and args.model != config.model:
        raise UsageError(
            f"the run is a {config.model} run, so it cannot resume as {args.model}; "
            "start a new run instead."
        )
    changed = [
        flag
        for name, flag in _FIXED_ON_RESUME
        if getattr(args, name) is not None and getattr(args, name) != getattr(config, name)
    ]
    if changed:
        raise UsageError(f"{' and '.join(changed)} cannot change when resuming; start a new run.")
    updated = False
    if args.epochs is not None and args.epochs != config.epochs:
        config.epochs = args.epochs
        updated = True
    if args.device is not None and args.device != config.device:
        # Checkpoints load onto the CPU first, so a GPU run can go on elsewhere and back.
        config.device = args.device
        updated = True
    if updated:
        from tutor.training.config import ConfigError

        try:
            config.validate()
        except ConfigError as exc:
            raise UsageError(str(exc)) from exc
    return updated


def _new_config(args: argparse.Namespace) -> Any:
    from tutor.training.config import ConfigError, TrainConfig

    if not args.model:
        from tutor.training.models import MODELS

        raise UsageError(f"name a model to train: {', '.join(MODELS)} (or use --list).")
    _check_data_root(args.data_root)
    config = TrainConfig(model=args.model)
    for name in (
        "dataset",
        "epochs",
        "batch_size",
        "lr",
        "optimizer",
        "device",
        "seed",
        "data_root",
    ):
        value = getattr(args, name)
        if value is not None:
            setattr(config, name, value)
    try:
        config.validate()
    except ConfigError as exc:
        raise UsageError(str(exc)) from exc
    return config


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list(args.json)
    from tutor.training import runs

    started: float | None = None
    if args.resume:
        try:
            run_dir = runs.find_run(args.resume)
        except runs.RunNotFound as exc:
            raise UsageError(str(exc)) from exc
        try:
            config = runs.load_config(run_dir)
        except (OSError, ValueError, TypeError):
            return fail(
                f"The run {run_dir.name} has a missing or damaged config.json, so it cannot "
                f"resume; remove it with `pytorch-tutor runs delete {run_dir.name}`."
            )
        if runs.run_state(run_dir)[0] == "running":
            # Checked before the config is rewritten: a running run's config must not change.
            return fail(f"The run {run_dir.name} is already running.")
        if _resume_config(args, config):
            if args.device is not None:
                problem = _check_device(config.device)
                if problem:
                    return fail(problem, 2)
            from tutor.atomic import atomic_write_text

            atomic_write_text(run_dir / "config.json", config.to_json())
        try:
            started = time.time()
            pid = runs.start(run_dir, resume=True)
        except runs.RunBusy as exc:
            return fail(str(exc))
    else:
        config = _new_config(args)
        problem = _check_device(config.device)
        if problem:
            return fail(problem, 2)
        run_dir = runs.create_run(config)
        pid = runs.start(run_dir)
    if args.detach:
        if args.json:
            print_json({"event": "detached", "run": run_dir.name, "pid": pid})
        else:
            print(run_dir.name)
            print(
                f"Started in the background. Follow it with `pytorch-tutor runs show {run_dir.name}`"
                " or in the app (t).",
                file=sys.stderr,
            )
        return 0
    return follow(run_dir, args.json, resumed_at=started)


class _Printer:
    """Turns events into a progress bar and epoch lines on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stdout.isatty()
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 120)
        self.epochs = 0
        self.steps_per_epoch = 1
        self.bar_shown = False

    def _clear_bar(self) -> None:
        if self.bar_shown:
            print("\r" + " " * (self.width - 1) + "\r", end="")
            self.bar_shown = False

    def event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "notice":
            self._clear_bar()
            print(f"Note: {event['message']}")
        elif kind == "start":
            self.epochs = int(event["epochs"])
            self.steps_per_epoch = int(event["steps_per_epoch"])
            print(
                f"Training {event['model']} on {event['dataset']} ({event['n_train']:,} images, "
                f"{event['n_test']:,} held out) on {event['device']}; {event['where']}."
            )
        elif kind == "resume":
            print(f"Resuming at epoch {event['epoch']}, step {event['step']}.")
        elif kind == "step" and self.tty:
            total = self.epochs * self.steps_per_epoch
            step = int(event["step"])
            rate = float(event["samples_per_s"])
            batch_rate = rate / max(1, event.get("batch", 0) or 1)
            left = total - step
            eta = left / max(batch_rate, 1e-9) if batch_rate else 0
            bar_width = 20
            filled = int(bar_width * step / max(1, total))
            line = (
                f"\repoch {event['epoch']}/{self.epochs} [{'#' * filled}{'.' * (bar_width - filled)}]"
                f" {100 * step / max(1, total):3.0f}%  loss {event['train_loss']:.3f}"
                f"  {rate:,.0f} samples/s  ETA {_clock(eta)}"
            )
            print(line[: self.width - 1], end="", flush=True)
            self.bar_shown = True
        elif kind == "epoch":
            self._clear_bar()
            print(
                f"epoch {event['epoch']}/{self.epochs}  train loss {event['train_loss']:.4f}  "
                f"val loss {event['val_loss']:.4f}  val accuracy {event['val_accuracy']:.2%}  "
                f"{event['seconds']:.1f} s"
            )
        elif kind in ("done", "failed", "stopped"):
            self._clear_bar()


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def follow(run_dir: Path, as_json: bool, resumed_at: float | None = None) -> int:
    """Print a run's events until it ends; Ctrl+C stops it (with a checkpoint), see _interrupted.

    After a resume (started at ``resumed_at``), the history before the run's new ``resume`` event
    goes into the chart but is not printed again.
    """
    from tutor.training import runs
    from tutor.training.series import Series, render_text

    follower = runs.MetricsFollower(run_dir)
    printer = _Printer()
    series = Series()
    batch = runs.load_config(run_dir).batch_size
    final: dict[str, Any] = {}
    printing = resumed_at is None
    try:
        while True:
            events, reset = follower.poll()
            if reset:
                series = Series()
            for event in events:
                event.setdefault("batch", batch)
                series.add(event)
                if not printing:
                    printing = event.get("event") == "resume" and float(event.get("at", 0)) >= (
                        resumed_at or 0
                    )
                    if not printing:
                        continue
                if as_json:
                    print_json({k: v for k, v in event.items() if k not in ("batch", "losses")})
                else:
                    printer.event(event)
                if event.get("event") in ("done", "failed", "stopped"):
                    final = event
            if final or (not events and runs.run_state(run_dir)[0] != "running"):
                break
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        return _interrupted(run_dir)
    # A last read: the final event may have landed after the state changed.
    for event in follower.poll()[0]:
        if event.get("event") in ("done", "failed", "stopped"):
            final = event
            if as_json:
                print_json({k: v for k, v in event.items() if k != "losses"})
    # The run writes its final event just before state.json: give it a moment to record its end.
    settle = time.monotonic() + SETTLE_S
    while final and runs.run_state(run_dir)[0] == "running" and time.monotonic() < settle:
        time.sleep(0.02)
    state, message = runs.run_state(run_dir)
    if state == "done":
        if not as_json:
            width = min(shutil.get_terminal_size((80, 24)).columns, 100)
            print(
                render_text(
                    series, width=width, height=18, title=f"run {run_dir.name}", color=_color()
                )
            )
            print(
                f"Done: train loss {_num(final.get('train_loss'))}, val loss "
                f"{_num(final.get('val_loss'))}, val accuracy {_pct(final.get('val_accuracy'))}. "
                f"Checkpoint: {runs.checkpoint_path(run_dir)}"
            )
        return 0
    if state == "stopped":
        return fail(
            f"The run {run_dir.name} was stopped ({message}); continue with "
            f"`pytorch-tutor train --resume {run_dir.name}`."
        )
    return fail(message or f"The run {run_dir.name} failed; see {run_dir / 'log'}.")


def _interrupted(run_dir: Path) -> int:
    """Ctrl+C while following: ask the run to checkpoint and stop, then say how it ended.

    The run is in a session of its own, so the terminal's Ctrl+C never reaches it; stopping it is
    this command's choice. Exit 1 when it stopped (or is stopping), 0 when it had already finished.
    """
    from tutor.training import runs

    name = run_dir.name
    print("", file=sys.stderr)
    print(
        "Stopping: the run saves a checkpoint first (Ctrl+C again stops waiting) ...",
        file=sys.stderr,
    )
    try:
        runs.stop(run_dir, wait_s=60)
    except runs.RunBusy:
        pass  # it ended on its own meanwhile: its state below says how
    except KeyboardInterrupt:
        pass  # the stop was asked for already; only the waiting ends
    state, message = runs.run_state(run_dir)
    if state == "done":
        print(
            f"The run {name} had already finished; see it with `pytorch-tutor runs show {name}`.",
            file=sys.stderr,
        )
        return 0
    if state == "running":
        print(
            f"The run {name} is stopping in the background at its next step; see it with "
            f"`pytorch-tutor runs show {name}` and continue it with "
            f"`pytorch-tutor train --resume {name}`.",
            file=sys.stderr,
        )
        return 1
    if state == "stopped":
        print(
            f"The run {name} stopped with a checkpoint; continue it with "
            f"`pytorch-tutor train --resume {name}` or see it with `pytorch-tutor runs show {name}`.",
            file=sys.stderr,
        )
        return 1
    return fail(message or f"The run {name} failed; see `pytorch-tutor runs show {name}`.")


def _num(value: Any) -> str:
    return "-" if value is None else f"{float(value):.4f}"


def _pct(value: Any) -> str:
    return "-" if value is None else f"{float(value):.2%}"


def _color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    import os
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
