# docqa — `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
# A CPU build of torch; a bare `torch` would pull a multi-GB CUDA build. Set TORCH_INDEX to
# e.g. https://download.pytorch.org/whl/cpu where your pip cannot find a CPU wheel by itself.
TORCH_VERSION ?= 2.13.0
TORCH_INDEX ?=
PORT ?= 8000
DATA_DIR ?= data
BASE_URL ?=
BENCH_ARGS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: help install run test test-unit test-integration lint format openapi bench up down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==$(TORCH_VERSION) $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/pip install -q -e '.[worker,local,dev]'
	touch $@

install: $(VENV)/.installed ## create .venv and install docqa with the embedded defaults and dev tools

run: install ## install, then start the whole service (redis, chroma, llama.cpp, API, worker); Ctrl-C stops it
	$(BIN)/docqa run --data-dir $(DATA_DIR) --port $(PORT)

test: install ## run every test: unit, deployment checks, then integration against stacks the tests start
	$(BIN)/pytest tests -v -p no:cacheprovider

test-unit: install ## unit and deployment checks only (no servers)
	$(BIN)/pytest tests/unit tests/deploy -q

test-integration: install ## integration tests; BASE_URL=http://host:port runs them against that stack
	BASE_URL=$(BASE_URL) $(BIN)/pytest tests/integration -v

lint: install ## ruff (check + format), mypy and the layer rules (import-linter)
	$(BIN)/ruff check services tests bench
	$(BIN)/ruff format --check services tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix services tests bench
	$(BIN)/ruff format services tests bench

openapi: install ## regenerate openapi/openapi.json from the app
	$(BIN)/docqa openapi > openapi/openapi.json

bench: install ## print and record ingest/search/memory/ask/load figures (BENCH_ARGS: see bench --help)
	$(BIN)/python -m bench $(BENCH_ARGS)

up: ## docker compose up (GPU host; see docs/operations.md)
	docker compose up -d

down: ## docker compose down
	docker compose down

clean: ## remove the venv and local data
	rm -rf $(VENV) $(DATA_DIR)
