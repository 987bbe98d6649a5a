"""``pytorch-tutor doctor [--json]``: what PyTorch sees (versions, CUDA, GPUs, MPS, CPU, auto).

The report is gathered in a child process, as in the app. ``--json`` prints it as one JSON
document whose keys are documented in docs/devices.md. Exit 0; 1 only when the probe itself fails.
"""

from __future__ import annotations

import argparse
import json

from tutor.cli.common import fail


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "doctor",
        help="report what PyTorch sees: versions, CUDA, GPUs and memory, MPS, CPU threads",
        description="Report the Python, torch and torchvision versions, CUDA and cuDNN, each GPU "
        "with its memory, MPS, the CPU and the device that auto would pick.",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def run(args: argparse.Namespace) -> int:
    from tutor.devices.report_data import ProbeError, run_probe
    from tutor.devices.report_text import report_text

    try:
        report = run_probe()
    except ProbeError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(report_text(report))
    return 0
