# Two commands on a fresh machine with Python 3.11:  make demo   and   make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstalled when the project's metadata changes: the runtime alone for the demo, the
# development tools too for the tests.
HASH := $(shell cksum pyproject.toml | cut -d' ' -f1)
RUNTIME := $(VENV)/.runtime-$(HASH)
DEV := $(VENV)/.dev-$(HASH)

.PHONY: demo test lint install clean

$(RUNTIME): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	rm -f $(VENV)/.runtime-*
	touch $(RUNTIME)

$(DEV): $(RUNTIME)
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.dev-*
	touch $(DEV)

install: $(DEV)

## Set everything up (runtime dependencies only) and run the demo plant's month.
demo: $(RUNTIME)
	$(BIN)/backflush demo --close-pack demo-close-pack.html

## Run the whole test suite (memory, SQLite and a local PostgreSQL it installs and starts).
test: $(DEV)
	bash scripts/start-postgres.sh
	bash scripts/install-chromium.sh
	$(BIN)/python -m pytest

## Lint, types, the import contracts, no import cycle and no module over 500 lines.
lint: $(DEV)
	$(BIN)/ruff check src tests tools bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python tools/check_structure.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build
