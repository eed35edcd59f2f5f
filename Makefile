# Two commands on a fresh machine with Python 3.11:  make demo   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstalled when the project's metadata changes.
BUILD_INPUTS := pyproject.toml
STAMP := $(VENV)/.installed-$(shell cat $(BUILD_INPUTS) | cksum | cut -d' ' -f1)

.PHONY: demo test lint install clean

$(STAMP): $(BUILD_INPUTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Set everything up and run the demo plant's month.
demo: $(STAMP)
	$(BIN)/backflush demo

## Run the whole test suite (memory, SQLite and a local PostgreSQL it installs and starts).
test: $(STAMP)
	bash scripts/start-postgres.sh
	$(BIN)/python -m pytest

## Lint, types and the layer contract.
lint: $(STAMP)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build
