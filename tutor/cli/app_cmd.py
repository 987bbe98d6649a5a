"""Start the Textual app (the default when ``pytorch-tutor`` is given no command)."""

from __future__ import annotations

import multiprocessing.resource_tracker


def run_app(start: str | None = None) -> int:
    """Run the app; ``start`` may name a first screen ("quiz", "runs", "devices")."""
    # Textual swaps sys.stdout/stderr for objects without a real fileno, which breaks
    # multiprocessing's helpers once the app runs: start the tracker first.
    multiprocessing.resource_tracker.ensure_running()
    from tutor.paths import home_dir

    # A data folder that cannot be made is reported by the CLI in one sentence, before any screen.
    home_dir()
    # The app starts the warm template after its first frame: it imports torch in its own
    # process, and kernels and runs fork from it in milliseconds (it ends when the app ends).
    from tutor.processes import template
    from tutor.ui.app import TutorApp

    template.request()
    TutorApp(start=start).run()
    return 0
