"""The ``device-move`` check proves a model would move to the GPU, on a machine without one."""

from __future__ import annotations

import pytest

from tutor.checks.context import CheckFailed, Context
from tutor.checks.device_proof import check_device_move, cuda_reported
from tutor.execution.recorder import CallLog

SETUP = "import torch\nfrom torch import nn\nmodel = nn.Linear(2, 2)\n"


def _ctx(code: str) -> Context:
    return Context(
        step={"setup": SETUP}, learner={}, reference_factory=dict, log=CallLog(), code=code
    )


def test_cuda_reported_records_moves_and_restores_torch() -> None:
    import torch

    real = torch.cuda.is_available()
    model = torch.nn.Linear(2, 2)
    moves: list[tuple[int, str]] = []
    with cuda_reported(moves):
        assert torch.cuda.is_available()
        assert model.to(torch.device("cuda")) is model
        model.cuda()
        torch.ones(1).to("cpu")
    assert torch.cuda.is_available() == real
    assert moves[:2] == [(id(model), "cuda"), (id(model), "cuda")] and moves[2][1] == "cpu"
    assert model.weight.device.type == "cpu"


@pytest.mark.parametrize(
    "code",
    [
        'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\nmodel.to(device)\n',
        'device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")\n'
        "model = model.to(device)\n",
    ],
)
def test_code_that_moves_the_model_passes(code: str) -> None:
    check_device_move(_ctx(code), {}, None)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        (
            'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")\n',
            "stay on the CPU",
        ),
        ('device = torch.device("cpu")\nmodel.to(device)\n', "would still be cpu"),
    ],
)
def test_code_that_passes_only_on_this_machine_fails(code: str, expected: str) -> None:
    with pytest.raises(CheckFailed, match=expected):
        check_device_move(_ctx(code), {}, None)
