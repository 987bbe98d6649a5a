"""The kernel: learner code runs in a long-lived child Python process, never in the app's.

``Kernel`` (client.py) is the parent's handle; ``kernel_process.py`` is the child process, which
runs cells with ``tutor.execution`` and checks them with ``tutor.checks``. Importing this package
imports neither torch nor Textual.
"""

from tutor.kernel.client import Kernel, KernelError, RunResult, Verdict

__all__ = ["Kernel", "KernelError", "RunResult", "Verdict"]
