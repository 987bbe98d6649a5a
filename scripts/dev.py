"""Set up and run the tutor, its tests and its checks with nothing but Python and pip.

    python3 scripts/dev.py run     # create .venv when missing, install, start the tutor
    python3 scripts/dev.py test    # create .venv when missing, install with test tools, run pytest
    python3 scripts/dev.py check   # ruff (lint, format), mypy, and `pytorch-tutor lint`

Extra arguments go to the tool: `python3 scripts/dev.py test -k quiz`.
The install is redone only when pyproject.toml changed since the last one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("VENV", REPO / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"
LINT_PATHS = ["tutor", "tests", "benchmarks", "scripts"]


def ensure_venv() -> None:
    """Create .venv and install the tutor with its dev tools, unless that is already current."""
    if sys.version_info < (3, 10):  # noqa: UP036 - this script runs under any python3
        sys.exit(f"pytorch-tutor needs Python 3.10 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print(f"Creating {VENV} ...", flush=True)
        venv.create(VENV, with_pip=True)
    pyproject = REPO / "pyproject.toml"
    if STAMP.exists() and STAMP.stat().st_mtime >= pyproject.stat().st_mtime:
        return
    print(
        "Installing pytorch-tutor and its dependencies (PyTorch takes a few minutes) ...",
        flush=True,
    )
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{REPO}[dev]"], check=True)
    STAMP.touch()


def run(*command: str) -> int:
    return subprocess.run(list(command), cwd=REPO).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("run", "test", "check"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    task, extra = argv[0], argv[1:]
    try:
        ensure_venv()
    except subprocess.CalledProcessError as exc:
        print(
            f"Setting up {VENV} failed (exit {exc.returncode}); see the messages above.",
            file=sys.stderr,
        )
        return 1
    if task == "run":
        return run(str(BIN / "pytorch-tutor"), *extra)
    if task == "test":
        return run(str(PYTHON), "-m", "pytest", "-q", *extra)
    for command in (
        [str(BIN / "ruff"), "check", *LINT_PATHS],
        [str(BIN / "ruff"), "format", "--check", *LINT_PATHS],
        [str(BIN / "mypy")],
        [str(BIN / "pytorch-tutor"), "lint"],
    ):
        code = run(*command)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
