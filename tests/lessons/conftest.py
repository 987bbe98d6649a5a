"""Fixtures of the course-content tests: the bundled catalog and a real kernel, one per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tutor.lessons import Catalog, load_catalog

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """All bundled lessons and the glossary, so links into other lessons resolve."""
    return load_catalog([LESSONS])


@pytest.fixture(scope="module")
def kernel() -> Iterator[Any]:
    """A real kernel child (torch imported there), shared by the tests of one module."""
    from tutor.kernel import Kernel

    started = Kernel.start()
    yield started
    started.close()
