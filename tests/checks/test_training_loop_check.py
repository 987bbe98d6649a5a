"""The ``training-loop`` check kind: the loop rerun under the tutor's instruments and judged."""

from __future__ import annotations

import pytest

from tutor.checks.context import CheckFailed, Context
from tutor.checks.training_loop import check_training_loop
from tutor.execution.recorder import CallLog

SETUP = """
import torch
from torch import nn, optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
patterns = torch.randn(3, 4)
targets = torch.randint(0, 3, (64,))
trainloader = DataLoader(TensorDataset(patterns[targets] + 0.5 * torch.randn(64, 4), targets), batch_size=16)
model = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1))
criterion = nn.NLLLoss()
optimizer = optim.SGD(model.parameters(), lr=0.5)
epochs = 3
"""

RIGHT = """
losses = []
for e in range(epochs):
    running_loss = 0
    for x, y in trainloader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    losses.append(running_loss / len(trainloader))
"""


def _check(code: str) -> None:
    ctx = Context(
        step={"setup": SETUP},
        learner={},
        reference_factory=dict,
        log=CallLog(),
        code=code,
        timeout=10.0,
    )
    check_training_loop(ctx, {}, None)


def test_a_right_loop_passes_in_either_spelling() -> None:
    _check(RIGHT)
    _check(RIGHT.replace("criterion(model(x), y)", "criterion.forward(model.forward(x), y)"))


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("loss.item()", "loss"), "add `loss.item()`, a plain float"),
        (("        optimizer.zero_grad()\n", ""), "never cleared"),
        (("running_loss / len(trainloader)", "running_loss"), "mean batch loss"),
        (("        optimizer.step()\n", ""), "did not fall"),
        (
            (
                "    losses.append(running_loss / len(trainloader))",
                "        losses.append(loss.item())",
            ),
            "one number per epoch",
        ),
    ],
)
def test_each_slip_gets_its_reason(change: tuple[str, str], expected: str) -> None:
    code = RIGHT.replace(*change)
    assert code != RIGHT
    with pytest.raises(CheckFailed, match=expected.replace("(", r"\(").replace(")", r"\)")):
        _check(code)
