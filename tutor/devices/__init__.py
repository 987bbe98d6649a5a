"""Devices: what hardware PyTorch sees, which device to use, and moving work between devices.

Nothing here imports torch at module import. Functions that need torch take it as an argument
(so tests can hand in a patched module) or import it when called; the full report is gathered in
a child process (``python -m tutor.devices.probe_process``) because the first CUDA call can take
seconds.

Modules: ``availability`` (is CUDA / MPS usable, and why not), ``select`` (``resolve_device``,
``describe_device``), ``report_data`` (``gather`` and the probe runner), ``report_text`` (the
report as text), ``checkpoints`` (loading across devices), ``errors`` (``DeviceError``),
``timing`` (fair CPU vs GPU timing), ``watch`` (which availability questions code asked).
"""

from tutor.devices.errors import DeviceError

__all__ = ["DeviceError"]
