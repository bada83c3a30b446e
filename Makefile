# Two entry points for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

.PHONY: run test lint bench install install-test clean chromium screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files make a re-run skip pip unless pyproject.toml changed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

run: install
	PORT=$(PORT) $(BIN)/pat-manager run

# The browser and extension tests drive Debian's Chromium (never a downloaded browser build).
test: install-test chromium
	$(BIN)/python -m pytest

chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# PNGs of the main pages at 375 and 1280 px, from a demo account, for the README.
screenshots: install-test chromium
	$(BIN)/python -m tests.browser.screenshots

lint: install-test
	$(BIN)/ruff format pat_manager tests bench
	$(BIN)/ruff check --fix pat_manager tests bench

# wrk comes from Debian's packages; the benchmarks need the test helpers too.
bench: install-test
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache
