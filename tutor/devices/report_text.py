"""The device report in words (built from ``report_data``): sections of short lines, shared by
``doctor`` and the app's panel."""

from __future__ import annotations

from typing import Any

from tutor.devices.threads import cpu_text, most_threads, with_cpu_text
from tutor.distributed.report import distributed_lines

Section = tuple[str, list[str]]


def gib(size: int | None) -> str:
    """Bytes as GiB with one decimal, e.g. ``79.1 GiB``; ``?`` when unknown."""
    return "?" if size is None else f"{size / 2**30:.1f} GiB"


def cudnn_text(version: int | None) -> str:
    """cuDNN's integer version in dotted form: 92400 is 9.24.0 (since 9), 8902 is 8.9.2."""
    if not version:
        return "none"
    if version >= 90000:
        return f"{version // 10000}.{version % 10000 // 100}.{version % 100}"
    return f"{version // 1000}.{version % 1000 // 100}.{version % 100}"


def _build_line(report: dict[str, Any]) -> str:
    if report.get("cuda_version"):
        return f"built with CUDA {report['cuda_version']}, cuDNN {cudnn_text(report.get('cudnn_version'))}"
    if report.get("hip_version"):
        return f"built with ROCm (HIP {report['hip_version']})"
    return "a CPU-only build: torch.version.cuda is None"


def _gpu_lines(gpu: dict[str, Any]) -> list[str]:
    head = f"cuda:{gpu.get('index')}"
    if gpu.get("error"):
        return [f"{head}  cannot be queried: {gpu['error']}"]
    return [
        f"{head}  {gpu.get('name')}, compute capability {gpu.get('capability')}, "
        f"{gpu.get('multiprocessors')} multiprocessors",
        f"        memory {gib(gpu.get('total_memory'))} total, {gib(gpu.get('free_memory'))} free",
    ]


def _cuda_lines(report: dict[str, Any]) -> list[str]:
    if report.get("cuda_error"):
        lines = [f"broken: {report['cuda_error']}"]
        if report.get("fallback"):
            lines.append(f"{report['fallback']}.")
        return lines
    if not report.get("cuda_available"):
        return [f"not available: {report.get('cuda_reason') or 'no reason given'}"]
    count = int(report.get("gpu_count") or 0)
    lines = [f"available: {count} GPU" + ("" if count == 1 else "s")]
    for gpu in report.get("gpus") or []:
        lines.extend(_gpu_lines(gpu))
    return lines


def _mps_line(report: dict[str, Any]) -> str:
    if report.get("mps_available"):
        return "available"
    if report.get("mps_built"):
        return "built in, but not available on this machine"
    return "not built into this PyTorch (MPS is for Apple GPUs)"


def _cores(report: dict[str, Any]) -> int:
    cpu = report.get("cpu") or {}
    return int(cpu.get("usable_cores") or cpu.get("logical_cores") or 1)


def training_cpu_text(report: dict[str, Any]) -> str:
    """What a run on the CPU will take, as the training screen says it: ``cpu, up to 1 thread of
    2 cores (1 left free for the UI)``."""
    cores = _cores(report)
    return cpu_text(most_threads(cores), cores, at_most=True)


def auto_text(report: dict[str, Any]) -> str:
    """What ``auto`` picks; for the CPU, its threads as training will use them."""
    description = str(report.get("auto_description") or report.get("auto_device"))
    cores = _cores(report)
    return with_cpu_text(description, most_threads(cores), cores, at_most=True)


def _cpu_lines(report: dict[str, Any]) -> list[str]:
    cpu = report.get("cpu") or {}
    model = cpu.get("model") or "unknown model"
    return [
        f"{model}: {cpu.get('logical_cores')} logical cores, {cpu.get('usable_cores')} usable "
        "by this process",
        # Not torch's default (every core): what a run takes, in the training screen's words.
        f"training on it: {training_cpu_text(report)}",
    ]


def report_sections(report: dict[str, Any]) -> list[Section]:
    """The report as (heading, lines) pairs, in the order a learner reads them."""
    versions = (
        f"Python {report.get('python')}, torch {report.get('torch')}, "
        f"torchvision {report.get('torchvision') or 'not installed'}"
    )
    sections: list[Section] = [
        ("Versions", [versions, _build_line(report)]),
        ("CUDA", _cuda_lines(report)),
        ("MPS", [_mps_line(report)]),
        ("CPU", _cpu_lines(report)),
        ("auto picks", [auto_text(report)]),
    ]
    if isinstance(report.get("distributed"), dict):
        gpus = int(report.get("gpu_count") or 0)
        sections.append(("Several devices", distributed_lines(report["distributed"], gpus)))
    warnings = report.get("warnings") or []
    if warnings:
        sections.append(("Warnings", [str(w) for w in warnings]))
    return sections


def report_text(report: dict[str, Any]) -> str:
    """The whole report as plain text, headings flush left and their lines indented."""
    out: list[str] = []
    for heading, lines in report_sections(report):
        out.append(heading)
        out.extend(f"  {line}" for line in lines)
    return "\n".join(out)
