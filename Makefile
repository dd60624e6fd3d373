# The quick start: `make run` serves montesim; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
SYS_STAMP := $(VENV)/.system-packages

.PHONY: run test test-all install dev system-packages lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml tests/plugins/pyproject.toml examples/heat1d-plugin/pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e ".[dev]" -e tests/plugins -e examples/heat1d-plugin
	touch $(STAMP) $@

# Debian packages the tests use: Chromium for the browser tests (Playwright drives it)
# and promtool to check the Prometheus alert rules.
$(SYS_STAMP): | $(BIN)/python
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium prometheus >/dev/null; \
		else echo "chromium or promtool missing and not root: their tests will skip"; fi; \
	fi
	touch $@

install: $(STAMP)
dev: $(DEV_STAMP) $(SYS_STAMP)

# `make run PORT=8001 DATA=/tmp/ms` serves elsewhere (MONTESIM_PORT is honoured too).
PORT ?= $(or $(MONTESIM_PORT),8000)
DATA ?= data
run: $(STAMP)
	@mkdir -p $(DATA)
	MONTESIM_DATA_DIR=$(DATA) $(BIN)/montesim serve --port $(PORT)

test: dev
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not slow"

# Everything, including the BEM solves of the horn engine (bempp-cl compiles for minutes).
test-all: dev
	$(BIN)/pytest -q -n 2 --dist loadgroup

lint: dev
	$(BIN)/ruff check src tests bench examples
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/mypy

# wrk drives the HTTP load in bench/bench_jobs.py (a Debian package, like Chromium for the tests).
BENCH_STAMP := $(VENV)/.bench-packages
$(BENCH_STAMP): | $(BIN)/python
	@if ! command -v wrk >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else echo "wrk missing and not root: install it (apt-get install wrk) for the throughput figures"; exit 1; fi; \
	fi
	touch $@

bench: dev $(BENCH_STAMP)
	$(BIN)/python bench/bench_jobs.py

clean:
	rm -rf $(VENV) data .pytest_cache
