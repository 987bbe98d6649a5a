# Shortcuts for scripts/dev.py, which needs nothing but Python and pip.
PYTHON ?= python3

.PHONY: run test check format bench clean

run:
	$(PYTHON) scripts/dev.py run

test:
	$(PYTHON) scripts/dev.py test

check:
	$(PYTHON) scripts/dev.py check

format:
	.venv/bin/ruff check --fix tutor tests benchmarks scripts
	.venv/bin/ruff format tutor tests benchmarks scripts

bench:
	.venv/bin/python benchmarks/startup.py

clean:
	rm -rf .venv build dist .pytest_cache .mypy_cache .ruff_cache
