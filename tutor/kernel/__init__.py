"""The kernel: learner code runs in a long-lived child Python process, never in the app's.

``Kernel`` (client.py) is the parent's handle; ``child.py`` is the process; ``runner.py`` and
``recorder.py`` run inside the child. Importing this package imports neither torch nor Textual.
"""

from tutor.kernel.client import Kernel, KernelError, RunResult, Verdict

__all__ = ["Kernel", "KernelError", "RunResult", "Verdict"]
