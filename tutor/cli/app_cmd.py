"""Start the Textual app (the default when ``pytorch-tutor`` is given no command)."""

from __future__ import annotations

import multiprocessing.resource_tracker
import sys


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
    app = TutorApp(start=start)
    try:
        app.run()
    finally:
        # The app closes its kernel when it unmounts; this also covers an app that crashed
        # before unmounting, so no child is left running a learner's endless loop.
        app.kernels.close()
    if app.unsaved_report:
        # After the app has given the terminal back, so the list stays on screen.
        print(app.unsaved_report, file=sys.stderr)
    return 0
