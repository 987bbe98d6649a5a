"""The ``architecture`` check: what a model computes, compared layer by layer, spelling aside."""

from __future__ import annotations

import pytest

from tutor.checks.architecture import difference, trace


def _layers(model: object, shape: tuple[int, ...] = (2, 784)) -> list[str]:
    import torch

    x = torch.randn(*shape)
    return trace(lambda: model(x))  # type: ignore[operator]


def test_spellings_of_the_same_model_agree() -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    sequential = nn.Sequential(
        nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10), nn.Softmax(dim=1)
    )

    class Functional(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(784, 128), nn.Linear(128, 10)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = x.reshape(x.shape[0], -1)
            x = torch.relu(self.fc1.forward(x))
            return F.softmax(self.fc2(x), dim=-1)

    class Methods(Functional):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(F.linear(x.flatten(1), self.fc1.weight, self.fc1.bias))
            return self.fc2(x).softmax(1)

    want = ["Linear(784, 128)", "ReLU", "Linear(128, 10)", "Softmax(dim=1)"]
    assert _layers(sequential) == want
    assert _layers(Functional(), (2, 1, 28, 28)) == want
    assert _layers(Methods()) == want


def test_dropout_p_and_softmax_dim_are_recorded() -> None:
    import torch.nn.functional as F
    from torch import nn

    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.3), nn.LogSoftmax(dim=0))
    assert _layers(model, (2, 4)) == ["Linear(4, 3)", "Dropout(p=0.3)", "LogSoftmax(dim=0)"]
    import torch

    layers = trace(lambda: F.dropout(F.log_softmax(torch.randn(2, 3), dim=1), p=0.2))
    assert layers == ["LogSoftmax(dim=1)", "Dropout(p=0.2)"]


@pytest.mark.parametrize(
    ("got", "expected"),
    [
        (
            ["Linear(784, 256)", "ReLU", "Linear(256, 10)"],
            "Layer 1 is Linear(784, 256); the prompt asks for Linear(784, 128)",
        ),
        (
            ["Linear(784, 128)", "Linear(128, 10)"],
            "Layer 2 is missing: the prompt asks for ReLU before Linear(128, 10)",
        ),
        (["Linear(784, 128)", "ReLU", "ReLU", "Linear(128, 10)"], "Layer 3, ReLU, is extra"),
        (
            ["Linear(784, 128)", "ReLU"],
            "The model stops after ReLU: layer 3 should be Linear(128, 10)",
        ),
        (
            ["Linear(784, 128)", "ReLU", "Linear(128, 10)", "Softmax(dim=1)"],
            "Layer 4, Softmax(dim=1), is one too many",
        ),
    ],
)
def test_the_first_difference_is_named(got: list[str], expected: str) -> None:
    want = ["Linear(784, 128)", "ReLU", "Linear(128, 10)"]
    found = difference(got, want)
    assert found is not None and expected in found
    assert difference(want, want) is None
