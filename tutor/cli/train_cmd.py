"""``pytorch-tutor train MODEL ...``: train a lesson model in a run process and follow it.

The run always lives in its own process and folder (so ``--detach`` and the app's runs view work
the same way); without ``--detach`` this command follows it, printing a progress bar and a final
chart, or JSON lines with ``--json``. The run copies its events down a pipe to this command, so
they reach the output whatever happens to the run folder (a full disk, say). Ctrl+C asks the run
to checkpoint and stop, then says whether it stopped (exit 1) or had already finished (exit 0).

This process never imports torch: the run is a child process, and checking a ``cuda`` or ``mps``
choice is done in a short-lived child too.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tutor import paths
from tutor.cli import UsageError
from tutor.cli.common import fail, print_json
from tutor.training import events as ev

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
        if _resume_config(args, config):
            if args.device is not None:
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
        problem = _check_device(config.device)
        if problem:
            return fail(problem, 2)
        try:
            run_dir = runs.create_run(config)
        except OSError as exc:
            return fail(_cannot_write("create the run folder in", paths.runs_dir(), exc))
        history = []
    echo = None if args.detach else os.pipe()
    try:
        pid = runs.start(run_dir, resume=bool(args.resume), echo_fd=echo[1] if echo else None)
    except runs.RunBusy as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(_cannot_write("start the run in", run_dir, exc))
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
    assert echo is not None
    return follow(run_dir, args.json, echo=echo[0], history=history)


def _cannot_write(doing: str, folder: Path, exc: OSError) -> str:
    """One sentence for a run folder that cannot be written (a full disk, a quota, read-only)."""
    from tutor.training.storage import classify

    problem = classify(exc, folder)
    return (
        f"Could not {doing} {problem.directory}: {problem.reason} ({problem.free() or 'free space unknown'}); "
        f"{problem.remedy} and try again."
    )


class _Printer:
    """Turns events into a progress bar and epoch lines on a terminal."""

    def __init__(self, batch_size: int) -> None:
        self.tty = sys.stdout.isatty()
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 120)
        self.epochs = 0
        self.steps_per_epoch = 1
        self.batch_size = batch_size
        self.bar_shown = False

    def _clear_bar(self) -> None:
        if self.bar_shown:
            print("\r" + " " * (self.width - 1) + "\r", end="")
            self.bar_shown = False

    def event(self, event: ev.Event) -> None:
        if isinstance(event, ev.Notice):
            self._clear_bar()
            print(f"Note: {event.message}")
        elif isinstance(event, ev.Start):
            self.epochs, self.steps_per_epoch = event.epochs, event.steps_per_epoch
            print(
                f"Training {event.model} on {event.dataset} ({event.n_train:,} images, "
                f"{event.n_test:,} held out) on {event.device}; {event.where}."
            )
        elif isinstance(event, ev.Resume):
            print(f"Resuming at epoch {event.epoch}, step {event.step}.")
        elif isinstance(event, ev.Step) and self.tty:
            self._bar(event)
        elif isinstance(event, ev.Epoch):
            self._clear_bar()
            print(
                f"epoch {event.epoch}/{self.epochs}  train loss {event.train_loss:.4f}  "
                f"val loss {event.val_loss:.4f}  val accuracy {event.val_accuracy:.2%}  "
                f"{event.seconds:.1f} s"
            )
        elif ev.is_final(event):
            self._clear_bar()

    def _bar(self, event: ev.Step) -> None:
        total = self.epochs * self.steps_per_epoch
        batch_rate = event.samples_per_s / max(1, self.batch_size)
        eta = (total - event.step) / batch_rate if batch_rate > 0 else 0
        bar_width = 20
        filled = int(bar_width * event.step / max(1, total))
        line = (
            f"\repoch {event.epoch}/{self.epochs} [{'#' * filled}{'.' * (bar_width - filled)}]"
            f" {100 * event.step / max(1, total):3.0f}%  loss {event.train_loss:.3f}"
            f"  {event.samples_per_s:,.0f} samples/s  ETA {_clock(eta)}"
        )
        print(line[: self.width - 1], end="", flush=True)
        self.bar_shown = True


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60}:{seconds % 60:02d}"


def follow(
    run_dir: Path,
    as_json: bool,
    resumed_at: float | None = None,
    echo: int | None = None,
    history: list[ev.Event] | None = None,
) -> int:
    """Print a run's events until it ends; Ctrl+C stops it (with a checkpoint), see _interrupted.

    ``echo``: the reading end of the run's pipe, which carries every event this run emits (the run
    folder may be full or gone); ``history``: the events logged before a resume, for the chart.
    Without a pipe the events come from metrics.jsonl; after a resume (started at ``resumed_at``)
    the history before the run's new ``resume`` event goes into the chart but is not printed again.
    """
    from tutor.training import runs
    from tutor.training.series import Series
    from tutor.training.streams import PipeReader

    printer = _Printer(runs.load_config(run_dir).batch_size)
    seen: list[ev.Event] = []
    final: ev.Event | None = None
    try:
        if echo is not None:
            final = _follow_pipe(PipeReader(echo), printer, as_json, seen)
        else:
            final = _follow_file(run_dir, printer, as_json, seen, resumed_at)
    except KeyboardInterrupt:
        return _interrupted(run_dir)
    if echo is not None and history:
        resumed = next((e for e in seen if isinstance(e, ev.Resume)), None)
        if resumed is not None:
            kept = [e for e in history if ev.keep_on_resume(e, resumed.step, resumed.epoch)]
            seen = kept + seen
    return _ending(run_dir, as_json, final, Series.from_events(seen))


def _show(event: ev.Event, printer: _Printer, as_json: bool) -> None:
    if as_json:
        print_json(ev.cli_json(event))
    else:
        printer.event(event)


def _follow_pipe(
    reader: Any, printer: _Printer, as_json: bool, seen: list[ev.Event]
) -> ev.Event | None:
    """Events from the run's pipe until its final event, or until the run closes the pipe."""
    while True:
        events, ended = reader.poll(POLL_S)
        for event in events:
            seen.append(event)
            _show(event, printer, as_json)
            if ev.is_final(event):
                reader.close()
                return event
        if ended:
            return None


def _follow_file(
    run_dir: Path,
    printer: _Printer,
    as_json: bool,
    seen: list[ev.Event],
    resumed_at: float | None,
) -> ev.Event | None:
    """Events from metrics.jsonl until the final one, or until the run is no longer running."""
    from tutor.training import runs

    follower = runs.MetricsFollower(run_dir)
    printing = resumed_at is None
    final: ev.Event | None = None
    while True:
        events, reset = follower.poll()
        if reset:
            seen.clear()
        for event in events:
            seen.append(event)
            if not printing:
                printing = isinstance(event, ev.Resume) and (event.at or 0) >= (resumed_at or 0)
                if not printing:
                    continue
            _show(event, printer, as_json)
            if ev.is_final(event):
                final = event
        if final or (not events and runs.run_state(run_dir)[0] != "running"):
            break
        time.sleep(POLL_S)
    # A last read: the final event may have landed after the state changed.
    for event in follower.poll()[0]:
        seen.append(event)
        if ev.is_final(event):
            final = event
            if as_json:
                print_json(ev.cli_json(event))
    return final


def _ending(run_dir: Path, as_json: bool, final: ev.Event | None, series: Any) -> int:
    """Say how the run ended; the exit status: 0 done (its model saved), 1 otherwise.

    The final event decides when there is one (state.json may not be writable); without it (the
    process was killed) the run's state does.
    """
    from tutor.training import runs
    from tutor.training.series import render_text

    state, message = runs.run_state(run_dir)
    if isinstance(final, (ev.Done, ev.Stopped, ev.Failed)):
        state = final.kind
        message = final.message or message
    if state == "done":
        if not as_json:
            width = min(shutil.get_terminal_size((80, 24)).columns, 100)
            print(
                render_text(
                    series, width=width, height=18, title=f"run {run_dir.name}", color=_color()
                )
            )
            done = final if isinstance(final, ev.Done) else None
            print(
                f"Done: train loss {_num(done and done.train_loss)}, val loss "
                f"{_num(done and done.val_loss)}, val accuracy "
                f"{_pct(done and done.val_accuracy)}. Checkpoint: {runs.checkpoint_path(run_dir)}"
            )
            if done is not None and done.unsaved is not None:
                print(f"Note: {done.unsaved.message}", file=sys.stderr)
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
