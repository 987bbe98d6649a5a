"""Plain-language explanations of learner errors (tutor.execution.explain and explain_shapes)."""

from __future__ import annotations

import linecache
from typing import Any

import pytest

from tutor.execution import explain as ex
from tutor.execution.explain_shapes import explain_matmul, explain_view, product_operands


def _raise(code: str, namespace: dict[str, Any]) -> BaseException:
    """Run ``code`` as an ``<answer>`` cell and return the exception it raised."""
    linecache.cache["<answer>"] = (len(code), None, code.splitlines(True), "<answer>")
    try:
        exec(compile(code, "<answer>", "exec"), namespace)
    except BaseException as exc:  # the error under test
        return exc
    raise AssertionError("the code did not fail")


def _ns() -> dict[str, Any]:
    import torch
    from torch import nn

    return {"torch": torch, "nn": nn}


def test_matmul_names_operands_and_the_fix() -> None:
    ns = _ns()
    ns["features"] = ns["torch"].randn(1, 5)
    ns["weights"] = ns["torch"].randn(1, 5)
    exc = _raise("y = torch.mm(features, weights)", ns)
    text = ex.explain(exc, ns, "y = torch.mm(features, weights)")
    assert "`features` @ `weights`" in text
    assert "weights.view(5, 1)" in text


def test_matmul_wrong_order_is_named() -> None:
    text = explain_matmul(
        "mat1 and mat2 shapes cannot be multiplied (5x1 and 3x5)", "y = w @ x", ""
    )
    assert text is not None and "wrong order" in text and "`x` @ `w`" in text


def test_operands_of_method_and_function_calls() -> None:
    assert product_operands("y = a.mm(b.T)") == ("a", "b.T")
    assert product_operands("y = torch.matmul(a, b) + c") == ("a", "b")
    assert product_operands("y = model(x)") is None


def test_linear_layer_given_unflattened_images() -> None:
    ns = _ns()
    ns["model"] = ns["nn"].Linear(784, 128)
    ns["images"] = ns["torch"].randn(64, 1, 28, 28)
    exc = _raise("ps = model(images)", ns)
    text = ex.explain(exc, ns, "ps = model(images)")
    assert "never flattened" in text and "`images`" in text and "64 images" in text


def test_linear_layer_with_hard_coded_batch() -> None:
    code = "ps = model(images.view(64, -1))"
    ns = _ns()
    ns["model"] = ns["nn"].Linear(784, 128)
    ns["images"] = ns["torch"].randn(32, 1, 28, 28)
    exc = _raise(code, ns)
    text = ex.explain(exc, ns, code)
    assert "hard-coded batch size" in text and "32 samples" in text


def test_impossible_view_names_the_call_and_the_fitting_size() -> None:
    text = explain_view(
        "shape '[64, 784]' is invalid for input of size 25088", "x = images.view(64, 784)"
    )
    assert text is not None
    assert "`images.view(64, 784)`" in text and "would be 32, not 64" in text


def test_view_of_a_transposed_tensor_suggests_reshape() -> None:
    ns = _ns()
    ns["x"] = ns["torch"].randn(3, 4).t()
    exc = _raise("y = x.view(-1)", ns)
    assert ".reshape" in ex.explain(exc, ns, "y = x.view(-1)")


def test_broadcast_error_names_operands() -> None:
    ns = _ns()
    ns["a"], ns["b"] = ns["torch"].randn(2, 5), ns["torch"].randn(2, 4)
    exc = _raise("c = a + b", ns)
    assert "`a` and `b`" in ex.explain(exc, ns, "c = a + b")


def test_name_error_suggests_nearest_name() -> None:
    ns = {"criterion": object()}
    exc = _raise("loss = criterian(1)", ns)
    assert "Did you mean `criterion`" in ex.explain(exc, ns, "")


def test_name_error_for_a_sibling_loader() -> None:
    ns = {"trainloader": []}
    exc = _raise("for x in testloader: pass", ns)
    text = ex.explain(exc, ns, "")
    assert "`testloader` does not exist in this exercise" in text and "`trainloader`" in text


def test_name_error_for_a_name_from_another_exercise() -> None:
    ex.forget_names()
    ex.remember_names({"optimizer": 1, "torch": __import__("torch")})
    try:
        exc = _raise("optimizer.step()", {})
        assert "another exercise" in ex.explain(exc, {}, "")
        exc = _raise("torch.ones(1)", {})
        assert "another exercise" not in ex.explain(exc, {}, "")
    finally:
        ex.forget_names()


def test_missing_return_and_nested_def() -> None:
    code = "def f(x):\n    y = x + 1\n\nz = f(1)\nz.shape\n"
    ns: dict[str, Any] = {}
    exc = _raise(code, ns)
    text = ex.explain(exc, ns, code)
    assert "`z` is None" in text and "`f` has no `return` line" in text
    code = "def f(x):\n    def f(x):\n        return x\n\nz = f(1)\nz.shape\n"
    ns = {}
    exc = _raise(code, ns)
    assert "the `def f` inside it" in ex.explain(exc, ns, code)


def test_cuda_on_a_machine_without_it() -> None:
    text = ex.explain(RuntimeError("Found no NVIDIA driver on your system."), {}, "")
    assert "torch.cuda.is_available()" in text
    text = ex.explain(AssertionError("Torch not compiled with CUDA enabled"), {}, "")
    assert "torch.cuda.is_available()" in text


def test_quoted_variable_used_as_a_path() -> None:
    ns = {"data_dir": "/tmp/some-folder"}
    exc = FileNotFoundError(2, "No such file or directory", "data_dir/train")
    text = ex.explain(exc, ns, "")
    assert "'data_dir' in quotes" in text and "without quotes" in text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("    def __init__(self):\n        self.fc = nn.Linear(2, 2)\n", "super().__init__()"),
        (
            "    def __init__(self):\n        super().__init__()\n"
            "    def foward(self, x):\n        return x\n",
            "defines `foward`, not `forward`",
        ),
        (
            "    def __init__(self):\n        super().__init__()\n"
            "    def forward(x):\n        return x\n",
            "missing `self`",
        ),
    ],
)
def test_module_slips(body: str, expected: str) -> None:
    code = "class Net(nn.Module):\n" + body + "Net()(torch.ones(1, 2))\n"
    ns = _ns()
    exc = _raise(code, ns)
    assert expected in ex.explain(exc, ns, code)


def test_syntax_errors_keep_pythons_words() -> None:
    for code, expected in (
        ("y = f(1\n", "never closed"),
        ("y = [1, 2)\n", "do not pair up"),
        ("def f():\nreturn 1\n", "indentation"),
    ):
        try:
            compile(code, "<answer>", "exec")
        except SyntaxError as exc:
            assert expected in ex.explain(exc, {}, code)
        else:
            raise AssertionError(code)


def test_every_error_gets_a_line_naming_where() -> None:
    exc = _raise("x = 1\nraise KeyError('k')\n", {})
    assert ex.explain_specific(exc, {}, "") is None
    assert "line 2" in ex.explain(exc, {}, "") and "KeyError" in ex.explain(exc, {}, "")


def test_a_method_passed_without_calling_it() -> None:
    import torch

    ns = _ns()
    ns["model"] = ns["nn"].Linear(2, 2)
    ns["optim"] = torch.optim
    code = "opt = optim.SGD(model.parameters, lr=0.1)"
    exc = _raise(code, ns)
    assert "`model.parameters()`" in ex.explain(exc, ns, code)


def test_an_expression_calling_a_function_without_return_is_explained() -> None:
    code = "def load(p):\n    x = p + 1\n"
    assert "`load` returns None" in (ex.returns_none(code, "isinstance(load(path), int)") or "")
    assert ex.returns_none(code, "other(path)") is None


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("nn.NLLLoss()(torch.zeros(4, 3), torch.tensor([0.0, 1.0, 2.0, 1.0]))", "labels.long()"),
        (
            "nn.NLLLoss()(torch.zeros(4, 3), torch.tensor([0, 1, 2]))",
            "4 rows but there are 3 labels",
        ),
        ("nn.NLLLoss()(torch.zeros(4, 3), torch.tensor([0, 1, 5, 1]))", "A label is 5"),
        ("nn.Linear(3, 2)(torch.ones(2, 3, dtype=torch.float64))", ".float()"),
        ("torch.zeros(2, 3).sum(dim=2)", "dim=2 does not exist"),
        ("torch.zeros(2, requires_grad=True).numpy()", "detach().numpy()"),
        ("(torch.zeros(2, requires_grad=True) * 2).backward()", "needs one number"),
        ("torch.zeros(2).item()", "has 2"),
        ("nn.Sequential(nn.Linear(2, 2), nn.ReLU)", "nn.ReLU()"),
        ("nn.Linear(2)", "`Linear` needs more arguments"),
        ("torch.mean(torch.tensor([True, False]))", "equals.float().mean()"),
        ("torch.zeros(2, 3).sum(dims=1)", "Did you mean `dim=`?"),
        ("nn.Linear(2, 2, bais=True)", "Did you mean `bias=`?"),
        (
            "nn.Linear(3, 4).load_state_dict(nn.Linear(3, 2).state_dict())",
            "[2, 3] in the checkpoint",
        ),
    ],
)
def test_common_torch_errors(code: str, expected: str) -> None:
    ns = _ns()
    exc = _raise(code, ns)
    assert expected in ex.explain(exc, ns, code)


def test_an_operand_reshaped_the_wrong_way_is_reshaped_again() -> None:
    text = explain_matmul(
        "mat1 and mat2 shapes cannot be multiplied (1x2 and 1x2)", "o = torch.mm(h, W2.view(1, 2))"
    )
    assert text is not None and "`W2.view(2, 1)`" in text


def test_a_missing_key_names_the_nearest_one() -> None:
    code = "def load(c):\n    return c['hidden_layer']\n\nload({'hidden_layers': [1], 'input_size': 2})\n"
    exc = _raise(code, {})
    assert "it has 'hidden_layers'" in ex.explain(exc, {}, code)


def test_the_input_of_a_linear_layer_is_named_by_its_variable() -> None:
    code = "x = self_fc(x)"
    text = explain_matmul(
        "mat1 and mat2 shapes cannot be multiplied (64x98 and 784x256)",
        "x = drop(F.relu(fc1(x)))",
        code,
    )
    assert text is not None and "`x` reached it" in text


def test_ddp_device_ids_on_a_cpu_model_is_explained() -> None:
    from tutor.execution.explain_torch import explain_torch

    text = (
        "DistributedDataParallel device_ids and output_device arguments only work with "
        "single-device/multiple-device GPU modules or CPU modules, but got device_ids [0], "
        "output_device None, and module parameters {device(type='cpu')}."
    )
    found = explain_torch(text)
    assert found is not None
    assert found.startswith("device_ids=[0] names GPUs, but the model is on the cpu")


def test_the_plain_line_and_pythons_words_come_apart_again() -> None:
    from tutor.execution.runner import short_traceback, split_explanation

    try:
        exec(compile("import torch\ntorch.ones(1, 5) @ torch.ones(1, 5)\n", "<answer>", "exec"), {})
    except RuntimeError as exc:
        error = short_traceback(exc, {}, "")
    explanation, words = split_explanation(error)
    assert explanation and "\n" not in explanation
    assert words.startswith("Traceback (most recent call last):")
    assert words.endswith("mat1 and mat2 shapes cannot be multiplied (1x5 and 1x5)")
    assert split_explanation("NameError: name 'q' is not defined") == (
        "",
        "NameError: name 'q' is not defined",
    )
