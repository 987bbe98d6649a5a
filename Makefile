# Two commands matter: `make run` starts the tutor, `make test` runs the tests.
# Each creates .venv and installs the tutor into it when missing.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test check lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/pytorch-tutor

test: $(STAMP)
	$(BIN)/python -m pytest -q

check: $(STAMP)
	$(BIN)/ruff check tutor tests benchmarks scripts
	$(BIN)/ruff format --check tutor tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/pytorch-tutor lint

format: $(STAMP)
	$(BIN)/ruff check --fix tutor tests benchmarks scripts
	$(BIN)/ruff format tutor tests benchmarks scripts

bench: $(STAMP)
	$(BIN)/python benchmarks/startup.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
