"""The run process: ``python -m tutor.training.run_process RUN_DIR [--resume] [--echo-fd N]``.

Started by ``runs.start`` in its own session with stdout and stderr going to the run's log. It keeps
a heartbeat, turns SIGTERM and SIGINT into "checkpoint and stop", appends every event to
metrics.jsonl (and to the follower's pipe, ``--echo-fd``) and writes state.json when it ends.

What could not be written is told, not hidden: a run whose final model was not saved ends
``failed`` ("Training finished, but nothing after epoch 1 was saved: the disk is full ..."), one
whose metrics were not all written ends ``done`` with that said, and both carry ``unsaved`` in the
final event and state.json. A little space is held back from the start (``.reserve``) and given up
at the end, so the final event and state.json fit on a disk that filled up meanwhile.
Exit status: 0 done or stopped, 1 failed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.atomic import atomic_write_text
from tutor.training import runs
from tutor.training.events import Done, Failed, Final, Stopped, Unsaved
from tutor.training.storage import STORAGE_ERRNOS, StorageProblem, classify
from tutor.training.streams import Echo, FileSink

if TYPE_CHECKING:
    from tutor.training.trainer import SaveRecord

RESERVE = ".reserve"
RESERVE_BYTES = 64 * 1024


def _heartbeat(run_dir: Path, done: threading.Event) -> None:
    while not done.wait(runs.HEARTBEAT_EVERY_S):
        try:
            atomic_write_text(run_dir / "heartbeat", f"{time.time():.3f}")
        except OSError:
            pass  # a full disk must not kill the run; the pid still tells it is alive


def _hold_reserve(run_dir: Path) -> None:
    with contextlib.suppress(OSError), (run_dir / RESERVE).open("wb") as handle:
        handle.write(os.urandom(RESERVE_BYTES))  # not zeros: compressed file systems keep none


def _state_message(final: Final) -> str:
    if isinstance(final, Stopped) and not final.message:
        return f"Stopped at step {final.step}; resume continues from there."
    return final.message or ""


def _finish(run_dir: Path, state: str, sink: FileSink, final: Final) -> None:
    """Write the final event and state.json; the reserve makes room for both on a full disk."""
    message = _state_message(final)
    final.message = message
    with contextlib.suppress(OSError):
        (run_dir / RESERVE).unlink()
    record: dict[str, Any] = {"state": state, "message": message, "ended_at": time.time()}
    if final.unsaved is not None:
        record["unsaved"] = final.unsaved.to_json()
    if sink.problem is None:
        # The final event first: a follower of the file that sees the state finds it there.
        sink.emit(final)
    with contextlib.suppress(OSError):  # the final event still reaches the follower's pipe
        atomic_write_text(run_dir / "state.json", json.dumps(record))
    if sink.problem is not None:
        # The held-back space goes to state.json first: the waiting metrics may not all fit.
        sink.emit(final)
    # After state.json: a listing that finds the final summary finds the run ended.
    sink.write_summary()


def unsaved_sentence(
    run_id: str, state: str, what: list[str], problem: StorageProblem, saved_epoch: int
) -> tuple[str, str]:
    """(summary for tables, the full sentence) of what a run could not write and what to do."""
    why = f"{problem.reason} (at {problem.where()})"
    resume = f"pytorch-tutor train --resume {run_id}"
    then = f"epoch {saved_epoch + 1}" if saved_epoch else "the start"
    if "checkpoint" not in what:
        summary = (
            f"{state}, but the metrics after epoch {saved_epoch} were not saved: {problem.reason}"
        )
        return (
            summary,
            f"{summary[0].upper()}{summary[1:]} (at {problem.where()}); the model was saved.",
        )
    head = "finished" if state == "done" else "stopped"
    lost = (
        f"nothing after epoch {saved_epoch} was saved" if saved_epoch else "its model was not saved"
    )
    summary = f"{head}, but {lost}: {problem.reason}"
    sentence = (
        f"Training {head}, but {lost}: {why}; {problem.remedy}, then `{resume}` continues "
        f"from {then}."
    )
    return summary, sentence


def settle(
    run_dir: Path, final: Done | Stopped, sink: FileSink, saves: SaveRecord
) -> tuple[str, Final]:
    """The run's state and final event, saying what could not be written."""
    problem = saves.problem.problem if saves.problem is not None else None
    what = []
    if problem is not None and not saves.latest_ok:
        what.append("checkpoint")
    if sink.problem is not None:
        what.append("metrics")
        problem = problem if "checkpoint" in what else sink.problem
    state = "done" if isinstance(final, Done) else "stopped"
    if not what or problem is None:
        return state, final
    saved = saves.saved_epoch if "checkpoint" in what else sink.written_epoch
    summary, sentence = unsaved_sentence(run_dir.name, state, what, problem, saved)
    unsaved = Unsaved(
        what=what,
        summary=summary,
        reason=problem.reason,
        errno=problem.errno,
        saved_epoch=saved,
        message=sentence,
        path=problem.directory,
    )
    if isinstance(final, Done) and "checkpoint" in what:
        failed = Failed(
            message=sentence,
            epochs=final.epochs,
            step=final.step,
            train_loss=final.train_loss,
            val_loss=final.val_loss,
            val_accuracy=final.val_accuracy,
            checkpoint=final.checkpoint if Path(final.checkpoint).is_file() else None,
            unsaved=unsaved,
        )
        return "failed", failed
    final.unsaved = unsaved
    final.message = sentence
    return state, final


def _failure_text(exc: Exception, run_dir: Path) -> str:
    """One sentence for an unexpected error: a storage problem, the device's memory, or else."""
    if isinstance(exc, OSError) and exc.errno in STORAGE_ERRNOS:
        folder = Path(exc.filename).parent if isinstance(exc.filename, str) else run_dir
        problem = classify(exc, folder)
        what = exc.filename if isinstance(exc.filename, str) else "a file"
        return (
            f"The run could not write {what}: {problem.reason} (at {problem.where()}); "
            f"{problem.remedy}, then `pytorch-tutor train --resume {run_dir.name}` continues."
        )
    traceback.print_exc()
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "out of memory" in text.lower():
        return f"The device ran out of memory ({text[:120]}); lower --batch-size."
    return f"The run failed: {text[:200]} (details in {run_dir / 'log'})."


def stop_on_signals() -> threading.Event:
    """An event SIGTERM (``runs stop``) and SIGINT set; SIGHUP is ignored.

    The run belongs to no terminal: a hang-up of the one that started it means nothing here.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    return stop


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0])
    resume = "--resume" in argv[1:]
    echo = Echo(int(argv[argv.index("--echo-fd") + 1])) if "--echo-fd" in argv else None
    stop = stop_on_signals()

    with contextlib.suppress(OSError):  # runs.start wrote it too; a full disk must not end the run
        atomic_write_text(run_dir / "pid", str(os.getpid()))
    _hold_reserve(run_dir)
    beating = threading.Event()
    threading.Thread(target=_heartbeat, args=(run_dir, beating), daemon=True).start()
    sink = FileSink(run_dir / "metrics.jsonl", echo)
    try:
        from tutor.devices.errors import DeviceError
        from tutor.training.checkpoint import CheckpointError
        from tutor.training.data import DataUnavailable
        from tutor.training.trainer import SaveRecord, TrainingFailed, train

        config = runs.load_config(run_dir)
        saves = SaveRecord()
        try:
            final = train(config, runs.checkpoint_path(run_dir), sink, stop, resume, saves=saves)
        except (TrainingFailed, CheckpointError, DataUnavailable, DeviceError, ValueError) as exc:
            _finish(run_dir, "failed", sink, Failed(message=str(exc)))
            return 1
        except Exception as exc:
            _finish(run_dir, "failed", sink, Failed(message=_failure_text(exc, run_dir)))
            return 1
        state, settled = settle(run_dir, final, sink, saves)
        _finish(run_dir, state, sink, settled)
        return 1 if state == "failed" else 0
    finally:
        beating.set()
        sink.close()
        if echo is not None:
            echo.close(wait_s=10.0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
