"""The two-rank checks of the ``distributed`` lesson: what a learner's function does on real ranks.

``audit_average(average)`` runs ``average(value)`` on ranks 0 and 1 (values 1.0 and 4.0, mean 2.5);
``audit_save(save_checkpoint)`` runs ``save_checkpoint(ddp_model, path)`` on both ranks, each with
its own folder, and inspects what was written. Each returns an ``Audit``: a set of problem words
for ``expr`` checks (``'sum' not in audit_average(average)``) plus the ranks' error text, which
``Audit.ran()`` raises so the check's message can quote it. Results are cached per function, since
several checks of one answer ask the same question and every audit starts two processes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tutor.distributed.env import RankInfo
from tutor.distributed.ranks import RankResult, run_ranks

AVERAGE_INPUTS = (1.0, 4.0)  # rank r averages AVERAGE_INPUTS[r]; the mean is 2.5


class RankFailure(Exception):
    """A rank raised, crashed or was left waiting; the text names the rank and what happened."""


class Audit:
    """Problems found on the ranks (``in`` tests them) and the ranks' own error messages."""

    def __init__(self, problems: set[str], errors: list[str] | None = None) -> None:
        self.problems = problems
        self.errors = errors or []

    def __contains__(self, problem: object) -> bool:
        return problem in self.problems

    def __repr__(self) -> str:
        return f"Audit({sorted(self.problems)})"

    def ran(self) -> bool:
        """True when every rank finished; otherwise raise with what the ranks said."""
        if self.errors:
            raise RankFailure("; ".join(self.errors))
        return True


# --- in each rank (tutor.distributed.worker_process) ----------------------------------------------------


def _number(value: Any) -> float:
    import torch

    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise TypeError(f"returned a tensor of shape {tuple(value.shape)}, not one number")
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"returned {type(value).__name__}, not a number")
    return float(value)


def average_task(func: Any, info: RankInfo, folder: Path) -> dict[str, Any]:
    value = AVERAGE_INPUTS[info.rank % len(AVERAGE_INPUTS)]
    return {"input": value, "result": _number(func(value))}


def save_task(func: Any, info: RankInfo, folder: Path) -> dict[str, Any]:
    import torch
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    ddp_model = DistributedDataParallel(model)
    mine = folder / f"files{info.rank}"
    mine.mkdir()
    path = mine / "model.pth"
    func(ddp_model, str(path))
    found: dict[str, Any] = {"files": sorted(os.listdir(mine))}
    if path.exists():
        try:
            state = torch.load(path, weights_only=True)
        except Exception:
            found["loads"] = False
            return found
        found["loads"] = True
        found["keys"] = sorted(state) if isinstance(state, dict) else None
        expected = model.state_dict()
        found["equal"] = (
            isinstance(state, dict)
            and sorted(state) == sorted(expected)
            and all(
                isinstance(state[k], torch.Tensor) and torch.equal(state[k], expected[k])
                for k in expected
            )
        )
    return found


TASKS = {"average": average_task, "save": save_task}


# --- in the kernel --------------------------------------------------------------------------------

_cache: dict[tuple[str, int], tuple[Any, Audit]] = {}


def _failures(results: list[RankResult]) -> list[str]:
    errors = []
    for result in results:
        if result.status == "error":
            errors.append(f"rank {result.rank}: {result.error}")
        elif result.status == "crashed":
            errors.append(f"rank {result.rank} crashed: {result.error}")
        elif result.status == "waiting":
            others = [r.rank for r in results if r.status == "ok"]
            errors.append(
                f"rank {result.rank} was still waiting in a collective after rank "
                f"{', '.join(map(str, others)) or '?'} had returned: every rank must call the "
                "same collectives in the same order"
            )
    return errors


def _cached(task: str, func: Any, judge: Any) -> Audit:
    key = (task, id(func))
    hit = _cache.get(key)
    if hit is not None and hit[0] is func:
        return hit[1]
    if not callable(func):
        audit = Audit({"raised"}, [f"it is {type(func).__name__}, not a function"])
    else:
        results = run_ranks(task, func)
        errors = _failures(results)
        audit = Audit({"raised"}, errors) if errors else judge(results)
        if "waiting" in {r.status for r in results}:
            audit.problems.add("waiting")
    _cache.clear()  # one answer at a time: keep only the latest function alive
    _cache[key] = (func, audit)
    return audit


def _judge_average(results: list[RankResult]) -> Audit:
    got = [r.values["result"] for r in results]
    mine = [r.values["input"] for r in results]
    mean = sum(AVERAGE_INPUTS) / len(AVERAGE_INPUTS)
    problems: set[str] = set()
    if all(abs(g - mean) < 1e-5 for g in got):
        return Audit(problems)
    if all(abs(g - sum(AVERAGE_INPUTS)) < 1e-5 for g in got):
        problems.add("sum")
    elif all(min(abs(g - m), abs(g - m / len(got))) < 1e-6 for g, m in zip(got, mine, strict=True)):
        problems.add("local")  # its own number (perhaps divided by the world size): no all-reduce
    elif abs(got[0] - mean) < 1e-5 or abs(got[0] - sum(AVERAGE_INPUTS)) < 1e-5:
        problems.add("one-rank")  # e.g. dist.reduce: only the destination rank holds the total
    problems.add("value")
    return Audit(problems)


def audit_average(average: Any) -> Audit:
    """``average(value)`` on two ranks: problems ``raised``, ``waiting``, ``sum``, ``local``,
    ``one-rank`` (only rank 0 got the result) and ``value`` (any wrong result)."""
    return _cached("average", average, _judge_average)


def _judge_save(results: list[RankResult]) -> Audit:
    zero, others = results[0].values, [r.values for r in results[1:]]
    problems: set[str] = set()
    if any(found["files"] for found in others):
        problems.add("other-rank-wrote")
    if "model.pth" not in zero["files"]:
        problems.add("not-written")
    elif not zero.get("loads"):
        problems.add("not-a-state-dict")  # a whole pickled module does not load weights_only
    elif any(key.startswith("module.") for key in zero.get("keys") or []):
        problems.add("wrapped")
    elif not zero.get("equal"):
        problems.add("value")
    return Audit(problems)


def audit_save(save_checkpoint: Any) -> Audit:
    """``save_checkpoint(ddp_model, path)`` on two ranks: problems ``raised``, ``waiting``,
    ``other-rank-wrote``, ``not-written``, ``not-a-state-dict``, ``wrapped`` and ``value``."""
    return _cached("save", save_checkpoint, _judge_save)
