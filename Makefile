# The project's commands. `make test` is the README's test command and what CI runs.
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")

.PHONY: test setup lint format types contracts suite

test: setup lint types contracts suite

setup:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
	@$(UV) sync --quiet --frozen

lint:
	$(UV) run ruff check src tests
	$(UV) run ruff format --check src tests

format:
	$(UV) run ruff format src tests
	$(UV) run ruff check --fix src tests

types:
	$(UV) run mypy

contracts:
	$(UV) run lint-imports

suite:
	$(UV) run pytest

.PHONY: run
run: setup
	$(UV) run airgap up

# Every benchmark in benchmarks/, one after another, then one table of headline figures
# with their same-run baselines (record it in docs/performance.md).
.PHONY: bench
bench: setup
	$(UV) run python benchmarks/run_all.py
