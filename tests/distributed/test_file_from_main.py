"""``file_from_main``: rank 0's file on every rank, which a multi-machine resume is built on.

The real two-machine resume is in ``test_ddp_resilience.py``; here the broadcast is simulated, so
the device nccl needs (the rank's own GPU) and the error every rank must raise can be looked at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.distributed as dist

from tutor.distributed.env import DistributedError, RankInfo
from tutor.distributed.runtime import RankContext, file_from_main


def context(rank: int, device: str) -> RankContext:
    return RankContext(RankInfo(rank, rank, 2, 2, True), torch.device(device))


def simulate(monkeypatch: pytest.MonkeyPatch, sent: Any) -> list[Any]:
    """Broadcast as if rank 0 had sent ``sent`` (rank 0 itself keeps its own object)."""
    calls: list[Any] = []

    def broadcast(box: list[Any], src: int = 0, device: Any = None, **_: Any) -> None:
        calls.append((list(box), src, device))
        if box[0] is None:
            box[0] = sent

    monkeypatch.setattr(dist, "broadcast_object_list", broadcast)
    return calls


def test_one_process_reads_its_own_file(tmp_path: Path) -> None:
    single = RankContext(RankInfo(), torch.device("cpu"))
    assert file_from_main(tmp_path / "none.pt", single) is None
    (tmp_path / "last.pt").write_bytes(b"weights")
    assert file_from_main(tmp_path / "last.pt", single) == b"weights"


def test_rank_0_sends_its_bytes_through_its_gpu_on_nccl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "last.pt").write_bytes(b"weights")
    calls = simulate(monkeypatch, None)
    assert file_from_main(tmp_path / "last.pt", context(0, "cuda:1")) == b"weights"
    assert calls == [([("bytes", b"weights")], 0, torch.device("cuda", 1))]
    calls = simulate(monkeypatch, None)
    assert file_from_main(tmp_path / "last.pt", context(0, "cpu")) == b"weights"
    assert calls[0][2] is None  # gloo: through the CPU


def test_another_machine_gets_rank_0s_file_or_its_absence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simulate(monkeypatch, ("bytes", b"from node 0"))
    assert file_from_main(tmp_path / "not-here.pt", context(1, "cpu")) == b"from node 0"
    simulate(monkeypatch, ("bytes", None))
    assert file_from_main(tmp_path / "not-here.pt", context(1, "cpu")) is None


def test_a_file_rank_0_cannot_read_fails_every_rank_with_its_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreadable = tmp_path / "last.pt"
    unreadable.write_bytes(b"weights")

    def refuse(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)  # tests run as root: chmod would not do
    calls = simulate(monkeypatch, None)
    with pytest.raises(
        DistributedError, match=r"last.pt cannot be read on node 0 \(Permission denied\)"
    ):
        file_from_main(unreadable, context(0, "cpu"))
    sent = calls[0][0][0]
    simulate(monkeypatch, sent)
    with pytest.raises(
        DistributedError, match=r"last.pt cannot be read on node 0 \(Permission denied\)"
    ):
        file_from_main(unreadable, context(1, "cpu"))
