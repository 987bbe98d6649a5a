"""The hook through which the warm template offers forked processes to the layers below it.

The template (``tutor.processes``) preloads the kernel's and the trainer's modules, so it sits
above both packages; they must not import it. Instead the template installs itself here when it
is imported, and the kernel and the run launcher ask this module. With nothing installed the
template is ``off``: every process then starts as a fresh interpreter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol


class WarmTemplate(Protocol):
    """What the kernel and the run launcher need of the warm template."""

    def state(self) -> str:
        """off, starting, ready or failed."""
        ...

    def wait(self, timeout: float) -> bool:
        """Wait for a starting template; True when it is ready."""
        ...

    def launch_run(self, run_dir: Path, resume: bool) -> int | None:
        """Fork a detached training run; its pid, or None when not ready."""
        ...

    def popen_kernel(self, threads: int) -> Any:
        """A kernel child forked from the template, or None when not ready."""
        ...


_template: WarmTemplate | None = None


def install(template: WarmTemplate) -> None:
    """Offer ``template``'s forks to the kernel and the run launcher (called by the template)."""
    global _template
    _template = template


def state() -> str:
    """The installed template's state; ``off`` when none is installed."""
    return _template.state() if _template is not None else "off"


def wait(timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for a starting template; True when one is ready."""
    return _template.wait(timeout) if _template is not None else False


def launch_run(run_dir: Path, resume: bool) -> int | None:
    """A training run forked from the template; its pid, or None (no template, or not ready)."""
    return _template.launch_run(run_dir, resume) if _template is not None else None


def popen_kernel(threads: int) -> Any:
    """A kernel child forked from the template; None when there is none ready."""
    return _template.popen_kernel(threads) if _template is not None else None
