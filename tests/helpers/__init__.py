"""Shared test helpers, imported as ``helpers.<module>`` (``tests/`` is on pytest's path).

``fake_kernel`` (a kernel that answers at once), ``fulldisk`` (a real full or read-only disk),
``tiny_data`` (a tiny Fashion-MNIST), ``runs`` (fake run folders), ``apps`` (a host app for one
screen or a few widgets) and ``waiting`` (wait for a condition in a Pilot test or a plain test).
"""
