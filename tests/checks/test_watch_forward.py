"""Forward passes are seen whichever way the learner spells them (``model(x)``, ``.forward(x)``)."""

from __future__ import annotations

from typing import Any

from tutor.checks.watch import watch_forward
from tutor.execution.recorder import CallLog, Recorder


def test_watch_forward_sees_both_spellings_once_each() -> None:
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    seen: list[tuple[bool, bool]] = []

    def note(module: Any, args: tuple[Any, ...]) -> None:
        seen.append((module.training, torch.is_grad_enabled()))

    watch_forward(model, note)
    x = torch.ones(1, 2)
    model(x)
    model.eval()
    with torch.no_grad():
        model.forward(x)
    assert seen == [(True, True), (False, False)]
    # The model still works and saves like any other.
    assert set(model.state_dict()) == {"0.weight", "0.bias"}


def test_recorder_notes_a_direct_forward_from_learner_code() -> None:
    import torch
    from torch import nn

    code = "out = model.forward(x)\n"
    ns = {"model": nn.Softmax(dim=1), "x": torch.ones(1, 3)}
    log = CallLog()
    with Recorder(log):
        exec(compile(code, "<answer>", "exec"), ns)
    assert "torch.nn.Softmax" in log.calls and log.direct_forwards == 1
    log = CallLog()
    with Recorder(log):
        exec(compile("out = model(x)\n", "<answer>", "exec"), ns)
    assert "torch.nn.Softmax" in log.calls and log.direct_forwards == 0
