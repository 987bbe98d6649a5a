"""``pytorch-tutor train MODEL ...``: train a lesson model in a run process and follow it.

The run always lives in its own process and folder (so ``--detach`` and the app's runs view work
the same way); without ``--detach`` this command follows it, printing a progress bar and a final
chart, or JSON lines with ``--json`` (``train_follow.py``). The run copies its events down a pipe to
this command, so they reach the output whatever happens to the run folder (a full disk, say).

This process never imports torch: the run is a child process, and checking a ``cuda`` or ``mps``
choice is done in a short-lived child too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tutor import paths
from tutor.cli import UsageError
from tutor.cli.common import fail, print_json
from tutor.cli.train_follow import follow
from tutor.cli.train_ranks import add_arguments, launch_for

__all__ = ["add_parser", "follow", "run"]


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
    add_arguments(parser)


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


# Run in a child: resolving a cuda or mps choice imports torch, which this process never does.
_DEVICE_CHECK = """
import sys
from tutor.devices.errors import DeviceError
from tutor.devices.select import resolve_device
try:
    resolve_device(sys.argv[1])
except DeviceError as exc:
    print(exc)
"""


def _check_device(spec: str) -> str | None:
    """None when the device choice can be used here, else the sentence saying why not."""
    from tutor.devices.errors import DeviceError
    from tutor.devices.select import parse_spec

    try:
        kind, _ = parse_spec(spec)
    except DeviceError as exc:
        raise UsageError(str(exc)) from exc
    if kind not in ("cuda", "mps"):
        return None
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parent.parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", _DEVICE_CHECK, spec],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"The device {spec} could not be checked ({last[:200]})."
    return done.stdout.strip() or None


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
        changed = _resume_config(args, config)
        # After --device is applied: a resumed run on several ranks may move to other devices.
        launch = launch_for(args, config, run_dir)
        if changed:
            if args.device is not None and launch is None:
                problem = _check_device(config.device)
                if problem:
                    return fail(problem, 2)
            from tutor.atomic import atomic_write_text

            try:
                atomic_write_text(run_dir / "config.json", config.to_json())
            except OSError as exc:
                return fail(_cannot_write("update the settings of the run in", run_dir, exc))
        history = runs.read_events(run_dir)
    else:
        config = _new_config(args)
        launch = launch_for(args, config, None)
        problem = _check_device(config.device) if launch is None else None
        if problem:
            return fail(problem, 2)
        try:
            run_dir = runs.create_run(config)
        except OSError as exc:
            return fail(_cannot_write("create the run folder in", paths.runs_dir(), exc))
        history = []
    if launch is not None:
        # Several ranks: torchrun under a supervisor; rank 0 writes metrics.jsonl, followed as a file.
        from tutor.training.rank_files import write_launch

        try:
            write_launch(run_dir, launch)
        except OSError as exc:
            return fail(_cannot_write("start the run in", run_dir, exc))
    echo = None if args.detach or launch is not None else os.pipe()
    started_at = time.time()
    try:
        pid = runs.start(run_dir, resume=bool(args.resume), echo_fd=echo[1] if echo else None)
    except (runs.RunBusy, OSError) as exc:
        if echo is not None:
            os.close(echo[0])
        if isinstance(exc, OSError):
            return fail(_cannot_write("start the run in", run_dir, exc))
        return fail(str(exc))
    finally:
        if echo is not None:
            os.close(echo[1])  # the run holds its own copy; its exit is our end of file
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
    if launch is not None and launch.options.node_rank != 0 and not args.json:
        options = launch.options
        print(
            f"This machine is node {options.node_rank} of {options.nnodes}: its ranks train with "
            "the others, and node 0 shows the progress and keeps the metrics and checkpoints. "
            "This command waits for the run to end.",
            file=sys.stderr,
        )
    if echo is None:
        return follow(
            run_dir, args.json, resumed_at=started_at if args.resume else None, history=history
        )
    return follow(run_dir, args.json, echo=echo[0], history=history)


def _cannot_write(doing: str, folder: Path, exc: OSError) -> str:
    """One sentence for a run folder that cannot be written (a full disk, a quota, read-only)."""
    from tutor.training.storage import classify

    problem = classify(exc, folder)
    return (
        f"Could not {doing} {problem.directory}: {problem.reason} ({problem.free() or 'free space unknown'}); "
        f"{problem.remedy} and try again."
    )
