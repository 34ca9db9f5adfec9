# Qifang — run `make help` for the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup system-deps brief test lint lab bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

setup: system-deps $(STAMP) ## create .venv with Qifang and its dev tools (and, as root on Debian, the CJK font)

system-deps: ## install fonts-noto-cjk and Pango when missing (root on Debian/Ubuntu only)
	@scripts/ensure-system-deps.sh

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

brief: setup ## produce the default brief from the bundled sample (briefs/)
	$(BIN)/qifang run

test: setup ## run ruff and the test suite
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

lint: setup ## ruff only
	$(BIN)/ruff check src tests

clean: ## remove the virtualenv and caches (keeps briefs/)
	rm -rf $(VENV) .pytest_cache .ruff_cache
