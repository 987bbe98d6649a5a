"""The kernel an app shares between its exercise steps: started on first use, closed by its owner.

The owner (the Textual app, a test) creates one ``KernelHost``, may ``warm`` it while the learner
reads (torch loads in the child meanwhile), hands ``get`` to each exercise session, and calls
``close`` when it exits. ``get`` is called from worker threads, so starting is guarded by a lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tutor.kernel import Kernel

# A second child importing torch in the background makes a restart after a crash or timeout cost
# only the replay; tests turn it off to save the import.
SPARE_KERNEL = True


class KernelHost:
    """Owns at most one ``Kernel``; ``spare`` defaults to ``SPARE_KERNEL`` when it starts."""

    def __init__(self, *, spare: bool | None = None) -> None:
        self._spare = spare
        self._lock = threading.Lock()
        self._kernel: Kernel | None = None
        self._closed = False

    @property
    def started(self) -> bool:
        return self._kernel is not None

    def get(self) -> Kernel:
        """The kernel, started now if it was not (returns at once; torch loads in the child)."""
        # Imported here: the app creates its host before its first screen, the kernel after.
        from tutor.kernel import Kernel, KernelError

        with self._lock:
            if self._closed:
                raise KernelError("The tutor is closing; the code was not run.")
            if self._kernel is None:
                spare = SPARE_KERNEL if self._spare is None else self._spare
                self._kernel = Kernel.start(spare=spare)
            return self._kernel

    def warm(self) -> None:
        """Start the kernel ahead of the first exercise; a no-op once started or closed."""
        from tutor.kernel import KernelError

        try:
            self.get()
        except KernelError:
            pass

    def close(self) -> None:
        """Stop the kernel's processes; later ``get`` calls fail with a sentence, not a start."""
        with self._lock:
            self._closed = True
            kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.close()
