"""Every check kind with passing and failing answers, on the fixture lessons in tests/fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.checks.calls import static_calls
from tutor.checks.spec import check_problems
from tutor.kernel import Kernel, Verdict
from tutor.lessons import Catalog, load_catalog
from tutor.lessons.model import Check, ExerciseStep
from tutor.lint.prove import prove_catalog, prove_step

FIXTURES = Path(__file__).parents[1] / "fixtures" / "exercises"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    catalog = load_catalog([FIXTURES / "good"])
    assert not catalog.problems, catalog.problems
    return catalog


@pytest.fixture(scope="module")
def kernel() -> Iterator[Kernel]:
    k = Kernel.start()
    yield k
    k.close()


def step(catalog: Catalog, name: str) -> ExerciseStep:
    found = catalog.step(f"drills.{name}")
    assert isinstance(found, ExerciseStep)
    return found


def answer(kernel: Kernel, exercise: ExerciseStep, code: str) -> Verdict:
    assert kernel.reset(exercise).ok
    return kernel.answer(exercise, code)[1]


STEPS = ["neuron", "matmul", "softmax", "accuracy", "grad", "loop", "save"]


@pytest.mark.parametrize("name", STEPS)
def test_fixture_exercise_proves(kernel: Kernel, catalog: Catalog, name: str) -> None:
    """Solution passes, starter fails, each wrong answer fails with its message."""
    assert prove_step(kernel, step(catalog, name)) == []


def test_names_exist_first(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "neuron"), "q = 1")
    assert verdict == Verdict(False, ["`y` is not defined: your code must create `y`."])


def test_type_check(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "neuron"), "y = 0.1595")
    assert not verdict.passed
    assert verdict.messages[0] == "`y` should be a tensor, but it is a float."


def test_shape_message_explains_reduction(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(
        kernel, step(catalog, "neuron"), "y = activation(torch.sum(features * weights))"
    )
    # The cause (the missing bias) comes first, then the shape failure it led to.
    assert "without the bias" in verdict.messages[0]
    assert verdict.messages[1].startswith("`y` has shape () but should be (1, 1).")
    assert "0-d tensor" in verdict.messages[1]


def test_shape_message_explains_square_broadcast(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "accuracy")
    verdict = answer(kernel, exercise, "accuracy = (ps.topk(1, dim=1).indices == labels).float()")
    assert not verdict.passed
    # The broadcast detector names the cause first; the shape sentence follows.
    assert "(N, N)" in verdict.messages[0]
    assert "(8, 8)" in verdict.messages[1]


def test_dtype_and_device(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "neuron")
    verdict = answer(kernel, exercise, exercise.solution + ".double()")
    assert "dtype float64 but should be float32" in verdict.messages[0]
    verdict = answer(kernel, exercise, exercise.solution + ".to('meta')")
    assert "is on meta but should be on cpu" in verdict.messages[0]


def test_close_generic_wrong_value(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "neuron"), "y = torch.full((1, 1), 0.5)")
    assert verdict.messages == [
        "`y` has the right shape (1, 1) but wrong values: 0.5 instead of 0.159507.\n"
        "expected    yours\n"
        "0.1595         0.5*\n"
        "(* marks the values that differ)"
    ]


def test_close_passes_other_correct_formula(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "neuron"), "y = activation(features @ weights.T + bias)")
    assert verdict.passed, verdict.messages


def test_close_on_modules_and_expressions(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "loop")
    wrong_lr = exercise.solution.replace("for _ in range(3)", "for _ in range(2)")
    verdict = answer(kernel, exercise, wrong_lr)
    assert not verdict.passed
    assert verdict.messages[0].startswith("`losses` has the wrong value")


def test_expr_check(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "grad"), "z = (x ** 2).mean()")
    assert verdict.messages == ["`x.grad` should be x / 2 after one backward pass."]


def test_property_shows_pasteable_smallest_input(kernel: Kernel, catalog: Catalog) -> None:
    code = (
        "def softmax(x):\n    e = torch.exp(x)\n    return e / (e.sum(dim=1, keepdim=True) + 1)\n"
    )
    verdict = answer(kernel, step(catalog, "softmax"), code)
    text = verdict.messages[0]
    assert "Smallest failing input (seed 0)" in text
    snippet = text.split("ready to paste:\n", 1)[1]
    assert snippet.splitlines()[-1] == "softmax(x)"
    # The snippet really reproduces the input: run it in the kernel.
    kernel.run(code)
    assert kernel.run(snippet, filename="<repl>").ok


def test_banned_names_line_for_each_spelling(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "softmax")
    for code, name in [
        ("def softmax(x):\n    return torch.softmax(x, 1)", "torch.softmax"),
        (
            "import torch.nn.functional as F\n\ndef softmax(x):\n    return F.softmax(x, 1)",
            "F.softmax",
        ),
        ("def softmax(x):\n    return torch.nn.Softmax(dim=1)(x)", "torch.nn.Softmax"),
        ("def softmax(x):\n    return x.softmax(dim=1)", "Tensor.softmax"),
    ]:
        verdict = answer(kernel, exercise, code)
        assert not verdict.passed
        assert "calls" in verdict.messages[0] and "not to use" in verdict.messages[0], (
            verdict.messages
        )
        assert "line" in verdict.messages[0].lower()
        assert name.split(".")[-1] in verdict.messages[0]


def test_banned_call_seen_at_run_time(kernel: Kernel, catalog: Catalog) -> None:
    """A call hidden from the AST (getattr) is still caught by the recorder."""
    code = "def softmax(x):\n    return getattr(torch, 'soft' + 'max')(x, 1)"
    verdict = answer(kernel, step(catalog, "softmax"), code)
    assert not verdict.passed
    assert "torch.softmax" in verdict.messages[0]
    assert "line 2" in verdict.messages[0].lower()


def test_required_and_no_loops(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "matmul")
    assert answer(kernel, exercise, "out = x @ w").passed
    assert answer(kernel, exercise, "out = x.matmul(w)").passed
    verdict = answer(kernel, exercise, "out = (x.unsqueeze(2) * w.unsqueeze(0)).sum(1)")
    assert verdict.messages == ["Use a matrix product"]
    code = "rows = []\nfor i in range(2):\n    rows.append(x[i] @ w)\nout = torch.stack(rows)"
    verdict = answer(kernel, exercise, code)
    assert verdict.messages[0].startswith("Line 2 uses a for loop")


def test_misconception_transposed_replaces_wrong_value(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "matmul"), "out = w.T @ x.T")
    assert not verdict.passed
    assert any("transposed" in m for m in verdict.messages)


def test_misconception_missing_activation(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "neuron"), "y = torch.sum(features * weights) + bias")
    assert verdict.messages == [
        "`y` matches the answer before the activation: pass the result "
        "through the activation function."
    ]


def test_misconception_softmax_variants(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "softmax")
    base = "def softmax(x):\n    e = torch.exp(x)\n    return e / {}\n"
    cases = {
        "e.sum(dim=0, keepdim=True)": "wrong dimension",
        "e.sum()": "whole tensor",
        "e.sum(dim=1)": "without keepdim=True",
    }
    for denominator, words in cases.items():
        verdict = answer(kernel, exercise, base.format(denominator))
        assert any(words in m for m in verdict.messages), (denominator, verdict.messages)


def test_misconception_broadcast_accuracy(kernel: Kernel, catalog: Catalog) -> None:
    code = "top_p, top_class = ps.topk(1, dim=1)\naccuracy = (top_class == labels).float().mean()"
    verdict = answer(kernel, step(catalog, "accuracy"), code)
    assert len(verdict.messages) == 1
    assert verdict.messages[0].startswith("Comparing an (N, 1) tensor with an (N,) tensor")


def test_accuracy_as_tensor_or_float_passes(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "accuracy")
    code = "accuracy = (ps.argmax(dim=1) == labels).float().mean()"
    assert answer(kernel, exercise, code).passed


def test_misconception_missing_zero_grad(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "loop")
    code = exercise.solution.replace("    optimizer.zero_grad()\n", "")
    verdict = answer(kernel, exercise, code)
    assert verdict.messages[0].startswith("Gradients add up across steps")
    verdict = answer(
        kernel,
        step(catalog, "grad"),
        "z = (x ** 2).mean()\nz.backward(retain_graph=True)\nz.backward()",
    )
    assert "backward() ran more than once" in verdict.messages[0]


def test_path_exists_check(kernel: Kernel, catalog: Catalog) -> None:
    verdict = answer(kernel, step(catalog, "save"), "pass")
    assert verdict.messages[0].startswith("There is no file at `path`")


def test_checks_do_not_change_the_learners_random_stream(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "neuron")
    assert kernel.reset(exercise).ok
    kernel.answer(exercise, exercise.solution)
    first = kernel.run("torch.rand(1).item()").output
    assert kernel.reset(exercise).ok
    kernel.run(exercise.solution)
    assert kernel.run("torch.rand(1).item()").output == first


def test_failed_run_is_failed_verdict(kernel: Kernel, catalog: Catalog) -> None:
    exercise = step(catalog, "neuron")
    assert not answer(kernel, exercise, "y = 1 / 0").passed
    verdict = answer(kernel, exercise, "while True:\n    pass")
    assert not verdict.passed
    assert "longer than 3 s" in verdict.messages[0]


def test_check_spec_validation() -> None:
    assert check_problems(Check("shape", {"name": "y"})) == []
    assert "unknown check kind" in check_problems(Check("shapes", {}))[0]
    assert "needs the parameter 'name'" in check_problems(Check("shape", {}))[0]
    assert "needs a 'message'" in check_problems(Check("expr", {"expr": "True"}))[0]
    assert "unknown misconception" in check_problems(Check("misconception", {"detector": "x"}))[0]
    assert "unknown parameter" in check_problems(Check("dtype", {"name": "y", "shape": [1]}))[0]


def test_static_calls_resolve_aliases() -> None:
    found = static_calls(
        "import torch.nn.functional as G\nfrom torch import mm\ny = G.relu(a) @ mm(b, c)"
    )
    assert found["torch.nn.functional.relu"] == 3
    assert found["torch.mm"] == 3
    assert found["Tensor.matmul"] == 3


def test_prove_reports_each_problem_with_path_and_line() -> None:
    catalog = load_catalog([FIXTURES / "broken"])
    problems = prove_catalog(catalog)
    path = str(FIXTURES / "broken" / "01-broken.toml")
    assert all(p.startswith(path + ":") for p in problems), problems
    text = "\n".join(problems)
    assert "step 'weak': the starter code passes the checks; it must fail" in text
    assert "wrong answer 1 fails, but no message contains 'this text never appears'" in text
    assert "wrong answer 2 passes the checks" in text
    assert "step 'bad-solution': the reference solution fails its checks" in text
    assert "unknown check kind 'closeish'" in text
    assert len(problems) == 5
