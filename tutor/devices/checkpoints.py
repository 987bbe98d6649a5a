"""Loading checkpoints across devices: a file saved on a GPU loads on a CPU-only machine and back.

``torch.save`` records the device of every tensor; ``torch.load`` puts each tensor back there
unless ``map_location`` says otherwise, so a GPU-saved file fails on a machine without CUDA.
``load_state_for`` always passes ``map_location`` and keeps ``weights_only=True`` (the safe
default since torch 2.6), and turns every failure into one ``CheckpointError`` sentence.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

from tutor.devices.availability import error_text
from tutor.devices.errors import DeviceError


class CheckpointError(DeviceError):
    """A checkpoint that cannot be loaded; ``str(error)`` says why and what to do."""


def load_state_for(
    path: str | os.PathLike[str],
    device: Any = "cpu",
    *,
    torch_module: Any | None = None,
) -> Any:
    """Load a checkpoint with every tensor mapped onto ``device`` (a ``torch.device`` or its name)."""
    if torch_module is None:
        import torch  # only when called: this package never imports torch at import time
    else:
        torch = torch_module
    target = torch.device(device)
    file = Path(path)
    if not file.is_file():
        raise CheckpointError(f"There is no checkpoint file at {file}: check the path.")
    try:
        return torch.load(file, map_location=target, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{file} holds objects other than tensors and plain values, which torch.load refuses "
            "with weights_only=True: save a dict of state_dicts, numbers and strings instead."
        ) from exc
    except RuntimeError as exc:
        text = error_text(exc)
        if "is_available() is False" in text or ("CUDA" in text and target.type == "cuda"):
            raise CheckpointError(
                f"{file} cannot be loaded onto {target}: CUDA is not available here; "
                "load it onto the CPU with device 'cpu'."
            ) from exc
        raise CheckpointError(f"{file} cannot be loaded ({text}).") from exc
    except (OSError, EOFError, ValueError) as exc:
        raise CheckpointError(
            f"{file} is not a readable checkpoint ({error_text(exc)}); it may be truncated."
        ) from exc
