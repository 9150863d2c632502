# Two commands matter: `make demo` and `make test`. Both build .venv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements.stamp
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
PYTEST_WORKERS ?= 2
DEMO_ARGS ?=

.PHONY: help venv demo test lint format format-check sanity units integration bench clean

help:
	@echo "make demo   - build the whole platform on the local sandbox twice (second run must change nothing), show the dashboard and model URLs and a smoke prediction, tear down (DEMO_ARGS=--era=v1.0 / --keep)"
	@echo "make test   - every check: format, lint, sanity, unit and sandbox integration tests"
	@echo "make bench  - first converge, no-op re-run and critical-path ratio of site.yml on fresh sandboxes (docs/performance.md)"

$(STAMP): requirements.txt requirements-test.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m tests.sandbox.demo $(DEMO_ARGS)

test: $(STAMP)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory format-check lint sanity units integration; rc=$$?; \
	echo "make test: $$(( $$(date +%s) - start ))s, exit $$rc"; exit $$rc

format:
	$(BIN)/isort plugins tests
	$(BIN)/black plugins tests

format-check: $(STAMP)
	$(BIN)/isort --check-only --diff plugins tests
	$(BIN)/black --check --diff plugins tests

lint: $(STAMP)
	$(BIN)/ansible-lint --offline

sanity: $(STAMP)
	bash tests/sanity/run.sh

units: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/unit tests/sandbox

integration: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration

bench: $(STAMP)
	$(BIN)/python -m tests.sandbox.bench

clean:
	rm -rf $(VENV) .pytest_cache tests/output
