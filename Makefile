# selfjourney: `make serve` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install serve test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "selfjourney needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Run the API on the embedded defaults (SQLite, in-process workers, ./data), printing a key.
serve: $(STAMP)
	@$(BIN)/selfjourney keys bootstrap
	$(BIN)/selfjourney serve

## Lint, type-check and run the whole suite.
test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

## Benchmarks; figures go to docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/bench_grid.py
	$(BIN)/python bench/bench_submit.py
	$(BIN)/python bench/bench_upsample.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
