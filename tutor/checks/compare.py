"""Comparing a learner's value with the expected one, shape first, in sentences that teach.

The order is the one that explains most: kind of value, shape (with what broadcasting did), dtype,
device, then values with ``torch.testing.assert_close`` and the largest difference.
"""

from __future__ import annotations

import math
from typing import Any

from tutor.checks.context import CheckFailed, kind_of

DEFAULT_RTOL = 1e-4
DEFAULT_ATOL = 1e-5


def fmt_shape(shape: Any) -> str:
    dims = tuple(int(d) for d in shape)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def fmt_number(value: float) -> str:
    return f"{value:.6g}"


def shape_advice(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """Why a shape may be off, with the broadcasting rule when broadcasting is the likely cause."""
    if len(got) == 2 and got[0] == got[1] and got[0] > 1 and want in ((got[0],), (got[0], 1), ()):
        n = got[0]
        return (
            f" An ({n}, {n}) result usually comes from broadcasting: a ({n}, 1) tensor combined with "
            f"a ({n},) tensor is stretched to ({n}, {n}). Give both operands the same shape first, "
            "e.g. with .view(-1) or .view(-1, 1)."
        )
    if len(got) == len(want) == 2 and got == (want[1], want[0]):
        return " It looks transposed: swap the operands of the product, or use .T where needed."
    if math.prod(got) == math.prod(want):
        if not got:
            return (
                " A full reduction such as torch.sum(...) gives a 0-d tensor; keep the shape, e.g. "
                "with keepdim=True or by adding a tensor of the wanted shape."
            )
        return (
            " It has the right number of elements arranged differently: check .reshape/.view "
            "arguments or keepdim=True on reductions."
        )
    if math.prod(got) > math.prod(want):
        return (
            " It has more elements than expected: broadcasting may have stretched two operands "
            "against each other (sizes are matched from the right; a size of 1 is stretched). "
            "Print the operands' .shape to see it."
        )
    return " Print .shape of the pieces you combine to see where the size changes."


def check_shape(name: str, got: Any, want_shape: tuple[int, ...]) -> None:
    shape = tuple(got.shape)
    if shape != tuple(want_shape):
        raise CheckFailed(
            f"`{name}` has shape {fmt_shape(shape)} but should be {fmt_shape(want_shape)}."
            + shape_advice(shape, tuple(want_shape))
        )


def dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def compare_values(
    name: str, got: Any, want: Any, rtol: float | None = None, atol: float | None = None
) -> None:
    """Raise ``CheckFailed`` unless ``got`` matches ``want`` (tensors, numbers, lists, modules)."""
    import torch

    rtol = DEFAULT_RTOL if rtol is None else rtol
    atol = DEFAULT_ATOL if atol is None else atol
    if isinstance(want, torch.nn.Module):
        compare_modules(name, got, want, rtol, atol)
        return
    # A float answer and a one-element tensor answer mean the same number (e.g. an accuracy).
    if is_number(want) and isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.item()
    if is_number(got) and isinstance(want, torch.Tensor) and want.numel() == 1:
        want = want.item()
    if isinstance(want, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            raise CheckFailed(f"`{name}` should be a tensor, but it is {kind_of(got)}.")
        check_shape(name, got, tuple(want.shape))
        if got.dtype != want.dtype:
            raise CheckFailed(
                f"`{name}` has dtype {dtype_name(got.dtype)} but should be {dtype_name(want.dtype)}: "
                f"convert with .to(torch.{dtype_name(want.dtype)}) or keep the inputs' dtype."
            )
        got_cpu, want_cpu = got.detach().cpu(), want.detach().cpu()
        try:
            torch.testing.assert_close(got_cpu, want_cpu, rtol=rtol, atol=atol, equal_nan=True)
        except AssertionError:
            failed = CheckFailed(wrong_value_message(name, got_cpu, want_cpu), value_failure=True)
            failed.picture = side_by_side(got_cpu, want_cpu, rtol, atol)
            if failed.picture:
                failed.message += "\n" + failed.picture
            raise failed from None
        return
    if is_number(want):
        if isinstance(got, torch.Tensor):
            raise CheckFailed(
                f"`{name}` should be a single number, but it is a tensor of shape "
                f"{fmt_shape(tuple(got.shape))}." + shape_advice(tuple(got.shape), ())
            )
        if not is_number(got):
            raise CheckFailed(f"`{name}` should be a number, but it is {kind_of(got)}.")
        if not math.isclose(float(got), float(want), rel_tol=rtol, abs_tol=atol):
            raise CheckFailed(
                f"`{name}` is {fmt_number(float(got))} but should be about {fmt_number(float(want))}.",
                value_failure=True,
            )
        return
    try:
        torch.testing.assert_close(got, want, rtol=rtol, atol=atol, check_dtype=False)
    except (AssertionError, TypeError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "different values"
        raise CheckFailed(f"`{name}` has the wrong value ({first}).", value_failure=True) from None


SIDE_BY_SIDE_LIMIT = 36  # elements; bigger tensors get only the largest difference


def side_by_side(got: Any, want: Any, rtol: float, atol: float) -> str:
    """Expected and the learner's values as two small grids, differing cells marked with *."""
    import torch

    if want.numel() > SIDE_BY_SIDE_LIMIT or want.dim() == 0 or want.dim() > 2:
        return ""
    g2, w2 = got.reshape(-1, want.shape[-1]), want.reshape(-1, want.shape[-1])
    differs = ~torch.isclose(g2.double(), w2.double(), rtol=rtol, atol=atol, equal_nan=True)

    def cell(value: Any) -> str:
        number = value.item()
        return f"{number:.4g}" if isinstance(number, float) else str(number)

    cells_w = [[cell(v) for v in row] for row in w2]
    cells_g = [[cell(v) for v in row] for row in g2]
    width = max(len(c) for row in cells_w + cells_g for c in row)

    def line(cells: list[str], marks: list[bool]) -> str:
        return " ".join(
            c.rjust(width) + ("*" if m else " ") for c, m in zip(cells, marks, strict=True)
        )

    left = [line(r, [False] * len(r)) for r in cells_w]
    right = [line(r, [bool(m) for m in marks]) for r, marks in zip(cells_g, differs, strict=True)]
    column = max(len(x) for x in [*left, "expected"]) + 4
    rows = ["expected".ljust(column) + "yours"]
    rows += [a.ljust(column) + b for a, b in zip(left, right, strict=True)]
    rows.append("(* marks the values that differ)")
    return "\n".join(rows)


def wrong_value_message(name: str, got: Any, want: Any) -> str:
    """The generic wrong-value sentence: right shape, where the largest difference is."""
    import torch

    if got.is_floating_point() or got.is_complex():
        diff = (got.to(want.dtype) - want).abs()
        diff = torch.nan_to_num(diff, nan=float("inf"))
    else:
        diff = (got.long() - want.long()).abs()
    flat = int(torch.argmax(diff.reshape(-1)).item()) if diff.numel() else 0
    index = (
        tuple(int(i) for i in torch.unravel_index(torch.tensor(flat), tuple(want.shape)))
        if want.dim()
        else ()
    )
    g = got.reshape(-1)[flat].item() if got.numel() else float("nan")
    w = want.reshape(-1)[flat].item() if want.numel() else float("nan")
    where = f" at index {index}" if want.numel() > 1 else ""
    return (
        f"`{name}` has the right shape {fmt_shape(tuple(want.shape))} but wrong values: "
        f"{fmt_number(g)} instead of {fmt_number(w)}{where}."
    )


def compare_modules(name: str, got: Any, want: Any, rtol: float, atol: float) -> None:
    import torch

    if not isinstance(got, torch.nn.Module):
        raise CheckFailed(f"`{name}` should be an nn.Module, but it is {kind_of(got)}.")
    got_state, want_state = got.state_dict(), want.state_dict()
    missing = [k for k in want_state if k not in got_state]
    extra = [k for k in got_state if k not in want_state]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing[:4]))
        if extra:
            parts.append("unexpected " + ", ".join(extra[:4]))
        raise CheckFailed(f"`{name}` has different layers than expected: {'; '.join(parts)}.")
    for key, value in want_state.items():
        mine = got_state[key]
        if tuple(mine.shape) != tuple(value.shape):
            raise CheckFailed(
                f"`{name}`'s {key} has shape {fmt_shape(mine.shape)} but should be "
                f"{fmt_shape(value.shape)}: check the layer sizes."
            )
        try:
            torch.testing.assert_close(
                mine.detach().cpu(), value.detach().cpu(), rtol=rtol, atol=atol
            )
        except AssertionError:
            raise CheckFailed(
                f"`{name}`'s {key} has the wrong values.", value_failure=True
            ) from None
