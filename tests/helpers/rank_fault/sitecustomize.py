"""A failure injected into one rank of a ``train --nproc-per-node`` run, from outside the tutor.

Python imports ``sitecustomize`` at start-up from the first folder on its path that has one. A
test that puts this folder first on ``PYTHONPATH`` and sets ``RANK_FAULT=RANK:STEP`` makes that
rank (a process torchrun started, with ``RANK`` set) raise after that training step: the
trainer's ``train`` is wrapped to pass a step hook. Every other process starts as usual.
"""

from __future__ import annotations

import os

FAULT_ENV = "RANK_FAULT"


def _install() -> None:
    who, _, at = os.environ.get(FAULT_ENV, "").partition(":")
    rank = os.environ.get("RANK")
    if rank is None or not who.isdigit() or not at.isdigit() or int(who) != int(rank):
        return
    step = int(at)

    import tutor.training.trainer as trainer

    original = trainer.train

    def fail_after(global_step: int) -> None:
        if global_step >= step:
            raise RuntimeError(f"a fault injected at step {global_step}")

    def train(*args: object, **kwargs: object) -> object:
        kwargs["on_step"] = fail_after
        return original(*args, **kwargs)  # type: ignore[arg-type]

    trainer.train = train  # type: ignore[assignment]


_install()
