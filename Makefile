# Qifang — run `make help` for the targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup system-deps brief batch desk test lint lab bench clean

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

test: setup ## run ruff and the test suite (as root on Debian, installs Chromium and LibreOffice Writer for the browser and draft tests)
	@scripts/ensure-system-deps.sh --test
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

batch: setup ## one brief per region of the bundled sample, and an index page
	$(BIN)/qifang batch --by region

desk: setup ## the office desk on the bundled sample at http://127.0.0.1:8000/ (prints a first admin password)
	$(BIN)/qifang serve --data desk-data --sample $(DESK_ARGS)

lab: setup ## open JupyterLab on notebooks/ with this environment as the kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

bench: setup ## time the pipeline, the indicators at 10k-1M visits and a batch (~15 min; not a test)
	$(BIN)/python benchmarks/bench.py

lint: setup ## ruff only
	$(BIN)/ruff check src tests

clean: ## remove the virtualenv and caches (keeps briefs/)
	rm -rf $(VENV) .pytest_cache .ruff_cache
