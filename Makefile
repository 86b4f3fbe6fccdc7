# selfjourney: `make serve` and `make test` do all the set-up on a fresh machine.
# `make serve` installs only what the embedded defaults need; `make serve ENGINE=diffusers`
# adds the diffusers engine. `make test` adds the dev tools and the diffusers engine. torch is
# pinned to 2.13.0 (the CPU wheel where one is on disk; elsewhere pass e.g.
# TORCH_INDEX=https://download.pytorch.org/whl/cpu to avoid a CUDA build).
#
#   make serve                                               # procedural engine on :8000
#   make serve PORT=8080 ENGINE=diffusers MODEL=stabilityai/sd-turbo
PYTHON      ?= python3
VENV        ?= .venv
TORCH_INDEX ?=
PORT        ?=
ENGINE      ?=
MODEL       ?=
PYTEST_WORKERS ?= 2
BIN         := $(VENV)/bin
STAMP       := $(VENV)/.installed-stamp
DIFFUSERS_STAMP := $(VENV)/.installed-diffusers-stamp
DEV_STAMP   := $(VENV)/.installed-dev-stamp

.PHONY: install serve test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "selfjourney needs Python >= 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $(STAMP)

$(DIFFUSERS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet 'torch==2.13.0' $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install --quiet -e '.[diffusers]'
	@touch $(DIFFUSERS_STAMP)

$(DEV_STAMP): $(DIFFUSERS_STAMP)
	$(BIN)/pip install --quiet -e '.[dev,diffusers]'
	@touch $(DEV_STAMP)

install: $(STAMP)

## Run the API on the embedded defaults (SQLite, in-process workers, ./data), printing a key.
## PORT=, ENGINE= (procedural | diffusers) and MODEL= (a hub id or a directory) pass through.
serve: $(STAMP) $(if $(filter diffusers,$(ENGINE)),$(DIFFUSERS_STAMP))
	@$(BIN)/selfjourney keys bootstrap
	$(BIN)/selfjourney serve $(if $(PORT),--port $(PORT)) $(if $(ENGINE),--engine $(ENGINE)) $(if $(MODEL),--model $(MODEL))

## Lint (ruff, and the layering with import-linter), type-check and run the whole suite.
test: lint typecheck unit

lint: $(DEV_STAMP)
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

## PYTEST_WORKERS=0 runs the suite in one process.
unit: $(DEV_STAMP)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

## Benchmarks; figures go to docs/benchmarks.md.
bench: $(DEV_STAMP)
	$(BIN)/python bench/bench_grid.py
	$(BIN)/python bench/bench_submit.py
	$(BIN)/python bench/bench_upsample.py
	$(BIN)/python bench/bench_upscale.py
	$(BIN)/python bench/bench_openai.py
	$(BIN)/python bench/bench_diffusers.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
