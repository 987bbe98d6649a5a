"""``python -m tutor.distributed.worker_process SPEC``: one rank of a two-rank check (see ``ranks``).

Joins the gloo group from torchrun's variables, rebuilds the learner's function, runs the task and
writes ``rank<R>.json``. It then waits for the parent's ``done`` file without touching the group
again: a rank that leaves early would let the other rank's pending collective fail at once with a
closed connection, while a real skipped collective makes the other rank wait, which the parent
reports.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from pathlib import Path

from tutor.atomic import atomic_write_text

WAIT_FOR_DONE = 120.0  # seconds; the parent writes ``done`` or kills this process long before


def _error_text(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: list[str]) -> int:
    spec = pickle.loads(Path(argv[0]).read_bytes())
    folder = Path(spec["folder"])
    import torch

    from tutor.distributed.audits import TASKS
    from tutor.distributed.env import init_group, rank_info
    from tutor.distributed.ranks import unpack_function

    torch.set_num_threads(1)
    info = rank_info()
    report: dict[str, object]
    try:
        init_group(info, "cpu", timeout=60.0)
        func = unpack_function(spec["function"])
        values = TASKS[spec["task"]](func, info, folder)
        report = {"status": "ok", "values": values}
    except Exception as exc:  # the learner's error, reported to the parent as one line
        report = {"status": "error", "error": _error_text(exc)}
    atomic_write_text(folder / f"rank{info.rank}.json", json.dumps(report))
    deadline = time.monotonic() + WAIT_FOR_DONE
    while not (folder / "done").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    sys.stdout.flush()
    os._exit(0)  # no group teardown: the other rank may still be inside a collective


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
