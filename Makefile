# Two commands matter: `make demo` and `make test`. Both build .venv when it is missing.
SHELL := /bin/bash
# The controller Python: the newest 3.13 or 3.12 found (on PATH, then under pyenv) runs the newest Ansible
# (ansible 14, ansible-core 2.21); without one, python3.11 runs ansible 12 (ansible-core 2.19).
# `make PYTHON=python3.11 ...` picks the older one on purpose (use another VENV= beside it).
PYTHON ?= $(shell for v in 3.13 3.12; do \
	  for p in "$$(command -v python$$v)" "$$(pyenv root 2>/dev/null)"/versions/$$v*/bin/python$$v; do \
	    "$$p" -c '' 2>/dev/null && { echo "$$p"; exit 0; }; done; done; echo python3.11)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.requirements.stamp
# The oldest ansible-core we support (requires_ansible in meta/runtime.yml): sanity and unit tests run there too.
COMPAT_PYTHON ?= python3.11
COMPAT_VENV := .venv-2.19
export PATH := $(CURDIR)/$(BIN):$(PATH)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
PYTEST_WORKERS ?= 2
# The collection's unit tests and the stand-ins' own tests (tests/sandbox/tests).
UNIT_TESTS ?= tests/unit tests/sandbox
DEMO_ARGS ?=

.PHONY: help venv demo test lint format format-check sanity units integration compat bench bench-compare clean

help:
	@echo "make demo   - build the whole platform on the local sandbox twice (second run must change nothing), show the dashboard and model URLs and a smoke prediction, tear down (DEMO_ARGS=--era=v1.0 / --keep)"
	@echo "make test   - every check: format, lint, sanity, unit and sandbox integration tests on the newest Ansible, sanity and unit tests on ansible-core 2.19"
	@echo "make bench  - first converge, no-op re-run and critical-path ratio of site.yml on fresh sandboxes (docs/performance.md)"

$(STAMP): requirements.txt requirements-test.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found (set PYTHON=...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "$(VENV): $$($(BIN)/python --version)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-test.txt
	touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m tests.sandbox.tools.demo $(DEMO_ARGS)

test: $(STAMP)
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory format-check lint sanity units integration compat; rc=$$?; \
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
	bash tests/sanity/run.sh --venv $(VENV)

units: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(UNIT_TESTS)

integration: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) tests/integration

# Sanity and the collection's unit tests on the oldest supported ansible-core, in a venv of its own
# (the stand-ins' own tests do not depend on ansible-core and run once, in `units`).
compat:
	$(MAKE) --no-print-directory VENV=$(COMPAT_VENV) PYTHON=$(COMPAT_PYTHON) UNIT_TESTS=tests/unit sanity units

bench: $(STAMP)
	$(BIN)/python -m tests.sandbox.tools.bench

# site.yml of this tree against an older revision's, side by side on fresh sandboxes (AGAINST=<rev> ROUNDS=2).
AGAINST ?= 59fba54
ROUNDS ?= 2
bench-compare: $(STAMP)
	$(BIN)/python -m tests.sandbox.tools.bench_compare --against $(AGAINST) --rounds $(ROUNDS)

clean:
	rm -rf .venv $(COMPAT_VENV) .pytest_cache tests/output
