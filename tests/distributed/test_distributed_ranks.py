"""Real ranks on 127.0.0.1 with gloo (one thread each): the lesson's two-rank checks and the runtime.

torchrun itself starts ``tutor.distributed.selfcheck_process``: two ranks must train to the same weights
as one process with the same global batch, see disjoint shards, and agree on averaged metrics, and
two "nodes" on loopback (``--nnodes 2``, node ranks 0 and 1) must train together.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tutor.distributed.env import free_port
from tutor.distributed.launch import LaunchOptions, torchrun_command
from tutor.distributed.ranks import pack_function, unpack_function

SCALE = 3


def _helper(x: float) -> float:
    return x * SCALE


def test_a_function_travels_with_its_modules_helpers_and_values() -> None:
    namespace: dict[str, Any] = {"__builtins__": __builtins__}
    exec(
        "import math as m\nOFFSET = 2\n"
        "def inner(v):\n    return m.sqrt(v)\n"
        "def outer(v, k=10):\n    return inner(v) + OFFSET + k\n",
        namespace,
    )
    namespace["inner"].__code__ = namespace["inner"].__code__.replace(co_filename="<answer>")
    rebuilt = unpack_function(pack_function(namespace["outer"]))
    assert rebuilt(16.0) == 16.0
    assert unpack_function(pack_function(_helper))(2.0) == 6.0


def test_the_kernel_group_is_kept_or_replaced() -> None:
    import torch.distributed as dist

    from tutor.distributed.kernel import start_group

    try:
        start_group()
        port = os.environ["MASTER_PORT"]
        assert (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "gloo")
        start_group()
        assert os.environ["MASTER_PORT"] == port  # the same group, not a second one
        dist.destroy_process_group()
        start_group()  # the learner destroyed it: a new one starts
        assert dist.is_initialized() and os.environ["WORLD_SIZE"] == "1"
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


@pytest.mark.slow
def test_two_rank_audits_tell_mean_sum_and_a_skipped_collective() -> None:
    from tutor.distributed.audits import audit_average

    namespace: dict[str, Any] = {}
    exec(
        "import torch\nimport torch.distributed as dist\n"
        "def right(v):\n    t = torch.tensor(float(v))\n    dist.all_reduce(t)\n"
        "    return (t / dist.get_world_size()).item()\n"
        "def total(v):\n    t = torch.tensor(float(v))\n    dist.all_reduce(t)\n    return t\n"
        "def skips(v):\n    t = torch.tensor(float(v))\n"
        "    if dist.get_rank() == 0:\n        dist.all_reduce(t)\n    return t.item()\n",
        namespace,
    )
    assert audit_average(namespace["right"]).problems == set()
    assert "sum" in audit_average(namespace["total"])  # a one-element tensor counts as a number
    hung = audit_average(namespace["skips"])
    assert {"raised", "waiting"} <= hung.problems
    with pytest.raises(Exception, match="rank 0 was still waiting in a collective"):
        hung.ran()


def _selfcheck(out: Path, options: LaunchOptions, *args: str) -> list[str]:
    out.mkdir()
    return torchrun_command(options, "tutor.distributed.selfcheck_process", [str(out), *args])


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_two_ranks_match_one_process_with_the_same_global_batch(tmp_path: Path) -> None:
    single = tmp_path / "one"
    single.mkdir()
    subprocess.run(
        [sys.executable, "-m", "tutor.distributed.selfcheck_process", str(single), "--batch", "32"],
        check=True,
        timeout=300,
    )
    command = _selfcheck(tmp_path / "two", LaunchOptions(2), "--batch", "16")
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    one = _load(single / "rank0.json")
    rank0, rank1 = (_load(tmp_path / "two" / f"rank{r}.json") for r in (0, 1))
    assert (rank0["world_size"], rank1["world_size"]) == (2, 2)
    assert sorted(rank0["shard"] + rank1["shard"]) == list(range(256))  # disjoint, complete
    assert rank0["weights"] == rank1["weights"]  # DDP kept the copies identical
    for mine, theirs in zip(rank0["weights"], one["weights"], strict=True):
        assert mine == pytest.approx(theirs, abs=1e-5)
    assert rank0["metrics"] == rank1["metrics"]
    assert rank0["metrics"]["loss"] == pytest.approx(one["metrics"]["loss"], abs=1e-5)
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == [
        "main.json", "rank0.json", "rank1.json",
    ]  # fmt: skip


@pytest.mark.slow
def test_two_nodes_on_loopback_train_together(tmp_path: Path) -> None:
    endpoint = f"127.0.0.1:{free_port()}"
    out = tmp_path / "nodes"
    out.mkdir()
    nodes = [
        subprocess.Popen(
            torchrun_command(
                LaunchOptions(1, nnodes=2, node_rank=rank, rdzv_endpoint=endpoint),
                "tutor.distributed.selfcheck_process",
                [str(out)],
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in (0, 1)
    ]
    try:
        errors = [node.communicate(timeout=300)[1] for node in nodes]
    finally:
        for node in nodes:
            node.kill()
    assert [node.returncode for node in nodes] == [0, 0], errors
    rank0, rank1 = _load(out / "rank0.json"), _load(out / "rank1.json")
    assert rank0["world_size"] == 2 and rank0["weights"] == rank1["weights"]
    assert not set(rank0["shard"]) & set(rank1["shard"])
