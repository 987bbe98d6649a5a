"""Several failures: the message naming the cause comes first (real lessons, through the kernel)."""

from __future__ import annotations

from tutor.kernel import Kernel, Verdict
from tutor.lessons import Catalog
from tutor.lessons.model import CorrectAnswer, ExerciseStep, WrongAnswer
from tutor.lint.prove import prove_step


def _answer(kernel: Kernel, catalog: Catalog, full_id: str, code: str) -> Verdict:
    step = catalog.step(full_id)
    assert isinstance(step, ExerciseStep)
    assert kernel.reset(step).ok
    return kernel.answer(step, code)[1]


def test_missing_bias_comes_before_the_shape_it_changes(kernel: Kernel, catalog: Catalog) -> None:
    verdict = _answer(
        kernel, catalog, "tensors.neuron-sum", "y = activation(torch.sum(features * weights))"
    )
    assert not verdict.passed
    assert "add the bias" in verdict.messages[0] and "shape" in verdict.messages[1]


def test_swapped_operands_are_called_an_outer_product(kernel: Kernel, catalog: Catalog) -> None:
    code = "y = activation(torch.matmul(weights.view(5, 1), features) + bias)"
    verdict = _answer(kernel, catalog, "tensors.neuron-mm", code)
    assert "outer product" in verdict.messages[0] and "broadcasting" not in verdict.messages[0]


def test_lint_runs_correct_answers(kernel: Kernel, catalog: Catalog) -> None:
    step = catalog.step("tensors.reshape")
    assert isinstance(step, ExerciseStep)
    broken = ExerciseStep(
        **{
            **step.__dict__,
            "correct_answers": (CorrectAnswer("w = weights.view(1, 5)", "looks right"),),
            "wrong_answers": (WrongAnswer("w = weights", "shape"),),
        }
    )
    problems = prove_step(kernel, broken)
    assert len(problems) == 1 and "correct answer 1 (looks right) fails" in problems[0]
