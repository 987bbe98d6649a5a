"""Launching on several devices: option checks in one sentence, the torchrun line, rank variables."""

from __future__ import annotations

import socket
import sys

import pytest

from tutor.distributed.env import DistributedError, RankInfo, backend_for, rank_info
from tutor.distributed.launch import (
    LaunchOptions,
    check_endpoint_free,
    check_options,
    check_resume,
    parse_endpoint,
    per_rank_batch,
    torchrun_command,
)
from tutor.training.rank_files import RunLaunch, all_gpus_launch, plan_launch


def sentence(options: LaunchOptions, device: str = "auto", gpus: int = 0) -> str:
    with pytest.raises(DistributedError) as info:
        check_options(options, device, gpus)
    text = str(info.value)
    assert text.endswith(".") and "\n" not in text  # one sentence, no traceback
    return text


def test_bad_options_get_one_sentence_each() -> None:
    assert "--nproc-per-node must be at least 1, not 0" in sentence(LaunchOptions(0))
    assert "--nnodes 2 needs --rdzv-endpoint HOST:PORT" in sentence(LaunchOptions(1, nnodes=2))
    assert "--node-rank must be 0 to 1 for --nnodes 2, not 2" in sentence(
        LaunchOptions(1, nnodes=2, node_rank=2, rdzv_endpoint="10.0.0.1:29500")
    )
    assert "--node-rank must be 0 to 0" in sentence(LaunchOptions(2, node_rank=1))
    assert "needs 4 GPUs, but this machine has 2 GPUs" in sentence(LaunchOptions(4), "cuda", 2)
    assert "--device cuda needs a GPU" in sentence(LaunchOptions(2), "cuda", 0)
    assert "names one GPU" in sentence(LaunchOptions(2), "cuda:1", 4)
    assert "MPS has no distributed backend" in sentence(LaunchOptions(2), "mps", 0)
    assert "--device should be auto, cpu" in sentence(LaunchOptions(2), "tpu", 0)
    assert "HOST:PORT" in sentence(LaunchOptions(1, nnodes=2, rdzv_endpoint="10.0.0.1"))
    assert "1 to 65535" in sentence(LaunchOptions(1, nnodes=2, rdzv_endpoint="h:70000"))


def test_good_options_name_the_device_type() -> None:
    assert check_options(LaunchOptions(2), "auto", 0) == "cpu"
    assert check_options(LaunchOptions(2), "auto", 2) == "cuda"
    assert check_options(LaunchOptions(4), "auto", 2) == "cpu"  # too few GPUs: auto takes the CPU
    assert check_options(LaunchOptions(2), "cpu", 8) == "cpu"
    assert check_options(LaunchOptions(8), "cuda", 8) == "cuda"
    assert check_options(LaunchOptions(1), "cuda:3", 4) == "cuda"  # one process, one GPU: fine
    assert check_options(LaunchOptions(1), "mps", 0) == "mps"
    two_nodes = LaunchOptions(4, nnodes=2, node_rank=1, rdzv_endpoint="10.0.0.1:29500")
    assert check_options(two_nodes, "cuda", 4) == "cuda" and two_nodes.world_size == 8


def test_endpoints() -> None:
    assert parse_endpoint("10.0.0.1:29500") == ("10.0.0.1", 29500)
    assert parse_endpoint("[::1]:29500") == ("::1", 29500)
    assert parse_endpoint("node0.cluster:1234") == ("node0.cluster", 1234)


def test_torchrun_lines() -> None:
    one = torchrun_command(LaunchOptions(2), "tutor.x", ["--epochs", "1"], python="py")
    assert one == [
        "py", "-m", "torch.distributed.run", "--nproc-per-node", "2", "--standalone",
        "--module", "tutor.x", "--epochs", "1",
    ]  # fmt: skip
    two = torchrun_command(
        LaunchOptions(4, nnodes=2, node_rank=1, rdzv_endpoint="10.0.0.1:29500"), "tutor.x"
    )
    assert two[0] == sys.executable
    assert two[3:] == [
        "--nproc-per-node", "4", "--nnodes", "2", "--node-rank", "1",
        "--rdzv-endpoint", "10.0.0.1:29500", "--module", "tutor.x",
    ]  # fmt: skip


def test_a_port_in_use_is_named_before_anything_starts() -> None:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        options = LaunchOptions(1, nnodes=2, rdzv_endpoint=f"127.0.0.1:{port}")
        with pytest.raises(DistributedError, match=f"Port {port} on 127.0.0.1 is already in use"):
            check_endpoint_free(options)
        # Node 1 does not listen there, so it has nothing to check.
        check_endpoint_free(LaunchOptions(1, 2, 1, f"127.0.0.1:{port}"))
    check_endpoint_free(options)  # free again


def test_resume_keeps_the_world_size() -> None:
    check_resume(2, LaunchOptions(2))
    with pytest.raises(DistributedError, match="trained with 2 processes; resume it with the same"):
        check_resume(2, LaunchOptions(4))


def test_rank_variables() -> None:
    assert rank_info({}) == RankInfo(0, 0, 1, 1) and not rank_info({}).distributed
    # Under torchrun even one process runs in a group (DDP and all-reduce work the same way).
    assert rank_info({"RANK": "0", "WORLD_SIZE": "1"}).distributed
    info = rank_info({"RANK": "5", "LOCAL_RANK": "1", "WORLD_SIZE": "8", "LOCAL_WORLD_SIZE": "4"})
    assert (info.rank, info.local_rank, info.world_size, info.is_main) == (5, 1, 8, False)
    assert rank_info({"RANK": "0", "WORLD_SIZE": "2"}).is_main
    with pytest.raises(DistributedError, match=r"RANK 2 is outside 0\.\.1 for WORLD_SIZE 2"):
        rank_info({"RANK": "2", "WORLD_SIZE": "2"})
    with pytest.raises(DistributedError, match="WORLD_SIZE should be a whole number"):
        rank_info({"WORLD_SIZE": "two"})
    assert (backend_for("cuda"), backend_for("cpu")) == ("nccl", "gloo")


def test_the_gpus_are_counted_only_for_sound_options() -> None:
    counted: list[str] = []

    def count() -> int:
        counted.append("asked")
        return 2

    with pytest.raises(DistributedError, match="--nproc-per-node must be at least 1"):
        plan_launch(LaunchOptions(0), "cuda", count)
    assert counted == []  # counting starts CUDA in a child: not for options that cannot work
    launch = plan_launch(LaunchOptions(2), "auto", count)
    assert launch == RunLaunch(LaunchOptions(2), "cuda") and counted == ["asked"]
    with pytest.raises(DistributedError, match="needs 4 GPUs, but this machine has 2 GPUs"):
        plan_launch(LaunchOptions(4), "cuda", count)


def test_all_gpus_means_one_rank_per_gpu_where_the_setting_allows_it() -> None:
    launch = all_gpus_launch("auto", 4)
    assert launch == RunLaunch(LaunchOptions(nproc_per_node=4), "cuda")
    assert all_gpus_launch("CUDA", 2) == RunLaunch(LaunchOptions(nproc_per_node=2), "cuda")
    for device in ("cpu", "mps", "cuda:1"):
        assert all_gpus_launch(device, 4) is None
    assert all_gpus_launch("auto", 1) is None and all_gpus_launch("cuda", 0) is None


def test_the_per_rank_batch_keeps_the_global_batch() -> None:
    assert per_rank_batch(64, 4) == 16
    assert per_rank_batch(50, 4) == 13  # rounded up: a global batch of 52, never less than asked
    assert per_rank_batch(64, 1) == 64
    assert per_rank_batch(3, 8) == 1
