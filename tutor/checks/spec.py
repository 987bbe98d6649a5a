"""The check kinds an exercise may declare and the parameters each needs (no torch, no running).

``pytorch-tutor lint`` uses ``check_problems`` to report a mistyped kind or a missing parameter
before any code runs; the child uses the same table to refuse an unknown kind with a sentence.
"""

from __future__ import annotations

from tutor.lessons.model import Check, ExerciseStep

# kind -> (required parameters, optional parameters)
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "type": (("name", "type"), ()),
    "shape": (("name",), ("shape",)),
    "dtype": (("name",), ("dtype",)),
    "device": (("name",), ("device", "device_of")),
    "close": ((), ("name", "expr", "rtol", "atol")),
    "expr": (("expr",), ()),
    "property": (("function", "reference", "inputs"), ("seeds", "rtol", "atol", "sizes")),
    "banned": (("calls",), ()),
    "required": (("calls",), ()),
    "no-loops": ((), ()),
    "architecture": (("inputs",), ("name",)),
    "device-move": ((), ("model", "device")),
    "training-loop": (
        (),
        ("losses", "model", "criterion", "optimizer", "epochs", "loader", "min_drop"),
    ),
    "misconception": (
        ("detector",),
        ("name", "function", "inputs", "dim", "expr", "scores", "labels", "bias", "activation"),
    ),
}

DETECTORS = (
    "transposed",
    "softmax-wrong-dim",
    "broadcast-nn",
    "missing-zero-grad",
    "missing-bias",
    "missing-activation",
    "expr",
)

TYPE_NAMES = ("Tensor", "Module", "callable", "float", "int", "number", "str", "path-exists")

# Any check may say ``advice = true``: it is judged only once every other check passed, and its
# failure turns into the passing verdict's tip (a better way), never into a failure.
ADVICE = "advice"

# Value checks whose generic message a matching misconception replaces.
VALUE_KINDS = ("close", "expr", "property")
# Call checks are judged after the others, so calls made inside the learner's functions during
# value checks count too.
CALL_KINDS = ("banned", "required")


def check_problems(check: Check) -> list[str]:
    """Sentences describing what is wrong with one declared check (empty when it is fine)."""
    if check.kind not in KINDS:
        return [f"unknown check kind {check.kind!r} (known: {', '.join(KINDS)})"]
    required, optional = KINDS[check.kind]
    problems = [
        f"check {check.kind!r} needs the parameter {name!r}"
        for name in required
        if name not in check.params
    ]
    for name in check.params:
        if name == "advice":
            if not isinstance(check.params[name], bool):
                problems.append(f"check {check.kind!r}: 'advice' must be true or false")
            continue
        if name not in required and name not in optional:
            problems.append(f"check {check.kind!r} has an unknown parameter {name!r}")
    if check.kind == "close" and "name" not in check.params and "expr" not in check.params:
        problems.append("check 'close' needs 'name' or 'expr'")
    if check.kind == "expr" and not check.message:
        problems.append("check 'expr' needs a 'message' saying what is wrong")
    if check.kind in CALL_KINDS:
        calls = check.params.get("calls")
        if not isinstance(calls, list) or not calls or not all(isinstance(c, str) for c in calls):
            problems.append(f"check {check.kind!r}: 'calls' must be a non-empty list of names")
    if check.kind == "misconception" and check.params.get("detector") not in DETECTORS:
        problems.append(
            f"unknown misconception detector {check.params.get('detector')!r} "
            f"(known: {', '.join(DETECTORS)})"
        )
    if check.kind == "architecture":
        inputs = check.params.get("inputs")
        if (
            not isinstance(inputs, list)
            or not inputs
            or not all(isinstance(i, str) for i in inputs)
        ):
            problems.append(
                "check 'architecture': 'inputs' must be a non-empty list of expressions"
            )
    if check.kind == "type":
        wanted = check.params.get("type")
        if not isinstance(wanted, str) or (wanted not in TYPE_NAMES and "." not in wanted):
            problems.append(
                f"check 'type': 'type' must be one of {', '.join(TYPE_NAMES)} or a dotted class name"
            )
    return problems


def step_problems(step: ExerciseStep) -> list[str]:
    """Problems of every check declared on an exercise step."""
    problems: list[str] = []
    for position, check in enumerate(step.checks, start=1):
        problems.extend(f"check {position}: {p}" for p in check_problems(check))
    return problems
