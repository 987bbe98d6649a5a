"""Tips after a pass: one note about an outdated or slow spelling, never a failure."""

from __future__ import annotations

import pytest

from tutor.checks.tips import tip_for


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("acc = (a == b).type(torch.FloatTensor).mean()", ".float()"),
        ("from torch.autograd import Variable\nx = Variable(t)", "Variable"),
        ("m = models.densenet121(pretrained=True)", "weights="),
        ("s = 0\nfor i in range(len(x)):\n    s += x[i]", "loop on line 2"),
    ],
)
def test_outdated_or_slow_spellings_get_one_tip(code: str, expected: str) -> None:
    tip = tip_for(code)
    assert tip is not None and tip.startswith("Tip:") and expected in tip


def test_modern_code_gets_no_tip() -> None:
    assert tip_for("y = (x * w).sum() + b\nfor images, labels in loader:\n    pass") is None
    assert tip_for("y = (") is None


def test_small_wrong_tensors_are_drawn_side_by_side() -> None:
    import torch

    from tutor.checks.compare import side_by_side

    want = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    got = torch.tensor([[1.0, 2.5], [3.0, 4.0]])
    picture = side_by_side(got, want, 1e-4, 1e-5)
    lines = picture.splitlines()
    assert lines[0].startswith("expected") and "yours" in lines[0]
    assert "2.5*" in lines[1] and "1 " in lines[1] and "*" not in lines[2]
    assert side_by_side(torch.zeros(100), torch.ones(100), 1e-4, 1e-5) == ""


def _advice_verdict(learner_value: int) -> dict[str, object]:
    from tutor.checks.context import Context
    from tutor.checks.engine import run_checks
    from tutor.execution.recorder import CallLog

    step = {
        "defines": ["y"],
        "checks": [
            {"kind": "expr", "params": {"expr": "y > 0"}, "message": "`y` must be positive."},
            {
                "kind": "expr",
                "params": {"expr": "y < 100", "advice": True},
                "message": "a smaller `y` is kinder to float32.",
            },
        ],
    }
    ctx = Context(
        step=step, learner={"y": learner_value}, reference_factory=dict, log=CallLog(), code=""
    )
    return run_checks(ctx)


def test_an_advice_check_turns_into_the_tip_of_a_pass_never_a_failure() -> None:
    assert _advice_verdict(5) == {"passed": True, "messages": ["All checks pass."]}
    verdict = _advice_verdict(500)
    assert verdict["passed"] is True
    assert verdict["messages"] == ["All checks pass.", "Tip: a smaller `y` is kinder to float32."]
    # A real failure is still a failure, and the advice is not judged.
    assert _advice_verdict(-1) == {"passed": False, "messages": ["`y` must be positive."]}


def test_advice_must_be_true_or_false() -> None:
    from tutor.checks.spec import check_problems
    from tutor.lessons.model import Check

    assert check_problems(Check("expr", {"expr": "y", "advice": True}, "m")) == []
    assert check_problems(Check("expr", {"expr": "y", "advice": "yes"}, "m")) == [
        "check 'expr': 'advice' must be true or false"
    ]
