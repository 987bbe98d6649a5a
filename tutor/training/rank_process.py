"""One rank of a run on several processes: ``python -m tutor.training.rank_process RUN_DIR [--resume]``.

torchrun starts this module once per process (the supervisor builds that line). Each rank joins the
group (gloo on the CPU, nccl on ``cuda:LOCAL_RANK``, with a timeout so nothing hangs), trains its
shard with the ordinary trainer, and turns SIGTERM (torchrun passes a stop on to every rank) into
"checkpoint and stop" that all ranks agree on. Rank 0 writes the events and the checkpoints, and
leaves the final event to the supervisor (``ranks/final.json``), which ends the run once every
rank and torchrun are gone; a rank that fails writes ``ranks/R.error`` and exits 1, and torchrun stops the others.

``TUTOR_RANK_FAULT=RANK:STEP`` makes that rank raise after that step: how the tests crash one rank.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutor.distributed.env import DistributedError, rank_info
from tutor.training.rank_files import mark_started, read_launch, write_final, write_rank_error
from tutor.training.run_process import stop_on_signals


def _fault(rank: int) -> Callable[[int], None] | None:
    """The injected failure for tests, when ``TUTOR_RANK_FAULT`` names this rank."""
    spec = os.environ.get("TUTOR_RANK_FAULT", "")
    who, _, at = spec.partition(":")
    if not who.strip().isdigit() or int(who) != rank or not at.strip().isdigit():
        return None
    step = int(at)

    def hook(global_step: int) -> None:
        if global_step >= step:
            raise RuntimeError(f"a fault injected at step {global_step}")

    return hook


def _is_echo(exc: BaseException, stop: threading.Event) -> bool:
    """Whether a rank's error only says that another rank went away (not the cause)."""
    if stop.is_set():
        return True  # torchrun stops every rank when one fails: what follows is a consequence
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        word in text
        for word in ("connection closed", "connection reset", "broken pipe", "distbackenderror")
    )


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0])
    resume = "--resume" in argv[1:]
    stop = stop_on_signals()

    info = rank_info()
    with contextlib.suppress(OSError):
        mark_started(run_dir, info.rank)
    launch = read_launch(run_dir)
    device_type = launch.device_type if launch is not None else "cpu"
    try:
        from tutor.distributed.runtime import start_rank, stop_rank

        context = start_rank(device_type)
    except DistributedError as exc:
        write_rank_error(run_dir, info.rank, str(exc), echo=False)
        return 1

    from tutor.training import runs
    from tutor.training.events import Failed
    from tutor.training.run_process import settle
    from tutor.training.streams import FileSink
    from tutor.training.trainer import SaveRecord, train

    config = runs.load_config(run_dir)
    config.device = f"cuda:{info.local_rank}" if device_type == "cuda" else "cpu"
    if config.threads is None:  # torchrun sets OMP_NUM_THREADS=1 for several processes
        config.threads = int(os.environ.get("OMP_NUM_THREADS") or 1)
    sink: Any
    if context.is_main:
        sink = FileSink(run_dir / "metrics.jsonl")
    else:
        from tutor.distributed.training import NullSink

        sink = NullSink()
    saves = SaveRecord()
    try:
        final = train(
            config,
            runs.checkpoint_path(run_dir),
            sink,
            stop,
            resume,
            on_step=_fault(info.rank),
            saves=saves,
            context=context,
        )
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with contextlib.suppress(OSError):
            write_rank_error(run_dir, info.rank, text[:300], echo=_is_echo(exc, stop))
        if context.is_main and not _is_echo(exc, stop):
            # The cause is rank 0's own: it says so itself, like a single-process run.
            write_final(run_dir, "failed", Failed(message=f"Rank 0 failed: {text[:300]}"))
        if context.is_main:
            sink.close()
        return 1
    if context.is_main:
        state, settled = settle(run_dir, final, sink, saves)
        write_final(run_dir, state, settled)
        sink.close()
    stop_rank()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
