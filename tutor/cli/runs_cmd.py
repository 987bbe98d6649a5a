"""``pytorch-tutor runs``: list training runs; ``runs show RUN`` (chart), ``runs stop RUN``, ``runs delete RUN``."""

from __future__ import annotations

import argparse
import shutil
from typing import Any

from tutor.cli import UsageError
from tutor.cli.common import fail, print_json


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "runs",
        help="training runs: list, show RUN, stop RUN, delete RUN",
        description="The training runs, newest first. RUN is a run id, a unique start of one, "
        "or last.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    show = actions.add_parser("show", help="a run's details and its loss chart")
    show.add_argument("run", metavar="RUN")
    show.add_argument("--json", action="store_true", help="print the run and its events as JSON")
    stop = actions.add_parser("stop", help="stop a running run (it saves a checkpoint first)")
    stop.add_argument("run", metavar="RUN")
    stop.add_argument("--json", action="store_true", help="print JSON")
    delete = actions.add_parser("delete", help="delete a run that is not running")
    delete.add_argument("run", metavar="RUN")
    delete.add_argument("--json", action="store_true", help="print JSON")


def _summary(run: Any) -> dict[str, Any]:
    return {
        "run": run.id,
        "state": run.state,
        "message": run.message,
        "model": run.config.model,
        "dataset": run.config.dataset,
        "epoch": run.epoch,
        "epochs": run.config.epochs,
        "train_loss": run.train_loss,
        "val_accuracy": run.val_accuracy,
        "device": run.device,
        "path": str(run.path),
        "config": run.config.to_dict(),
        # What the run could not write (its final model, its metrics) and why; null when all saved.
        "unsaved": run.unsaved.to_json() if run.unsaved is not None else None,
        # Runs on several ranks only: a single run's object stays as it was.
        **({"world_size": run.world_size} if run.world_size > 1 else {}),
    }


def _list(as_json: bool) -> int:
    from tutor.training import runs

    found = runs.list_runs()
    if as_json:
        print_json({"runs": [_summary(run) for run in found]})
        return 0
    if not found:
        print("No training runs yet. Start one with: pytorch-tutor train mlp")
        return 0
    print(f"{'RUN':<32} {'STATE':<8} {'EPOCH':>6} {'VAL ACC':>8}  DEVICE")
    for run in found:
        accuracy = "-" if run.val_accuracy is None else f"{run.val_accuracy:.1%}"
        device = runs.device_cell(run)
        print(f"{run.id:<32} {run.state:<8} {run.progress:>6} {accuracy:>8}  {device}")
        if run.unsaved is not None:
            print(f"  {run.unsaved.summary}")
    return 0


def run(args: argparse.Namespace) -> int:
    from tutor.training import runs
    from tutor.training.series import Series, render_text

    if not args.action:
        return _list(args.json)
    try:
        run_dir = runs.find_run(args.run)
    except runs.RunNotFound as exc:
        raise UsageError(str(exc)) from exc
    if args.action == "show":
        from tutor.training import events as ev

        summary = runs.info(run_dir)
        events = runs.read_events(run_dir)
        if args.json:
            print_json({**_summary(summary), "events": [ev.to_json(e) for e in events]})
            return 0
        print(
            f"Run {summary.id}: {summary.state}"
            + (f" ({summary.message})" if summary.message else "")
        )
        print(
            f"  model {summary.config.model} on {summary.config.dataset}; {summary.config.hyperparameters()}"
        )
        if summary.device:
            ranks = f", {summary.world_size} ranks" if summary.world_size > 1 else ""
            print(f"  device {summary.device}{ranks}")
        if summary.unsaved is not None:
            print(f"  {summary.unsaved.message}")
        last_step = next((e for e in reversed(events) if isinstance(e, ev.Step)), None)
        if last_step is not None:
            print(f"  speed {last_step.rate(summary.world_size)} at step {last_step.step:,}")
        for event in events:
            if isinstance(event, ev.Epoch):
                print(
                    f"  epoch {event.epoch}: train loss {event.train_loss:.4f}, val loss "
                    f"{event.val_loss:.4f}, val accuracy {event.val_accuracy:.2%}"
                )
        width = min(shutil.get_terminal_size((80, 24)).columns, 100)
        print(render_text(Series.from_events(events), width=width, height=18, color=_color()))
        return 0
    if args.action == "stop":
        try:
            ended = runs.stop(run_dir, wait_s=30)
        except runs.RunBusy as exc:
            return fail(str(exc))
        state, message = runs.run_state(run_dir)
        if args.json:
            print_json({"run": run_dir.name, "state": state, "message": message})
        elif ended:
            print(f"Stopped {run_dir.name}: {message or state}")
        else:
            print(f"Asked {run_dir.name} to stop; it is still saving its checkpoint.")
        return 0
    if args.action == "delete":
        try:
            runs.delete(run_dir)
        except runs.RunBusy as exc:
            return fail(str(exc))
        if args.json:
            print_json({"run": run_dir.name, "deleted": True})
        else:
            print(f"Deleted {run_dir.name}.")
        return 0
    raise UsageError(f"unknown action {args.action!r}; use show, stop or delete.")


def _color() -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    import os
    import sys

    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")
