"""``python -m tutor.devices.probe_process``: print the device report as one JSON line on stdout.

Runs as a child of the app or of ``doctor``, so CUDA's start-up time and anything it writes to the
terminal stay out of the parent. Exit 1 with one sentence on stderr when torch cannot be imported.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    """Gather and print the report; 0 on success, 1 with a sentence on stderr otherwise."""
    try:
        import torch
    except Exception as exc:  # a missing or broken install: say so in one sentence
        print(f"PyTorch cannot be imported ({type(exc).__name__}: {exc}).", file=sys.stderr)
        return 1
    from tutor.devices.report_data import gather

    report = gather(torch)
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
