"""Imported once inside the template process (multiprocessing's forkserver), never elsewhere.

Its imports are what every forked kernel and run shares copy-on-write: torch, torchvision and the
tutor modules those children use. It must not initialise CUDA (a CUDA context does not survive a
fork): importing torch does not, and nothing here touches a device.

The template inherits the starting process's terminal; inside the app that terminal is Textual's
screen, so this module first points the template's own stdout and stderr at ``<home>/template.log``
(or ``PYTORCH_TUTOR_TEMPLATE_LOG``): a warning
printed by torch's C++ code must not paint over the screen.
"""

from __future__ import annotations

import os
import sys


def _quiet_streams() -> None:
    target = os.environ.get("PYTORCH_TUTOR_TEMPLATE_LOG", "")
    try:
        if not target:
            from tutor import paths

            target = str(paths.home_dir() / "template.log")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except (OSError, ValueError):
        fd = os.open(os.devnull, os.O_WRONLY)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own


_quiet_streams()

import importlib  # noqa: E402

import torch  # noqa: E402
import torchvision  # noqa: E402, F401

# What the children run, imported here so they share it too (none of it touches a device).
SHARED_MODULES = (
    "tutor.processes.forked",
    "tutor.kernel.kernel_process",
    "tutor.execution.runner",
    "tutor.execution.recorder",
    "tutor.checks.engine",
    "tutor.training.run_process",
    "tutor.training.trainer",
    "tutor.training.data",
    "tutor.training.dataset_cache",
    "tutor.training.models",
    "tutor.devices.select",
)
for _name in SHARED_MODULES:
    try:
        importlib.import_module(_name)
    except ImportError:  # a child imports it itself, unshared: slower, not wrong
        pass

# The template promises children an uninitialised CUDA: they initialise it after the fork.
assert not torch.cuda.is_initialized()
