"""Device errors: the tutor's own ``DeviceError``.

Plain words for PyTorch's mixed-device errors live in ``tutor.execution.explain_devices``, since
they run inside the kernel child.
"""

from __future__ import annotations


class DeviceError(Exception):
    """A device choice that cannot be honoured; ``str(error)`` is one sentence for the learner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
