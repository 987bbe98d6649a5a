"""Plain words for PyTorch errors about dtypes, dimensions, losses and autograd.

Each entry pairs a pattern of PyTorch's wording with a sentence built from the numbers and names
it carries. Used by ``tutor.execution.explain``; runs only in the kernel child.
"""

from __future__ import annotations

import re
from collections.abc import Callable

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]

RULES: list[Rule] = [
    (
        re.compile(
            r"DistributedDataParallel device_ids and output_device arguments only work with "
            r".*but got device_ids (\[[^\]]*\]).*module parameters \{device\(type='(\w+)'\)"
        ),
        lambda m: (
            f"device_ids={m.group(1)} names GPUs, but the model is on the {m.group(2)}: pass "
            "device_ids=[local_rank] only for a model on CUDA, and leave it out (DDP(model)) on "
            "the CPU."
        ),
    ),
    (
        re.compile(r"expected target dtype to be Long.*but got (\w+)|expected scalar type Long"),
        lambda m: (
            "The loss needs the labels as class indices (integers, torch.long), but got "
            f"{(m.group(1) or 'floats').lower()} values: pass the labels unchanged, or "
            "convert with labels.long()."
        ),
    ),
    (
        re.compile(r"Expected input batch_size \((\d+)\) to match target batch_size \((\d+)\)"),
        lambda m: (
            f"The model's output has {m.group(1)} rows but there are {m.group(2)} labels: each "
            "row of scores needs exactly one label. Check the reshape of the inputs (a "
            "hard-coded batch size?) and that outputs and labels come from the same batch."
        ),
    ),
    (
        re.compile(r"Target (-?\d+) is out of bounds"),
        lambda m: (
            f"A label is {m.group(1)}, but the model only scores fewer classes than that: the "
            "last layer needs one output per class (labels run from 0 to classes - 1)."
        ),
    ),
    (
        re.compile(
            r"must have the same dtype, but got (\w+) and (\w+)|"
            r"expected m1 and m2 to have the same dtype, but got: ([\w ]+) != ([\w ]+)"
        ),
        lambda m: (
            "The two operands have different dtypes "
            f"({m.group(1) or m.group(3)} and {m.group(2) or m.group(4)}): models use float32, "
            "so convert with .float() (NumPy arrays arrive as float64)."
        ),
    ),
    (
        re.compile(
            r"Dimension out of range \(expected to be in range of \[-(\d+), (\d+)\], but got (-?\d+)\)"
        ),
        lambda m: (
            f"dim={m.group(3)} does not exist: this tensor has {m.group(1)} dimensions, numbered "
            f"0 to {m.group(2)} (or -1 for the last). For an (N, C) batch of scores the classes "
            "are dim=1."
        ),
    ),
    (
        re.compile(r"Can't call numpy\(\) on Tensor that requires grad"),
        lambda m: (
            "This tensor is tracked by autograd, so NumPy cannot share it: take "
            "tensor.detach().numpy() (or compute it under torch.no_grad())."
        ),
    ),
    (
        re.compile(r"grad can be implicitly created only for scalar outputs"),
        lambda m: (
            "backward() without arguments needs one number: reduce the result first (for "
            "example .sum() or .mean()), and call backward on that."
        ),
    ),
    (
        re.compile(r"a Tensor with (\d+) elements cannot be converted to Scalar"),
        lambda m: (
            f".item() (or float()) needs a one-element tensor, and this one has {m.group(1)}: "
            "reduce it first (.sum(), .mean()) or pick one element."
        ),
    ),
    (
        re.compile(r"torch\.nn\.modules\.[\w.]+\.(\w+) is not a Module subclass"),
        lambda m: (
            f"nn.{m.group(1)} is passed as a class: create the layer with parentheses, "
            f"nn.{m.group(1)}()."
        ),
    ),
    (
        re.compile(r"(\w+(?:\.__init__)?)\(\) missing (\d+) required positional arguments?: (.+)"),
        lambda m: (
            f"`{m.group(1).replace('.__init__', '')}` needs more arguments: {m.group(3)} "
            "is missing."
        ),
    ),
    (
        re.compile(r"index (-?\d+) is out of bounds for dimension (\d+) with size (\d+)"),
        lambda m: (
            f"Index {m.group(1)} is past the end: dimension {m.group(2)} has {m.group(3)} "
            f"entries, numbered 0 to {int(m.group(3)) - 1}."
        ),
    ),
    (
        re.compile(r"([\w.]+)\(\) got an unexpected keyword argument '(\w+)'"),
        lambda m: _unexpected_keyword(m.group(1), m.group(2)),
    ),
    (
        re.compile(r"(\w+)\(\) received an invalid combination of arguments - got \((.*?)\), but"),
        lambda m: _invalid_combination(m.group(1), m.group(2)),
    ),
    (
        re.compile(r"mean\(\): could not infer output dtype.*Got: (\w+)"),
        lambda m: (
            f"mean() needs floating-point values, and these are {m.group(1)}: convert first, "
            "e.g. equals.float().mean()."
        ),
    ),
    (
        re.compile(
            r"size mismatch for ([\w.]+): copying a param with shape torch\.Size\((\[[\d, ]*\])\) "
            r"from checkpoint, the shape in current model is torch\.Size\((\[[\d, ]*\])\)"
        ),
        lambda m: (
            f"The saved weights do not fit this network: {m.group(1)} is {m.group(2)} in the "
            f"checkpoint but {m.group(3)} in the model. Build the network with the sizes saved "
            "in the checkpoint before loading the weights."
        ),
    ),
    (
        re.compile(r"Missing key\(s\) in state_dict|Unexpected key\(s\) in state_dict"),
        lambda m: (
            "The saved weights name other layers than this model has: load them into the same "
            "kind of network they were saved from (same layers, same attribute names)."
        ),
    ),
    (
        re.compile(r"img should be (?:Tensor Image|PIL Image)\. Got <class '([\w.]+)'>"),
        lambda m: (
            f"A transform got a {m.group(1).rsplit('.', 1)[-1]} it cannot handle: the order "
            "matters, PIL transforms (Resize, crops, flips) first, then ToTensor(), then "
            "Normalize."
        ),
    ),
    (
        re.compile(r"(\w+)\.__init__\(\) takes (\d+) positional arguments? but (\d+) were given"),
        lambda m: (
            f"`{m.group(1)}` was used as a class where an object was needed: create it with "
            f"parentheses, {m.group(1)}(...), before passing it on."
        ),
    ),
    (
        re.compile(r"expected np\.ndarray \(got (\w+)\)"),
        lambda m: (
            f"torch.from_numpy takes a NumPy array, not a {m.group(1)}: use torch.tensor(...) "
            "for Python lists."
        ),
    ),
]


# Keyword arguments the course uses, for "did you mean" after a misspelt one.
COURSE_KEYWORDS = (
    "transform",
    "target_transform",
    "batch_size",
    "shuffle",
    "dim",
    "keepdim",
    "lr",
    "weights",
    "weights_only",
    "p",
    "in_features",
    "out_features",
    "kernel_size",
    "requires_grad",
    "device",
    "dtype",
    "num_workers",
    "momentum",
    "train",
    "download",
    "root",
    "bias",
)


def _invalid_combination(function: str, got: str) -> str:
    import difflib

    keywords = re.findall(r"(\w+)=", got)
    for keyword in keywords:
        close = difflib.get_close_matches(keyword, COURSE_KEYWORDS, n=1, cutoff=0.6)
        if close and close[0] != keyword:
            return f"`{function}` has no parameter named `{keyword}`. Did you mean `{close[0]}=`?"
    return (
        f"`{function}` does not take these arguments ({got.strip(', ')}): the forms it accepts "
        "are listed below; compare the names and types."
    )


def _unexpected_keyword(function: str, keyword: str) -> str:
    import difflib

    shown = function.replace(".__init__", "")
    close = difflib.get_close_matches(keyword, COURSE_KEYWORDS, n=1, cutoff=0.6)
    hint = f" Did you mean `{close[0]}=`?" if close else " Check its spelling."
    return f"`{shown}` has no parameter named `{keyword}`.{hint}"


def explain_torch(text: str) -> str | None:
    """The sentence of the first rule that matches the error text, or None."""
    for pattern, sentence in RULES:
        match = pattern.search(text)
        if match:
            return sentence(match)
    return None
