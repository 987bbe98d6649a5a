"""Plain words for PyTorch's mixed-device errors (a tensor on one device met one on another)."""

from __future__ import annotations

import re

# PyTorch words the same mistake differently per device and version: cuda/cpu kernels say
# "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
# (or "... but got mat1 is on cpu, different from other tensors on cuda:0 ..."), while the meta
# device says "Tensor on device meta is not on the expected device cpu!".
_SAME_DEVICE = re.compile(r"Expected all tensors to be on the same device")
_FOUND_TWO = re.compile(r"found at least two devices,? (?P<a>[\w:]+) and (?P<b>[\w:]+)")
_GOT_ON = re.compile(r"is on (?P<a>[\w:]+), different from other tensors on (?P<b>[\w:]+)")
_NOT_EXPECTED = re.compile(
    r"Tensor on device (?P<a>[\w:]+) is not on the expected device (?P<b>[\w:]+)"
)


def mixed_devices(text: str) -> tuple[str, str] | None:
    """The two devices named by a mixed-device error message, or None when it is not one.

    When the message says only that devices differ, both names are empty strings.
    """
    for pattern in (_FOUND_TWO, _GOT_ON, _NOT_EXPECTED):
        match = pattern.search(text)
        if match:
            return match.group("a"), match.group("b")
    if _SAME_DEVICE.search(text):
        return "", ""
    return None


def explain_mixed_device(text: str) -> str | None:
    """A sentence explaining a mixed-device error in plain words, or None for other errors."""
    pair = mixed_devices(text)
    if pair is None:
        return None
    first, second = pair
    met = f"a tensor on {first} met one on {second}" if first else "tensors on two devices met"
    return (
        f"Mixed devices: {met} in one operation. Every tensor an operation uses, and the "
        "model's parameters, must be on the same device: move them with .to(device), and keep "
        "the result (x = x.to(device)), since .to on a tensor returns a new tensor."
    )
