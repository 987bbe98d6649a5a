"""One rank of a run on several processes: ``python -m tutor.training.rank_process RUN_DIR [--resume]``.

torchrun starts this module once per process (the supervisor builds that line). Each rank joins the
group (gloo on the CPU, nccl on ``cuda:LOCAL_RANK``, with a timeout so nothing hangs), trains its
shard with the ordinary trainer, and turns SIGTERM (torchrun passes a stop on to every rank) into
"checkpoint and stop" that all ranks agree on. Rank 0 writes the events and the checkpoints.
The first rank of each machine leaves how it ended to its supervisor (``ranks/final.json``), which
ends the run once every rank and torchrun are gone; a rank that fails writes ``ranks/R.error`` and
exits 1, and torchrun stops the others. Should the supervisor die, every rank stops with a
checkpoint and the first rank of each machine ends the run itself (``supervisor_watch``).
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

from tutor.distributed.env import DistributedError, RankInfo, rank_info
from tutor.training.rank_files import (
    mark_started,
    node_ending,
    orphan_ending,
    read_launch,
    write_final,
    write_rank_error,
)
from tutor.training.run_process import stop_on_signals
from tutor.training.supervisor_watch import SupervisorWatch


def _is_echo(exc: BaseException, stop: threading.Event) -> bool:
    """Whether a rank's error only says that another rank went away (not the cause)."""
    if stop.is_set():
        return True  # torchrun stops every rank when one fails: what follows is a consequence
    text = f"{type(exc).__name__} {exc}".lower()
    return any(
        word in text
        for word in ("connection closed", "connection reset", "broken pipe", "distbackenderror")
    )


def _end(run_dir: Path, state: str, final: Any, watch: SupervisorWatch) -> None:
    """Leave the ending to the supervisor, or write it out when the supervisor is gone."""
    if not watch.orphaned():
        write_final(run_dir, state, final)
        return
    from tutor.training.run_process import _finish
    from tutor.training.streams import FileSink

    sink = FileSink(run_dir / "metrics.jsonl")
    _finish(run_dir, state, sink, orphan_ending(final, watch.supervisor))
    sink.close()


def main(argv: list[str]) -> int:
    run_dir = Path(argv[0])
    resume = "--resume" in argv[1:]
    stop = stop_on_signals()

    info = rank_info()
    with contextlib.suppress(OSError):
        mark_started(run_dir, info.rank)
    # The first rank of each machine speaks for it: node 0's for the run, the others for theirs.
    lead = info.local_rank == 0
    watch = SupervisorWatch(run_dir, stop, adopt=lead).start()
    try:
        return _run(run_dir, resume, info, stop, watch, lead)
    finally:
        watch.close()


def _run(
    run_dir: Path,
    resume: bool,
    info: RankInfo,
    stop: threading.Event,
    watch: SupervisorWatch,
    lead: bool,
) -> int:
    launch = read_launch(run_dir)
    if launch is None:  # the supervisor read it a moment ago: it was removed or damaged since
        write_rank_error(run_dir, info.rank, f"{run_dir / 'launch.json'} is unreadable.", False)
        return 1
    try:
        from tutor.distributed.runtime import start_rank, stop_rank

        context = start_rank(launch.device_type)
    except DistributedError as exc:
        write_rank_error(run_dir, info.rank, str(exc), echo=False)
        return 1

    from tutor.training import runs
    from tutor.training.events import Failed, Final
    from tutor.training.run_process import settle
    from tutor.training.streams import FileSink
    from tutor.training.trainer import SaveRecord, train

    config = runs.load_config(run_dir)
    config.device = f"cuda:{info.local_rank}" if launch.device_type == "cuda" else "cpu"
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
            config, runs.checkpoint_path(run_dir), sink, stop, resume, saves=saves, context=context
        )
    except Exception as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        echo = _is_echo(exc, stop)
        with contextlib.suppress(OSError):
            write_rank_error(run_dir, info.rank, text[:300], echo=echo)
        if context.is_main:
            sink.close()
        if lead and ((context.is_main and not echo) or watch.orphaned()):
            # The cause is this rank's own (it says so, like a single-process run), or nobody
            # else is left to say how the run ended.
            _end(run_dir, "failed", Failed(message=f"Rank {info.rank} failed: {text[:300]}"), watch)
        return 1
    ending: tuple[str, Final] | None = None
    if context.is_main:
        ending = settle(run_dir, final, sink, saves)
        sink.close()
    elif lead:
        ending = node_ending(launch.options, run_dir.name, final)
    if ending is not None:
        _end(run_dir, *ending, watch)
    stop_rank()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
