"""``python -m tutor``: the same entry point as the ``pytorch-tutor`` command."""

from tutor.cli import main

raise SystemExit(main())
