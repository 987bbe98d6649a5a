"""Moving work between devices: GPU-saved checkpoints on a CPU, and mixed-device errors (meta)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from tutor.devices.checkpoints import CheckpointError, load_state_for
from tutor.execution.explain_devices import explain_mixed_device, mixed_devices


def save_as_if_on_gpu(path: Path) -> dict[str, torch.Tensor]:
    """Save a model's checkpoint whose tensors are tagged cuda:0, as a GPU machine writes it.

    torch.save records each storage's location as a string in data.pkl; rewriting ``cpu`` to
    ``cuda:0`` there gives the very file a GPU would have written, without a GPU.
    """
    torch.manual_seed(0)
    state = nn.Linear(3, 2).state_dict()
    plain = path.with_suffix(".cpu.pt")
    torch.save({"state_dict": state, "epoch": 3}, plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename.endswith("data.pkl"):
                tagged = data.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
                tagged = tagged.replace(b"\x8c\x03cpu", b"\x8c\x06cuda:0")
                assert tagged != data, "the location tag was not found"
                data = tagged
            target.writestr(info, data)
    return state


def test_a_gpu_checkpoint_fails_without_map_location(tmp_path: Path) -> None:
    path = tmp_path / "gpu.pt"
    save_as_if_on_gpu(path)
    with pytest.raises(RuntimeError, match="CUDA"):
        torch.load(path, weights_only=True)  # what a learner meets without map_location


def test_a_gpu_checkpoint_loads_on_the_cpu(tmp_path: Path) -> None:
    path = tmp_path / "gpu.pt"
    state = save_as_if_on_gpu(path)
    loaded = load_state_for(path, "cpu")
    assert loaded["epoch"] == 3
    for key, value in state.items():
        assert loaded["state_dict"][key].device.type == "cpu"
        assert torch.equal(loaded["state_dict"][key], value)
    model = nn.Linear(3, 2)
    model.load_state_dict(loaded["state_dict"])


def test_a_cpu_checkpoint_loads_onto_another_device(tmp_path: Path) -> None:
    # The meta device stands in for a GPU: the same map_location path, with no GPU needed.
    path = tmp_path / "cpu.pt"
    torch.save(nn.Linear(3, 2).state_dict(), path)
    loaded = load_state_for(path, torch.device("meta"))
    assert {t.device.type for t in loaded.values()} == {"meta"}


def test_loading_onto_missing_cuda_says_what_to_do(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    path = tmp_path / "cpu.pt"
    torch.save(nn.Linear(3, 2).state_dict(), path)
    with pytest.raises(CheckpointError, match="CUDA is not available here; load it onto the CPU"):
        load_state_for(path, "cuda")


def test_bad_checkpoint_files_get_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no checkpoint file"):
        load_state_for(tmp_path / "missing.pt")
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=r"broken\.pt"):
        load_state_for(broken)
    unsafe = tmp_path / "module.pt"
    torch.save(nn.Linear(3, 2), unsafe)  # a whole module: weights_only refuses it
    with pytest.raises(CheckpointError, match="state_dicts"):
        load_state_for(unsafe)


def test_meta_mixed_device_error_is_explained() -> None:
    model = nn.Linear(4, 3).to("meta")
    with pytest.raises(RuntimeError) as info:
        model(torch.randn(2, 4))
    text = str(info.value)
    assert mixed_devices(text) is not None
    explanation = explain_mixed_device(text)
    assert explanation is not None
    assert "Mixed devices" in explanation and "x = x.to(device)" in explanation


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        (
            "Expected all tensors to be on the same device, but found at least two devices, "
            "cuda:0 and cpu!",
            ("cuda:0", "cpu"),
        ),
        (
            "Expected all tensors to be on the same device, but got mat1 is on cpu, different "
            "from other tensors on cuda:0 (when checking argument in method wrapper_CUDA_addmm)",
            ("cpu", "cuda:0"),
        ),
        ("Tensor on device cpu is not on the expected device meta!", ("cpu", "meta")),
        ("Expected all tensors to be on the same device", ("", "")),
    ],
)
def test_mixed_device_messages_in_every_wording(text: str, pair: tuple[str, str]) -> None:
    assert mixed_devices(text) == pair
    assert explain_mixed_device(text) is not None


def test_other_errors_are_not_mixed_device() -> None:
    assert explain_mixed_device("mat1 and mat2 shapes cannot be multiplied (2x4 and 3x3)") is None
